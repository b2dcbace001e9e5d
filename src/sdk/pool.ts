/**
 * The part of a sweep that is the same in Node and in a browser: runs handed to a pool of Comlink
 * workers, each worker training one run at a time, its rows streamed to a store as they come.
 * A worker that throws or dies fails only its run (recorded with the error); the worker is
 * replaced and the sweep goes on. An AbortSignal stops the workers; unfinished runs stay
 * resumable. What differs per environment is passed in: how a worker is spawned and where rows go.
 */
import * as Comlink from 'comlink';
import type { PlannedRun } from '../experiment/presets.js';
import type { RunOutcome, StepLog } from '../experiment/train.js';
import type { LossKey } from '../experiment/losses.js';
import { decodeRows } from '../workers/protocol.js';
import type { WorkerApi, WorkerInitOptions } from '../workers/api.js';
import { laneEngineAccepts } from '../engine/lanes.js';
import { RunQueue, type Claimed, type NextRun } from './run_queue.js';
import { SummaryTracker, type FailedRun, type RunSummary } from './summary.js';

/**
 * Progress after each batch of rows a run stores: that run's last row (its step of `steps`, its
 * losses), the sweep's run counts, and an estimate of the seconds left.
 */
export interface SweepProgress {
  runId: string;
  step: number;
  steps: number;
  losses: Partial<Record<LossKey, number>>;
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

/** What a store holds for one run. */
export type RunState =
  /** Never begun, or begun and not finished (a partial log, which a new attempt replaces). */
  | { kind: 'absent' }
  | { kind: 'complete'; summary: RunSummary }
  /** A completion marker whose log does not match it: `problem` names the file ("runs/….jsonl is damaged: …"). */
  | { kind: 'damaged'; problem: string }
  | { kind: 'failed'; failure: FailedRun };

/** A run claimed in a store: while it is held, no other process or sweep trains that run. */
export interface RunLease {
  /** Names this attempt (recorded with a failure, so a sweep tells its own failures from older ones). */
  readonly attempt: string;
  /** When the claim was taken over from a stale one: whose it was and why it was stale. */
  readonly tookOverFrom?: string | null;
  /** Starts the run afresh: any partial log, damaged marker and failure record of it are dropped. */
  begin(): void;
  /** Throws ClaimLost when another process has taken the run over. */
  append(rows: readonly StepLog[]): void;
  /** Records the run complete (its marker last) and gives up the claim. */
  complete(summary: RunSummary): void;
  /** Records the run failed and gives up the claim. */
  fail(failure: FailedRun): void;
  /** Gives up the claim, leaving what was written (an unfinished run, to be redone). */
  release(): void;
}

/**
 * Where a sweep's results go: files in Node (SweepStore), memory in a browser (MemorySweepStore).
 * A method that throws anything but ClaimLost is a fault of the store (a full disk, say): the sweep
 * stops its workers and rejects with that error.
 */
export interface RunStore {
  inspect(id: string): RunState;
  /** Claims run `id` for this sweep; null while another (live) process or sweep holds it. */
  claim(id: string): RunLease | null;
  /** Who holds run `id`, for messages; null when nobody does. */
  holder(id: string): string | null;
}

/**
 * Records a whole run in `store` at once: a log made elsewhere (imported, or made up by a test or a
 * benchmark). Throws if another process or sweep holds the run.
 */
export function recordRun(store: RunStore, run: Pick<PlannedRun, 'id' | 'config'>, rows: readonly StepLog[],
  outcome: RunOutcome): RunSummary {
  const lease = store.claim(run.id);
  if (!lease) throw new Error(`segloss: run ${run.id} is held by ${store.holder(run.id) ?? 'another process'}`);
  try {
    lease.begin();
    lease.append(rows);
    const tracker = new SummaryTracker();
    tracker.add(rows);
    const summary = tracker.summary(run.id, run.config, outcome);
    lease.complete(summary);
    return summary;
  } catch (error) {
    try { lease.release(); } catch { /* the first error is the one to report */ }
    throw error;
  }
}

/** The store says a run this sweep was training is no longer its own (another process took it over). */
export class ClaimLost extends Error {
  override readonly name = 'ClaimLost';
}

export class WorkerDied extends Error {
  constructor(detail: string) {
    super(`worker died during the run: ${detail}`);
    this.name = 'WorkerDied';
  }
}

/**
 * How runs are trained: 'lanes', the lockstep engine (src/engine/lanes.ts), up to four runs of one
 * architecture per worker call, wherever the worker has it (WebAssembly SIMD) and it accepts the
 * config (its losses, its size), else on tfjs; 'tfjs', every run on tfjs ops one at a time
 * (`trainRun`, the reference path). The two agree to float32 summation order, not bit for bit.
 */
export type SweepEngine = 'lanes' | 'tfjs';

export interface PoolOptions {
  store: RunStore;
  spawn: SpawnWorker;
  workers: number;
  /** Default 'lanes'. */
  engine?: SweepEngine;
  init?: WorkerInitOptions;
  signal?: AbortSignal;
  onProgress?: (progress: SweepProgress) => void;
  /** Every batch of rows, as stored (for live views). */
  onRows?: (run: PlannedRun, rows: readonly StepLog[]) => void;
  /**
   * What a user should know that is not an error: a damaged run to be retrained, runs other
   * processes hold, a run lost to another process.
   */
  onNotice?: (message: string) => void;
  /** How often to look again at runs that other processes hold (default 1 s). */
  pollMs?: number;
}

export interface PoolResult {
  /** Every complete run in `store` (resumed, trained here or by another process), in plan order. */
  complete: RunSummary[];
  failed: FailedRun[];
  /** Runs found complete at the start. */
  resumed: number;
  /** Runs this call trained to completion. */
  trained: number;
  aborted: boolean;
}

interface Slot {
  handle: WorkerHandle;
  api: Comlink.Remote<WorkerApi>;
  /** The worker runs the lockstep engine (its init said so). */
  lanes: boolean;
  stopping?: Promise<void>;
}

/** An error the store threw: it stops the whole sweep. */
class StoreFault {
  constructor(readonly error: unknown) {}
}

function viaStore<T>(call: () => T): T {
  try {
    return call();
  } catch (error) {
    throw error instanceof ClaimLost ? error : new StoreFault(error);
  }
}

async function startSlot(spawn: SpawnWorker, init: WorkerInitOptions | undefined): Promise<Slot> {
  const handle = spawn();
  handle.exited.catch(() => undefined); // observed through Promise.race only
  const api = Comlink.wrap<WorkerApi>(handle.endpoint);
  const slot: Slot = { handle, api, lanes: false };
  try {
    const info = await Promise.race([api.init(init ?? {}), handle.exited]);
    slot.lanes = (info as { lanes?: unknown } | null)?.lanes === true;
  } catch (error) {
    await stopSlot(slot);
    throw error;
  }
  return slot;
}

/** Ends a slot's worker; idempotent, never rejects. */
function stopSlot(slot: Slot): Promise<void> {
  slot.stopping ??= (async () => {
    slot.api[Comlink.releaseProxy]();
    await slot.handle.terminate();
  })().catch(() => undefined);
  return slot.stopping;
}

/** The engine option, checked: 'lanes' (the default) or 'tfjs'. */
export function checkEngine(engine: unknown): SweepEngine {
  if (engine === undefined) return 'lanes';
  if (engine === 'lanes' || engine === 'tfjs') return engine;
  throw new RangeError(`segloss runSweep: engine must be 'lanes' or 'tfjs', got ${JSON.stringify(engine)}`);
}

/** Throws a RangeError unless `workers` is a whole number ≥ 1 (runSweep checks before writing anything). */
export function checkWorkerCount(workers: number): void {
  if (!Number.isInteger(workers) || workers < 1) {
    throw new RangeError(`segloss runSweep: workers must be a positive integer, got ${String(workers)}`);
  }
}

/**
 * Whether the sweep goes on: an abort from the caller or a fault of the store stops it, ends
 * every worker at once and wakes every sleeper, so nothing waits out its poll.
 */
class SweepControl {
  aborted: boolean;
  fatal: { error: unknown } | null = null;
  readonly slots = new Set<Slot>();
  private readonly sleepers = new Set<() => void>();
  private readonly onAbort = () => {
    this.aborted = true;
    this.stopAll();
  };

