/**
 * runSweep for browsers: the runs of a sweep spec trained in parallel module Web Workers, their
 * rows kept in a MemorySweepStore as they come. Same plan, scheduling, failure handling, progress
 * and abort as Node's runSweep (both are pool.ts); what differs is the worker (a module Web Worker
 * running dist/browser/worker.js) and the store (memory instead of a directory).
 *
 * ```js
 * import { runSweep, renderReport } from 'segloss/browser';
 * const { store } = await runSweep({ preset: 'quick', steps: 500 }, {
 *   workerUrl: new URL('segloss/browser/worker.js', import.meta.url), // or where you serve it
 *   onProgress: (p) => console.log(p.runId, p.step),
 * });
 * const report = await renderReport(store.runLogs());
 * ```
 */
import type { Endpoint } from 'comlink';
import type { StepLog } from '../experiment/train.js';
import type { PlannedRun } from '../experiment/presets.js';
import type { WorkerInitOptions } from '../workers/api.js';
import { MemorySweepStore } from './memory_store.js';
import { ConfigError } from '../experiment/config.js';
import { resolveSweep, samePlan, type Shard, type SweepSpec } from './plan.js';
import { checkEngine, checkWorkerCount, trainRuns, WorkerDied, type SpawnWorker, type SweepEngine, type SweepProgress } from './pool.js';
import type { FailedRun, RunSummary } from './summary.js';

/** How the browser's runSweep trains: its worker script, workers, store, shard, callbacks and engine. */
export interface BrowserSweepOptions {
  /**
   * The worker script, dist/browser/worker.js of this package as served by your app (a
   * self-contained module: tfjs is bundled in). tfjs-backend-wasm's .wasm files must be served
   * beside it, or located by `wasmPaths`.
   */
  workerUrl: URL | string;
  /** Where tfjs-backend-wasm's .wasm files are (setWasmPaths's argument); default: beside the worker. */
  wasmPaths?: WorkerInitOptions['wasmPaths'];
  /** Parallel workers (default: navigator.hardwareConcurrency, else 2). */
  workers?: number;
  /** Where results go (default: a new MemorySweepStore). Pass an aborted sweep's store with `resume`. */
  store?: MemorySweepStore;
  /** Continue the sweep held by `store`: complete runs are kept, the others (re)done. */
  resume?: boolean;
  /** Run only shard `current` of `total`, counted from 1 (as Node's runSweep and `--shard 1/3`). */
  shard?: Shard;
  signal?: AbortSignal;
  /** After each batch of rows a run stores: the run's step and losses, the run counts and an ETA. */
  onProgress?: (progress: SweepProgress) => void;
  /** Every batch of rows as it arrives (for live curves). */
  onRows?: (run: PlannedRun, rows: readonly StepLog[]) => void;
  /** Messages that are not errors (runs another sweep on the same store holds). */
  onNotice?: (message: string) => void;
  /**
   * 'lanes' (default): the lockstep engine (src/engine/lanes.ts); 'tfjs': every run on tfjs ops.
   * The store records it: a sweep is resumed with the engine it began with.
   */
  engine?: SweepEngine;
}

/** What the browser's runSweep ends with: its store, its plan, the complete and failed runs, and counts. */
export interface BrowserSweepResult {
  store: MemorySweepStore;
  /** Every planned run of this sweep (or shard), in plan order. */
  plan: PlannedRun[];
  /** Every complete run, in plan order. */
  runs: RunSummary[];
  failed: FailedRun[];
  resumed: number;
  /** Runs this call trained. */
  trained: number;
  aborted: boolean;
}

/** Module Web Workers; an uncaught error in one ends it, as a dead worker_thread does in Node. */
function webWorkers(workerUrl: URL | string): SpawnWorker {
  return () => {
    const worker = new Worker(workerUrl, { type: 'module', name: 'segloss-sweep' });
    let fail: (error: Error) => void = () => undefined;
    const exited = new Promise<never>((_, reject) => { fail = reject; });
    worker.addEventListener('error', (event) => {
      event.preventDefault();
      worker.terminate();
      fail(new WorkerDied(event.message || 'the worker script failed to load or threw'));
    });
    worker.addEventListener('messageerror', () => {
      worker.terminate();
      fail(new WorkerDied('a message from the worker could not be read'));
    });
    // A terminated Web Worker fires nothing (a worker_thread fires 'exit'): end `exited` ourselves,
    // so that a run in flight when the sweep is aborted settles.
    const terminate = () => {
      worker.terminate();
      fail(new WorkerDied('terminated'));
    };
    return { endpoint: worker as unknown as Endpoint, exited, terminate };
  };
}

/** Trains every run of `spec` (a preset name, or a SweepSpec) in module Web Workers. */
export async function runSweep(spec: SweepSpec | string, options: BrowserSweepOptions): Promise<BrowserSweepResult> {
  if (options.workerUrl == null) throw new Error('segloss runSweep: options.workerUrl (the URL of dist/browser/worker.js) is required');
  const { runs } = resolveSweep(spec, options.shard);
  const folder = runs.find((r) => r.config.data?.name === 'folder');
  if (folder) {
    throw new ConfigError([{ path: 'parameters.data', message: `${folder.id} trains on a folder (${(folder.config.data as { path: string }).path}): `
      + 'a browser sweep\'s workers read no paths; train your own data in a browser with UNetTrainer.open(options, files), or sweep it with the CLI' }]);
  }
  const hardware = typeof navigator !== 'undefined' ? navigator.hardwareConcurrency : 0;
  const workers = options.workers ?? (hardware || 2);
  checkWorkerCount(workers);
  if (options.engine !== undefined) checkEngine(options.engine);
  const store = options.store ?? new MemorySweepStore();
  // A resume that names no engine takes the store's (sweeps from before the lockstep engine: tfjs).
  const began = store.planned != null ? checkEngine(store.engine ?? 'tfjs') : null;
  const engine = options.engine === undefined && began != null ? began : checkEngine(options.engine);
  if (store.planned != null) {
    if (!options.resume) throw new Error('segloss runSweep: this store already holds a sweep: pass resume: true or a new store');
    if (!samePlan(store.planned, runs)) {
      throw new Error('segloss runSweep: the store holds a different sweep (other runs); resume it with its own spec');
    }
    if (began !== engine) {
      throw new Error(`segloss runSweep: the store's sweep was trained with engine '${began}': resume it with that engine`);
    }
  }
  store.planned = runs;
  store.engine = engine;
  const { complete, failed, resumed, trained, aborted } = await trainRuns(runs, {
    store, spawn: webWorkers(options.workerUrl), workers, engine,
    init: options.wasmPaths != null ? { wasmPaths: options.wasmPaths } : {},
    signal: options.signal, onProgress: options.onProgress, onRows: options.onRows, onNotice: options.onNotice,
  });
  return { store, plan: runs, runs: complete, failed, resumed, trained, aborted };
}
