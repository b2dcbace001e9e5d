/**
 * What a sweep worker does, in any environment (Node worker_threads: worker.ts; browser module
 * Web Workers: worker.browser.ts): tfjs's wasm backend and segloss's kernels set up once, then
 * runs trained one after another, their log rows sent back in transferred batches.
 */
import * as Comlink from 'comlink';
import { env, setBackend } from '@tensorflow/tfjs-core';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import '../tfjs/core_gradients.js';
import { setupWasmKernels } from '../setup.js';
import type { RunConfig } from '../experiment/config.js';
import { trainRun, type RunOutcome, type StepLog } from '../experiment/train.js';
import { benchmarkLosses, type LossBenchRow, type Shape4 } from '../bench/losses.js';
import type { KernelVariant } from '../wasm/module.js';
import { encodeRows } from './protocol.js';

/** Rows per batch, and the longest a batch waits, so that progress and files stay fresh. */
const BATCH_ROWS = 250;
const BATCH_MS = 500;

export type RowSink = (rows: Float64Array) => Promise<void> | void;

export interface WorkerInitOptions {
  /**
   * Where tfjs-backend-wasm's .wasm files are, as `setWasmPaths` takes it: a URL prefix ending in
   * '/' or a map of file names to URLs. Browser workers get the folder of their own script by
   * default; Node finds them in node_modules.
   */
  wasmPaths?: string | Record<string, string>;
}

export interface WorkerInfo {
  variant: KernelVariant;
  /** The tfjs-backend-wasm build: threads are off in sweep workers (the sweep is the parallelism). */
  threads: boolean;
  crossOriginIsolated: boolean;
}

export const workerApi = {
  async init(options: WorkerInitOptions = {}): Promise<WorkerInfo> {
    if (options.wasmPaths != null) setWasmPaths(options.wasmPaths as never);
    // One run per worker, the workers in parallel: tfjs's threaded build would only oversubscribe
    // the cores (and it computes in another order). Its flag must be set before the backend starts.
    env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    if (!(await setBackend('wasm'))) throw new Error('segloss worker: tfjs could not start its wasm backend');
    const { variant } = await setupWasmKernels();
    return {
      variant, threads: false,
      crossOriginIsolated: (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true,
    };
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

  /** The fused-vs-tfjs-ops loss benchmark (src/bench/losses.ts) in this worker; lines go to `print`. */
  async benchmarkLosses(shapes: Shape4[], print?: (line: string) => void): Promise<LossBenchRow[]> {
    return benchmarkLosses(shapes, (line) => { void print?.(line); });
  },
};

export type WorkerApi = typeof workerApi;
