/**
 * runSweep for Node: the runs of a sweep spec trained in parallel Comlink workers (worker_threads),
 * their logs streamed to a sweep directory (SweepStore) as they come. Resumable (complete runs are
 * kept after their logs are checked, partial and damaged ones redone), shardable (a deterministic
 * partition of the plan), cancellable with an AbortSignal (workers stop, written rows stay,
 * unfinished runs stay resumable). Any number of processes may resume one directory at once: each
 * run is claimed before it is trained (claims.ts), so they split the runs and train each once. A
 * worker that throws or dies fails only its run: it is recorded with the error, the worker
 * replaced, the sweep goes on. A file that cannot be written (a full disk) stops every worker and
 * rejects with a SweepIOError naming the path. The scheduling is pool.ts's, shared with the
 * browser's runSweep (sweep.browser.ts).
 */
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { version_core } from '@tensorflow/tfjs-core';
import type { Endpoint } from 'comlink';
import { changedFolders, checkFolderModels, measureFolders } from './folders.js';
import { parseSweepSpec, resolveSweep, samePlan, type Shard, type SweepSpec } from './plan.js';
import { checkEngine, checkWorkerCount, trainRuns, WorkerDied, type SpawnWorker, type SweepEngine, type SweepProgress } from './pool.js';
import { SweepStore, type FailedRun, type RunSummary } from './store.js';

export type { SweepEngine, SweepProgress } from './pool.js';

/** How Node's runSweep trains: its directory, workers, resume, shard, callbacks, worker and engine. */
export interface SweepOptions {
  outDir: string;
  /** Parallel workers (default: the machine's available parallelism). */
  workers?: number;
  /**
   * Continue a sweep in `outDir`: complete runs are kept, the others (re)done. Other processes may
   * be resuming the same directory at the same time: they share the runs out.
   */
  resume?: boolean;
  /** Run only shard `current` of `total`, from 1 (runs k, from 0, with k mod total = current − 1). */
  shard?: Shard;
  signal?: AbortSignal;
  /** After each batch of rows a run stores: the run's step and losses, the run counts and an ETA. */
  onProgress?: (progress: SweepProgress) => void;
  /** Messages that are not errors: damaged runs to retrain, runs other processes hold, takeovers. */
  onNotice?: (message: string) => void;
  /**
   * How long a run's claim may go without a heartbeat before another process takes the run over
   * (default 30 s; see claims.ts for the choice). A claim of a dead process on this host is taken at once.
   */
  claimTimeoutMs?: number;
  /** The worker script (default: dist/worker.js beside this module). */
  workerUrl?: URL;
  /**
   * 'lanes' (default): the lockstep engine, four runs of one architecture per call (src/engine/lanes.ts);
   * 'tfjs': every run on tfjs ops (`trainRun`, the reference). Recorded in sweep.json: a sweep is
   * resumed with the engine it began with, so that its runs are comparable bit for bit; a resume
   * that names none takes it, one that names another is refused.
   */
  engine?: SweepEngine;
}

/** What Node's runSweep ends with: its directory, the complete and failed runs, and counts. */
export interface SweepResult {
  outDir: string;
  /** Every complete run of this sweep (or shard), in plan order. */
  runs: RunSummary[];
  failed: FailedRun[];
  /** Runs found complete and kept by a resume. */
  resumed: number;
  /** Runs this call trained (the rest of `runs` were kept, or trained by other processes). */
  trained: number;
  aborted: boolean;
}

/** segloss's version, from the package.json above this module (dist/ or src/sdk/). */
export function seglossVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++, dir = dirname(dir)) {
    const path = join(dir, 'package.json');
    if (existsSync(path)) {
      const pkg = JSON.parse(readFileSync(path, 'utf8'));
      if (pkg.name === 'segloss') return pkg.version;
    }
  }
  return 'unknown';
}

/** worker_threads workers; an uncaught error arrives as 'error' then 'exit', and is kept for the record. */
export function nodeWorkers(workerUrl: URL): SpawnWorker {
  return () => {
    const worker = new Worker(workerUrl);
    let crash: Error | null = null;
    worker.on('error', (error) => { crash = error; });
    const exited = new Promise<never>((_, reject) => worker.once('exit', (code) =>
      reject(new WorkerDied(`it exited with code ${code}${crash ? `: ${crash.message}` : ''}`))));
    return { endpoint: nodeEndpoint(worker as never) as Endpoint, exited, terminate: () => worker.terminate() };
  };
}

/** Trains every run of `spec` (a preset name, or a SweepSpec) and stores the results in `outDir`. */
export async function runSweep(spec: SweepSpec | string, options: SweepOptions): Promise<SweepResult> {
  // Folders of your own data are checked and measured first: their foreground fractions are part of the plan.
  const { spec: measured, folders } = await measureFolders(parseSweepSpec(typeof spec === 'string' ? { preset: spec } : spec), options.onNotice);
  const { spec: parsed, runs } = resolveSweep(measured, options.shard);
  checkFolderModels(runs, folders);
  const workers = options.workers ?? availableParallelism();
  checkWorkerCount(workers);
  if (options.engine !== undefined) checkEngine(options.engine);
  const store = new SweepStore(options.outDir, { timeoutMs: options.claimTimeoutMs });
  const existing = store.readSweep();
  if (existing && !options.resume) {
    throw new Error(`${options.outDir} already holds a sweep: resume it (--resume) or choose another directory`);
  }
  const changed = existing ? changedFolders(existing.folders, folders) : [];
  if (changed.length > 0) {
    throw new Error(`${options.outDir}: the data changed since this sweep began (files added, removed or resized) in ${changed.join(', ')}: `
      + 'its finished runs trained on the files as they were, and new runs would train on others. Restore the data, or start a new sweep directory');
  }
  if (existing && !samePlan(existing.runs, runs)) {
    throw new Error(`${options.outDir} holds a different sweep (other runs); resume it with its own spec`);
  }
  // Sweeps from before the lockstep engine recorded none: they trained on tfjs.
  const began = existing ? checkEngine(existing.engine ?? 'tfjs') : null;
  const engine = options.engine === undefined && began != null ? began : checkEngine(options.engine);
  if (began != null && began !== engine) {
    throw new Error(`${options.outDir} was trained with engine '${String(began)}': resume it with that engine (--engine ${String(began)}), so that its runs stay comparable`);
  }
  store.create();
  store.writeSweep({
    segloss: seglossVersion(), tfjs: version_core, engine, spec: parsed, shard: options.shard ?? null, runs,
    ...(folders.length > 0 ? { folders } : {}),
  });

  const { complete, failed, resumed, trained, aborted } = await trainRuns(runs, {
    store, spawn: nodeWorkers(options.workerUrl ?? new URL('./worker.js', import.meta.url)),
    workers, engine, signal: options.signal, onProgress: options.onProgress, onNotice: options.onNotice,
  });
  store.writeSummaryCsv(complete);
  return { outDir: options.outDir, runs: complete, failed, resumed, trained, aborted };
}
