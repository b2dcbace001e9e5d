/**
 * The sweep worker for Node worker_threads (built to dist/worker.js): workerApi (api.ts) exposed
 * with Comlink over the thread's parent port.
 */
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { parentPort } from 'node:worker_threads';
import { workerApi } from './api.js';

export type { WorkerApi, WorkerInitOptions, RowSink } from './api.js';

Comlink.expose(workerApi, nodeEndpoint(parentPort!));
