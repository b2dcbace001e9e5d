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
import { laneEngineAvailable, prepareLaneEngine, trainLanes } from '../engine/lanes.js';
import { benchmarkLosses, type LossBenchRow, type Shape4 } from '../bench/losses.js';
import type { KernelVariant } from '../wasm/module.js';
import { encodeRows } from './protocol.js';

/** Rows per batch, and the longest a batch waits, so that progress and files stay fresh. */
const BATCH_ROWS = 250;
const BATCH_MS = 500;

export type RowSink = (rows: Float64Array) => Promise<void> | void;
/** Rows of run `lane` of a group (its index in the configs given to `runGroup`). */
export type LaneRowSink = (lane: number, rows: Float64Array) => Promise<void> | void;

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
  /** The lockstep engine (src/engine/lanes.ts) runs here: `runGroup` may be given up to 4 runs. */
  lanes: boolean;
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
    const lanes = laneEngineAvailable();
    if (lanes) await prepareLaneEngine();
    return {
      variant, threads: false, lanes,
      crossOriginIsolated: (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true,
    };
  },

  /**
   * Trains one run on tfjs ops (the reference path; a U-Net run with segloss/models, loaded for
   * it); `sink` receives every row, in order, before this resolves.
   */
  async run(config: RunConfig, sink: RowSink): Promise<RunOutcome> {
    const run = config.model ? (await import('../models/sweep_run.js')).trainUNetRun(config) : trainRun(config);
    const out = batcher(config, (data) => sink(data));
    for (;;) {
      const next = await run.next(); // a U-Net run's generator is async (it may read files)
      if (next.done) {
        await out.flush();
        return next.value;
      }
      const sent = out.add(next.value);
      if (sent) await sent;
    }
  },

  /**
   * Trains 1–4 runs of one architecture (equal `laneGroupKey`s) together in the lockstep engine;
   * `sink` receives every row of run `lane`, in order, before this resolves.
   */
  async runGroup(configs: RunConfig[], sink: LaneRowSink): Promise<RunOutcome[]> {
    const run = trainLanes(configs);
    const outs = configs.map((config, lane) => batcher(config, (data) => sink(lane, data)));
    for (;;) {
      const next = run.next();
      if (next.done) {
        for (const out of outs) await out.flush();
        return next.value;
      }
      for (let lane = 0; lane < outs.length; lane++) {
        const row = next.value[lane];
        const sent = row ? outs[lane].add(row) : outs[lane].flush();
        if (sent) await sent;
      }
    }
  },

  /** The fused-vs-tfjs-ops loss benchmark (src/bench/losses.ts) in this worker; lines go to `print`. */
  async benchmarkLosses(shapes: Shape4[], print?: (line: string) => void): Promise<LossBenchRow[]> {
    return benchmarkLosses(shapes, (line) => { void print?.(line); });
  },
};

export type WorkerApi = typeof workerApi;

/** Collects a run's rows and sends them in transferred batches (every BATCH_ROWS rows or BATCH_MS). */
function batcher(config: RunConfig, send: (data: Float64Array) => Promise<void> | void) {
  let batch: StepLog[] = [];
  let since = Date.now();
  const flush = async () => {
    if (batch.length === 0) return;
    const data = encodeRows(batch, config.loggedLosses);
    batch = [];
    since = Date.now();
    await send(Comlink.transfer(data, [data.buffer]));
  };
  return {
    flush,
    /** Adds a row; returns the send's promise when the batch went out (undefined otherwise: no await per row). */
    add(row: StepLog): Promise<void> | undefined {
      batch.push(row);
      return batch.length >= BATCH_ROWS || Date.now() - since >= BATCH_MS ? flush() : undefined;
    },
  };
}
