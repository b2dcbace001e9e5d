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
import { LANES, laneEngineAccepts, laneGroupKey } from '../engine/lanes.js';
import { SummaryTracker, type FailedRun, type RunSummary } from './summary.js';

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
 * Trains the runs of `runs` that `store` does not hold complete, `options.workers` at a time. Each
 * run is claimed before it is trained; runs that other processes hold are waited for (and taken
 * over when the store finds their claim stale), so any number of processes sharing a store split
 * its runs and each returns when every run is settled. A fault of the store stops every worker and
 * rejects with the store's error.
 */
export async function trainRuns(runs: readonly PlannedRun[], options: PoolOptions): Promise<PoolResult> {
  const { store } = options;
  const notice = (message: string) => options.onNotice?.(message);
  checkWorkerCount(options.workers);
  const pending: PlannedRun[] = [];
  /** Failures recorded before this sweep started: their runs are retried (a failure recorded since is final). */
  const olderFailure = new Map<string, string | undefined>();
  /** Every run seen complete (at the start, trained here, or settled by another process): not inspected again. */
  const complete = new Map<string, RunSummary>();
  for (const run of runs) {
    const state = store.inspect(run.id);
    if (state.kind === 'complete') {
      complete.set(run.id, state.summary);
      continue;
    }
    if (state.kind === 'damaged') notice(`${state.problem}; will retrain`);
    if (state.kind === 'failed') olderFailure.set(run.id, state.failure.attempt);
    pending.push(run);
  }
  const resumed = runs.length - pending.length;
  const failed: FailedRun[] = [];
  let trained = 0;
  let settledElsewhere = 0;
  const totalSteps = pending.reduce((n, r) => n + r.config.steps, 0);
  let doneSteps = 0;
  const started = Date.now();
  const queue = [...pending];
  const slots = new Set<Slot>();
  const sleepers = new Set<() => void>();
  let aborted = options.signal?.aborted ?? false;
  let fatal: { error: unknown } | null = null;
  const stopped = () => aborted || fatal != null;
  const stopAll = () => {
    for (const slot of slots) void stopSlot(slot);
    for (const wake of sleepers) wake();
  };
  const setFatal = (error: unknown) => {
    fatal ??= { error };
    stopAll();
  };
  const onAbort = () => {
    aborted = true;
    stopAll();
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const sleep = (ms: number) => new Promise<void>((resolve) => {
    const wake = () => {
      clearTimeout(timer);
      sleepers.delete(wake);
      resolve();
    };
    const timer = setTimeout(wake, ms);
    sleepers.add(wake);
  });
  const release = (lease: RunLease) => {
    try {
      lease.release();
    } catch (error) {
      if (!fatal) setFatal(error);
    }
  };

  type Claimed = { run: PlannedRun; lease: RunLease };

  /**
   * The next run to train here that `accept` takes, claimed; or the runs other processes hold; or
   * null when none is left.
   */
  const claimNext = (accept: (run: PlannedRun) => boolean = () => true): Claimed | { held: string[] } | null => {
    const held: string[] = [];
    for (let k = 0; k < queue.length;) {
      const run = queue[k];
      if (!accept(run)) {
        k++;
        continue;
      }
      const lease = store.claim(run.id);
      if (!lease) {
        held.push(`${run.id} (${store.holder(run.id) ?? 'another process'})`);
        k++;
        continue;
      }
      queue.splice(k, 1);
      const state = store.inspect(run.id); // another process may have settled it since the start
      if (state.kind === 'complete') {
        release(lease);
        complete.set(run.id, state.summary);
        settledElsewhere++;
      } else if (state.kind === 'failed' && state.failure.attempt !== olderFailure.get(run.id)) {
        release(lease);
        failed.push(state.failure);
      } else {
        if (lease.tookOverFrom) notice(`${run.id}: taken over from ${lease.tookOverFrom}`);
        return { run, lease };
      }
    }
    return held.length > 0 ? { held } : null;
  };

  /** Records a claimed run failed with `error` (a store that cannot record it stops the sweep). */
  const recordFailure = (item: Claimed, error: unknown) => {
    const failure: FailedRun = {
      id: item.run.id, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error), attempt: item.lease.attempt,
    };
    try {
      item.lease.fail(failure);
    } catch (storeError) {
      setFatal(storeError);
      return;
    }
    failed.push(failure);
  };

  /** Up to LANES − 1 more runs of `first`'s architecture for its lockstep group, claimed now. */
  const claimCompanions = (first: PlannedRun): Claimed[] => {
    const key = laneGroupKey(first.config);
    const more: Claimed[] = [];
    while (more.length < LANES - 1) {
      const next = claimNext((r) => laneGroupKey(r.config) === key && laneEngineAccepts(r.config));
      if (next === null || 'held' in next) break;
      more.push(next);
    }
    return more;
  };
  let lastWait = '';

  /**
   * Trains claimed runs in one call of the worker: one run on tfjs (`run`), or a group of one
   * architecture in the lockstep engine (`runGroup`). Each run is settled on its own: complete,
   * failed (the call threw, or its worker died), left to the process that took its claim over, or
   * released unfinished when the sweep stops. Returns false when the worker is no longer usable.
   */
  const trainClaimed = async (slot: Slot, items: readonly Claimed[], useLanes: boolean): Promise<boolean> => {
    const lanes = items.map((item) => ({ ...item, tracker: new SummaryTracker(), error: null as unknown }));
    let live = lanes.length;
    const receive = (lane: number, data: Float64Array) => {
      const item = lanes[lane];
      if (item.error != null || stopped()) return;
      const rows = decodeRows(data, item.run.config.loggedLosses);
      try {
        viaStore(() => item.lease.append(rows));
      } catch (error) {
        item.error = error;
        if (error instanceof StoreFault) setFatal(error.error);
        else if (--live === 0) void stopSlot(slot); // every claim was lost: stop training runs that are not ours
        return;
      }
      item.tracker.add(rows);
      options.onRows?.(item.run, rows);
      doneSteps += rows.length;
      const last = rows[rows.length - 1];
      const elapsed = (Date.now() - started) / 1000;
      options.onProgress?.({
        runId: item.run.id, step: last.step, steps: item.run.config.steps, losses: last.losses,
        completedRuns: resumed + trained + settledElsewhere, failedRuns: failed.length, totalRuns: runs.length,
        etaSeconds: doneSteps > 0 && elapsed > 0 ? ((totalSteps - doneSteps) * elapsed) / doneSteps : null,
      });
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
      if (error instanceof StoreFault) setFatal(error.error);
    }
    for (const [k, item] of lanes.entries()) {
      const error = item.error ?? callError;
      if (error == null && !stopped()) {
        const summary = item.tracker.summary(item.run.id, item.run.config, outcomes[k]);
        try {
          viaStore(() => item.lease.complete(summary));
        } catch (storeError) {
          setFatal(storeError instanceof StoreFault ? storeError.error : storeError);
          release(item.lease);
          continue;
        }
        complete.set(item.run.id, summary);
        trained++;
      } else if (error == null || error instanceof StoreFault || stopped()) {
        release(item.lease); // aborted, or the store failed: the run stays unfinished, for a resume
      } else if (error instanceof ClaimLost) {
        release(item.lease);
        notice(`${item.run.id}: ${error.message}; the run is left to that process`);
      } else {
        recordFailure(item, error);
      }
    }
    return callError == null;
  };

  const engine = options.engine ?? 'lanes';
  const worker = async () => {
    let slot: Slot | null = null;
    const dropSlot = async () => {
      if (!slot) return;
      slots.delete(slot);
      await stopSlot(slot);
      slot = null;
    };
    while (!stopped()) {
      let next: ReturnType<typeof claimNext>;
      try {
        next = claimNext();
      } catch (error) {
        setFatal(error);
        break;
      }
      if (next === null) break;
      if ('held' in next) {
        const wait = `waiting for ${next.held.length} run${next.held.length > 1 ? 's' : ''} that other processes hold: ${next.held.join(', ')}`;
        if (wait !== lastWait) notice(wait);
        lastWait = wait;
        await sleep(options.pollMs ?? 1000);
        continue;
      }
      const first: Claimed = next;
      let items: Claimed[] = [first];
      try {
        if (!slot) {
          slot = await startSlot(options.spawn, options.init);
          slots.add(slot);
        }
        const useLanes = engine === 'lanes' && slot.lanes && laneEngineAccepts(first.run.config);
        if (useLanes) items = [first, ...claimCompanions(first.run)];
        if (stopped()) {
          for (const item of items) release(item.lease);
          break;
        }
        if (!(await trainClaimed(slot, items, useLanes))) await dropSlot();
      } catch (error) {
        // The worker did not start (or the store failed while claiming): the claimed runs fail.
        if (error instanceof StoreFault) setFatal(error.error);
        await dropSlot();
        for (const item of items) {
          if (stopped()) release(item.lease);
          else recordFailure(item, error);
        }
      }
    }
    await dropSlot();
  };

  const count = Math.max(1, Math.min(options.workers, pending.length));
  try {
    await Promise.all(Array.from({ length: pending.length > 0 ? count : 0 }, () => worker()));
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
  if (fatal) throw (fatal as { error: unknown }).error;
  // Only runs not seen complete are looked at again (say, finished by another process after an abort).
  const summaries = runs.flatMap((r) => {
    const known = complete.get(r.id);
    if (known) return [known];
    const state = store.inspect(r.id);
    return state.kind === 'complete' ? [state.summary] : [];
  });
  return { complete: summaries, failed, resumed, trained, aborted };
}
