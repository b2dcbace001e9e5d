/**
 * The part of a sweep that is the same in Node and in a browser: runs handed to a pool of Comlink
 * workers, each worker training one run at a time, its rows streamed to a store as they come.
 * A worker that throws or dies fails only its run (recorded with the error); the worker is
 * replaced and the sweep goes on. An AbortSignal stops the workers; unfinished runs stay
 * resumable. What differs per environment is passed in: how a worker is spawned and where rows go.
 */
import * as Comlink from 'comlink';
import type { PlannedRun } from '../experiment/presets.js';
import type { StepLog } from '../experiment/train.js';
import type { LossName } from '../losses/types.js';
import { decodeRows } from '../workers/protocol.js';
import type { WorkerApi, WorkerInitOptions } from '../workers/api.js';
import { SummaryTracker, type FailedRun, type RunSummary } from './summary.js';

export interface SweepProgress {
  runId: string;
  step: number;
  steps: number;
  losses: Partial<Record<LossName, number>>;
  completedRuns: number;
  failedRuns: number;
  totalRuns: number;
  /** Seconds left for the whole sweep at the rate so far, or null before any rate is known. */
  etaSeconds: number | null;
}

/** A started worker, whatever its kind. */
export interface WorkerHandle {
  endpoint: Comlink.Endpoint;
  /** Rejects with a WorkerDied error when the worker ends (it died, or was terminated); never resolves. */
  exited: Promise<never>;
  terminate(): Promise<unknown> | void;
}

export type SpawnWorker = () => WorkerHandle;

/** Where a sweep's results go: files in Node (SweepStore), memory in a browser (MemorySweepStore). */
export interface RunStore {
  isComplete(id: string): boolean;
  readSummary(id: string): RunSummary;
  /** Starts (or restarts) a run: any partial log and failure record of it are dropped. */
  beginRun(id: string): void;
  appendRows(id: string, rows: readonly StepLog[]): void;
  completeRun(summary: RunSummary): void;
  failRun(failure: FailedRun): void;
}

export class WorkerDied extends Error {
  constructor(detail: string) {
    super(`worker died during the run: ${detail}`);
    this.name = 'WorkerDied';
  }
}

export interface PoolOptions {
  store: RunStore;
  spawn: SpawnWorker;
  workers: number;
  init?: WorkerInitOptions;
  signal?: AbortSignal;
  onProgress?: (progress: SweepProgress) => void;
  /** Every batch of rows, as stored (for live views). */
  onRows?: (run: PlannedRun, rows: readonly StepLog[]) => void;
}

export interface PoolResult {
  /** Every complete run in `store` (resumed or trained now), in plan order. */
  complete: RunSummary[];
  failed: FailedRun[];
  resumed: number;
  aborted: boolean;
}

interface Slot {
  handle: WorkerHandle;
  api: Comlink.Remote<WorkerApi>;
}

async function startSlot(spawn: SpawnWorker, init: WorkerInitOptions | undefined): Promise<Slot> {
  const handle = spawn();
  handle.exited.catch(() => undefined); // observed through Promise.race only
  const api = Comlink.wrap<WorkerApi>(handle.endpoint);
  const slot = { handle, api };
  try {
    await Promise.race([api.init(init ?? {}), handle.exited]);
  } catch (error) {
    await stopSlot(slot);
    throw error;
  }
  return slot;
}

async function stopSlot(slot: Slot): Promise<void> {
  slot.api[Comlink.releaseProxy]();
  await slot.handle.terminate();
}

/** Throws a RangeError unless `workers` is a whole number ≥ 1 (runSweep checks before writing anything). */
export function checkWorkerCount(workers: number): void {
  if (!Number.isInteger(workers) || workers < 1) {
    throw new RangeError(`segloss runSweep: workers must be a positive integer, got ${String(workers)}`);
  }
}

/** Trains the runs of `runs` that `store` does not hold complete, `options.workers` at a time. */
export async function trainRuns(runs: readonly PlannedRun[], options: PoolOptions): Promise<PoolResult> {
  const { store } = options;
  checkWorkerCount(options.workers);
  const pending = runs.filter((r) => !store.isComplete(r.id));
  const resumed = runs.length - pending.length;
  const failed: FailedRun[] = [];
  let completed = resumed;
  const totalSteps = pending.reduce((n, r) => n + r.config.steps, 0);
  let doneSteps = 0;
  const started = Date.now();
  const queue = [...pending];
  const slots = new Set<Slot>();
  let aborted = options.signal?.aborted ?? false;
  const onAbort = () => {
    aborted = true;
    for (const slot of slots) void stopSlot(slot);
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });

  const trainOne = async (slot: Slot, run: PlannedRun) => {
    store.beginRun(run.id);
    const tracker = new SummaryTracker();
    const losses = run.config.loggedLosses;
    const sink = Comlink.proxy((data: Float64Array) => {
      const rows = decodeRows(data, losses);
      store.appendRows(run.id, rows);
      tracker.add(rows);
      options.onRows?.(run, rows);
      doneSteps += rows.length;
      const last = rows[rows.length - 1];
      const elapsed = (Date.now() - started) / 1000;
      options.onProgress?.({
        runId: run.id, step: last.step, steps: run.config.steps, losses: last.losses,
        completedRuns: completed, failedRuns: failed.length, totalRuns: runs.length,
        etaSeconds: doneSteps > 0 && elapsed > 0 ? ((totalSteps - doneSteps) * elapsed) / doneSteps : null,
      });
    });
    const outcome = await Promise.race([slot.api.run(run.config, sink), slot.handle.exited]);
    store.completeRun(tracker.summary(run.id, run.config, outcome));
    completed++;
  };

  const worker = async () => {
    let slot: Slot | null = null;
    while (!aborted && queue.length > 0) {
      const run = queue.shift()!;
      try {
        if (!slot) {
          slot = await startSlot(options.spawn, options.init);
          slots.add(slot);
          if (aborted) break;
        }
        await trainOne(slot, run);
      } catch (error) {
        if (aborted) break; // the run stays partial: a resume redoes it
        const failure = { id: run.id, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
        store.failRun(failure);
        failed.push(failure);
        if (slot) {
          slots.delete(slot);
          await stopSlot(slot).catch(() => undefined);
          slot = null;
        }
      }
    }
    if (slot) {
      slots.delete(slot);
      await stopSlot(slot).catch(() => undefined);
    }
  };

  const count = Math.max(1, Math.min(options.workers, pending.length));
  try {
    await Promise.all(Array.from({ length: pending.length > 0 ? count : 0 }, () => worker()));
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
  const complete = runs.filter((r) => store.isComplete(r.id)).map((r) => store.readSummary(r.id));
  return { complete, failed, resumed, aborted };
}
