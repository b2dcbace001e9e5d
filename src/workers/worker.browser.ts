/**
 * The sweep worker for browsers (built to dist/browser/worker.js, tfjs bundled in, so it loads as
 * a module Web Worker from any path with no bundler): workerApi (api.ts) exposed with Comlink on
 * the worker's global scope. tfjs-backend-wasm's .wasm files are looked for beside this script
 * unless `init({ wasmPaths })` says otherwise.
 *
 * The listener is attached before anything else runs: api.ts's imports include a top-level await
 * (tfjs-core's gradients, src/tfjs/core_gradients.ts), and a module worker drops the messages that
 * arrive while its evaluation awaits with no listener attached. So api.ts is imported lazily and
 * every call waits for it.
 */
import * as Comlink from 'comlink';
import type { WorkerApi, WorkerInitOptions } from './api.js';

const here = new URL('./', import.meta.url).href;
const loaded = import('./api.js').then((m) => m.workerApi);

const api: WorkerApi = {
  init: async (options: WorkerInitOptions = {}) => (await loaded).init({ wasmPaths: here, ...options }),
  run: async (config, sink) => (await loaded).run(config, sink),
  runGroup: async (configs, sink) => (await loaded).runGroup(configs, sink),
  benchmarkLosses: async (shapes, print) => (await loaded).benchmarkLosses(shapes, print),
};

Comlink.expose(api);