  constructor(private readonly signal?: AbortSignal) {
    this.aborted = signal?.aborted ?? false;
    signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  get stopped(): boolean {
    return this.aborted || this.fatal != null;
  }

  /** A fault of the store: the first one is the sweep's error. */
  fail(error: unknown): void {
    this.fatal ??= { error };
    this.stopAll();
  }

  private stopAll(): void {
    for (const slot of this.slots) void stopSlot(slot);
    for (const wake of this.sleepers) wake();
  }

  /** Resolves after `ms`, or at once when the sweep stops. */
  sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }

  dispose(): void {
    this.signal?.removeEventListener('abort', this.onAbort);
  }
}

/** Progress as rows arrive: the run's latest losses, runs settled, and an ETA from the steps done so far. */
class ProgressMeter {
  private doneSteps = 0;
  private readonly started = Date.now();
  private readonly totalSteps: number;

  constructor(private readonly queue: RunQueue, private readonly onProgress?: (progress: SweepProgress) => void) {
    this.totalSteps = queue.pending.reduce((n, r) => n + r.config.steps, 0);
  }

  rows(run: PlannedRun, rows: readonly StepLog[]): void {
    this.doneSteps += rows.length;
    if (!this.onProgress) return;
    const last = rows[rows.length - 1];
    const elapsed = (Date.now() - this.started) / 1000;
    this.onProgress({
      runId: run.id, step: last.step, steps: run.config.steps, losses: last.losses,
      completedRuns: this.queue.completedCount, failedRuns: this.queue.failed.length, totalRuns: this.queue.runs.length,
      etaSeconds: this.doneSteps > 0 && elapsed > 0 ? ((this.totalSteps - this.doneSteps) * elapsed) / this.doneSteps : null,
    });
  }
}

/** What the pieces of one trainRuns call share. */
interface Sweep {
  options: PoolOptions;
  queue: RunQueue;
  control: SweepControl;
  progress: ProgressMeter;
}

/**
 * Trains claimed runs in one call of the worker: one run on tfjs (`run`), or a group of one
 * architecture in the lockstep engine (`runGroup`), rows stored as they stream in. Then each run
 * is settled on its own: complete, failed (the call threw, or its worker died), left to the
 * process that took its claim over, or released unfinished when the sweep stops. Returns false
 * when the worker is no longer usable.
 */
async function trainClaimed({ options, queue, control, progress }: Sweep, slot: Slot, items: readonly Claimed[], useLanes: boolean): Promise<boolean> {
  const lanes = items.map((item) => ({ ...item, tracker: new SummaryTracker(), error: null as unknown }));
  let live = lanes.length;
  const receive = (lane: number, data: Float64Array) => {
    const item = lanes[lane];
    if (item.error != null || control.stopped) return;
    const rows = decodeRows(data, item.run.config.loggedLosses);
    try {
      viaStore(() => item.lease.append(rows));
    } catch (error) {
      item.error = error;
      if (error instanceof StoreFault) control.fail(error.error);
      else if (--live === 0) void stopSlot(slot); // every claim was lost: stop training runs that are not ours
      return;
    }
    item.tracker.add(rows);
    options.onRows?.(item.run, rows);
    progress.rows(item.run, rows);
  };
  let outcomes: RunOutcome[] = [];
  let callError: unknown = null;
  try {
    for (const item of lanes) viaStore(() => item.lease.begin());
    outcomes = useLanes
      ? await Promise.race([slot.api.runGroup(lanes.map((l) => l.run.config), Comlink.proxy(receive)), slot.handle.exited])
      : [await Promise.race([slot.api.run(lanes[0].run.config, Comlink.proxy((data: Float64Array) => receive(0, data))), slot.handle.exited])];
  } catch (error) {
    callError = error;
    if (error instanceof StoreFault) control.fail(error.error);
  }
  for (const [k, item] of lanes.entries()) {
    const error = item.error ?? callError;
    if (error == null && !control.stopped) {
      const summary = item.tracker.summary(item.run.id, item.run.config, outcomes[k]);
      try {
        viaStore(() => item.lease.complete(summary));
      } catch (storeError) {
        control.fail(storeError instanceof StoreFault ? storeError.error : storeError);
        queue.release(item.lease);
        continue;
      }
      queue.completed(item, summary);
    } else if (error == null || error instanceof StoreFault || control.stopped) {
      queue.release(item.lease); // aborted, or the store failed: the run stays unfinished, for a resume
    } else if (error instanceof ClaimLost) {
      queue.release(item.lease);
      options.onNotice?.(`${item.run.id}: ${error.message}; the run is left to that process`);
    } else {
      queue.recordFailure(item, error);
    }
  }
  return callError == null;
}

/**
 * One worker's loop: claim the next run (with its lockstep companions when the worker runs the
 * lane engine), start the worker if it has none, train, until nothing is left or the sweep stops.
 * Runs other processes hold are waited for, polling. A worker that died or did not start fails
 * only the runs it held, and the next claim starts a fresh one.
 */
async function workerLoop(sweep: Sweep, lastWait: { text: string }): Promise<void> {
  const { options, queue, control } = sweep;
  const engine = options.engine ?? 'lanes';
  let slot: Slot | null = null;
  const dropSlot = async () => {
    if (!slot) return;
    control.slots.delete(slot);
    await stopSlot(slot);
    slot = null;
  };
  while (!control.stopped) {
    let next: NextRun;
    try {
      next = queue.claimNext();
    } catch (error) {
      control.fail(error);
      break;
    }
    if (next === null) break;
    if ('held' in next) {
      const wait = `waiting for ${next.held.length} run${next.held.length > 1 ? 's' : ''} that other processes hold: ${next.held.join(', ')}`;
      if (wait !== lastWait.text) options.onNotice?.(wait);
      lastWait.text = wait;
      await control.sleep(options.pollMs ?? 1000);
      continue;
    }
    const first: Claimed = next;
    let items: Claimed[] = [first];
    try {
      if (!slot) {
        slot = await startSlot(options.spawn, options.init);
        control.slots.add(slot);
      }
      const useLanes = engine === 'lanes' && slot.lanes && laneEngineAccepts(first.run.config);
      if (useLanes) items = [first, ...queue.claimCompanions(first.run)];
      if (control.stopped) {
        for (const item of items) queue.release(item.lease);
        break;
      }
      if (!(await trainClaimed(sweep, slot, items, useLanes))) await dropSlot();
    } catch (error) {
      // The worker did not start (or the store failed while claiming): the claimed runs fail.
      if (error instanceof StoreFault) control.fail(error.error);
      await dropSlot();
      for (const item of items) {
        if (control.stopped) queue.release(item.lease);
        else queue.recordFailure(item, error);
      }
    }
  }
  await dropSlot();
}

/**
 * Trains the runs of `runs` that `store` does not hold complete, `options.workers` at a time. Each
 * run is claimed before it is trained (run_queue.ts); runs that other processes hold are waited for
 * (and taken over when the store finds their claim stale), so any number of processes sharing a
 * store split its runs and each returns when every run is settled. A fault of the store stops every
 * worker and rejects with the store's error.
 */
export async function trainRuns(runs: readonly PlannedRun[], options: PoolOptions): Promise<PoolResult> {
  checkWorkerCount(options.workers);
  const control = new SweepControl(options.signal);
  const queue = new RunQueue(runs, options.store, (message) => options.onNotice?.(message), (error) => { if (!control.fatal) control.fail(error); });
  const sweep: Sweep = { options, queue, control, progress: new ProgressMeter(queue, options.onProgress) };
  const count = queue.pending.length > 0 ? Math.max(1, Math.min(options.workers, queue.pending.length)) : 0;
  const lastWait = { text: '' };
  try {
    await Promise.all(Array.from({ length: count }, () => workerLoop(sweep, lastWait)));
  } finally {
    control.dispose();
  }
  if (control.fatal) throw control.fatal.error;
  return { complete: queue.summaries(), failed: queue.failed, resumed: queue.resumed, trained: queue.trained, aborted: control.aborted };
}
