/**
 * The sweep worker (Node worker_threads; built to dist/worker.js): tfjs's wasm backend and
 * segloss's kernels set up once, then runs trained one after another, their log rows sent back in
 * transferred batches. Exposed with Comlink.
 */
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { parentPort } from 'node:worker_threads';
import { setBackend } from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import '../tfjs/core_gradients.js';
import { setupWasmKernels } from '../setup.js';
import type { RunConfig } from '../experiment/config.js';
import { trainRun, type RunOutcome, type StepLog } from '../experiment/train.js';
import { encodeRows } from './protocol.js';

/** Rows per batch, and the longest a batch waits, so that progress and files stay fresh. */
const BATCH_ROWS = 250;
const BATCH_MS = 500;

export type RowSink = (rows: Float64Array) => Promise<void> | void;

const api = {
  async init(): Promise<string> {
    await setBackend('wasm');
    const { variant } = await setupWasmKernels();
    return variant;
  },

  /** Trains one run; `sink` receives every row, in order, before this resolves. */
  async run(config: RunConfig, sink: RowSink): Promise<RunOutcome> {
    const run = trainRun(config);
    let batch: StepLog[] = [];
    let since = Date.now();
    const flush = async () => {
      if (batch.length === 0) return;
      const data = encodeRows(batch, config.loggedLosses);
      batch = [];
      since = Date.now();
      await sink(Comlink.transfer(data, [data.buffer]));
    };
    for (;;) {
      const next = run.next();
      if (next.done) {
        await flush();
        return next.value;
      }
      batch.push(next.value);
      if (batch.length >= BATCH_ROWS || Date.now() - since >= BATCH_MS) await flush();
    }
  },
};

export type WorkerApi = typeof api;

Comlink.expose(api, nodeEndpoint(parentPort!));
