/**
 * The demo's U-Net worker (build/web/unet-worker.js): a tfjs-layers U-Net (segloss/models) trained
 * on tfjs's wasm backend with segloss's kernels, off the page's main thread, on synthetic shapes or
 * on a folder of the user's images (checked and read here, segloss/data); and the U-Net step
 * benchmark, `segloss bench unet` in a browser. tfjs runs its single-threaded build here; on a
 * cross-origin isolated page a step runs on several threads (options.threads; src/parallel/web.ts),
 * each a Web Worker this worker starts.
 *
 * As in the sweep's worker (src/workers/worker.browser.ts), the Comlink listener is attached before
 * the implementation loads: its imports include a top-level await, and a module worker drops the
 * messages that arrive while its evaluation awaits with no listener.
 */
import * as Comlink from 'comlink';
import type { UNetWorkerApi } from './unet_train.js';

const loaded = import('./unet_train.js').then((m) => m.unetWorkerApi);

const api: UNetWorkerApi = {
  init: async () => (await loaded).init(),
  train: async (options, onUpdate, files) => (await loaded).train(options, onUpdate, files),
  checkData: async (name, files, onProgress) => (await loaded).checkData(name, files, onProgress),
  batches: async (files, options, steps, batchSize) => (await loaded).batches(files, options, steps, batchSize),
  stop: async () => (await loaded).stop(),
  bench: async (options, print) => (await loaded).bench(options, print),
};

Comlink.expose(api);
