/**
 * The runs a sweep has left to train, and claiming them (pool.ts trains what this hands out).
 *
 * - **What is left.** At the start every run is inspected once: complete runs are kept (a resume),
 *   a damaged one is announced and retrained, a failed one is retried if its failure is older than
 *   this sweep (a failure recorded during this sweep, by it or another process, is final).
 * - **Claims.** A run is claimed in the store before it is trained, so processes sharing a store
 *   split its runs. After the claim the run is inspected again: another process may have settled it
 *   since the start. Runs other processes hold are reported, and the caller waits for them.
 * - **Lockstep groups.** A run the lane engine accepts takes up to LANES − 1 companions of its
 *   architecture (laneGroupKey) from the queue, claimed at once, for one worker call.
 * - **Settling.** Each claimed run ends complete, failed (recorded with its attempt), or released
 *   unfinished (an abort, a fault of the store, a claim lost to another process).
 */
import type { PlannedRun } from '../experiment/presets.js';
import { LANES, laneEngineAccepts, laneGroupKey } from '../engine/lanes.js';
import type { RunLease, RunStore } from './pool.js';
import type { FailedRun, RunSummary } from './summary.js';

/** A run claimed for this sweep. */
export interface Claimed {
  run: PlannedRun;
  lease: RunLease;
}

/** What claimNext finds: a run to train, the runs other processes hold (wait, then ask again), or nothing left. */
export type NextRun = Claimed | { held: string[] } | null;

export class RunQueue {
  /** Every run seen complete (at the start, trained here, or settled by another process): not inspected again. */
  readonly complete = new Map<string, RunSummary>();
  /** Failures of this sweep (its own, and those other processes recorded since it started). */
  readonly failed: FailedRun[] = [];
  /** The runs not complete at the start, in plan order. */
  readonly pending: PlannedRun[] = [];
  /** Runs found complete at the start. */
  readonly resumed: number;
  /** Runs this sweep trained to completion. */
  trained = 0;
  /** Runs another process settled after this sweep started. */
  settledElsewhere = 0;
  private readonly queue: PlannedRun[];
  /** Failures recorded before this sweep started: their runs are retried. */
  private readonly olderFailure = new Map<string, string | undefined>();

  /**
   * `onFault` hears a fault of the store while releasing a claim (the sweep then stops);
   * `notice` what a user should know (a damaged run, a run taken over from a stale claim).
   */
  constructor(readonly runs: readonly PlannedRun[], private readonly store: RunStore,
    private readonly notice: (message: string) => void, private readonly onFault: (error: unknown) => void) {
    for (const run of runs) {
      const state = store.inspect(run.id);
      if (state.kind === 'complete') {
        this.complete.set(run.id, state.summary);
        continue;
      }
      if (state.kind === 'damaged') notice(`${state.problem}; will retrain`);
      if (state.kind === 'failed') this.olderFailure.set(run.id, state.failure.attempt);
      this.pending.push(run);
    }
    this.resumed = runs.length - this.pending.length;
    this.queue = [...this.pending];
  }

  /** Runs settled so far: resumed, trained here, or settled by other processes. */
  get completedCount(): number {
    return this.resumed + this.trained + this.settledElsewhere;
  }

  /** The next run that `accept` takes, claimed; or the runs other processes hold; or null when none is left. */
  claimNext(accept: (run: PlannedRun) => boolean = () => true): NextRun {
    const held: string[] = [];
    for (let k = 0; k < this.queue.length;) {
      const run = this.queue[k];
      if (!accept(run)) {
        k++;
        continue;
      }
      const lease = this.store.claim(run.id);
      if (!lease) {
        held.push(`${run.id} (${this.store.holder(run.id) ?? 'another process'})`);
        k++;
        continue;
      }
      this.queue.splice(k, 1);
      const state = this.store.inspect(run.id); // another process may have settled it since the start
      if (state.kind === 'complete') {
        this.release(lease);
        this.complete.set(run.id, state.summary);
        this.settledElsewhere++;
      } else if (state.kind === 'failed' && state.failure.attempt !== this.olderFailure.get(run.id)) {
        this.release(lease);
        this.failed.push(state.failure);
      } else {
        if (lease.tookOverFrom) this.notice(`${run.id}: taken over from ${lease.tookOverFrom}`);
        return { run, lease };
      }
    }
    return held.length > 0 ? { held } : null;
  }

  /** Up to LANES − 1 more runs of `first`'s architecture for its lockstep group, claimed now. */
  claimCompanions(first: PlannedRun): Claimed[] {
    const key = laneGroupKey(first.config);
    const more: Claimed[] = [];
    while (more.length < LANES - 1) {
      const next = this.claimNext((r) => laneGroupKey(r.config) === key && laneEngineAccepts(r.config));
      if (next === null || 'held' in next) break;
      more.push(next);
    }
    return more;
  }

  /** Gives a claim up, leaving the run unfinished (a store that cannot is a fault: the sweep stops). */
  release(lease: RunLease): void {
    try {
      lease.release();
    } catch (error) {
      this.onFault(error);
    }
  }

  /** Records a claimed run complete. */
  completed(item: Claimed, summary: RunSummary): void {
    this.complete.set(item.run.id, summary);
    this.trained++;
  }

  /** Records a claimed run failed with `error` (a store that cannot record it is a fault: the sweep stops). */
  recordFailure(item: Claimed, error: unknown): void {
    const failure: FailedRun = {
      id: item.run.id, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error), attempt: item.lease.attempt,
    };
    try {
      item.lease.fail(failure);
    } catch (storeError) {
      this.onFault(storeError);
      return;
    }
    this.failed.push(failure);
  }

  /** Every complete run in plan order; runs not seen complete are inspected once more (finished elsewhere after an abort, say). */
  summaries(): RunSummary[] {
    return this.runs.flatMap((r) => {
      const known = this.complete.get(r.id);
      if (known) return [known];
      const state = this.store.inspect(r.id);
      return state.kind === 'complete' ? [state.summary] : [];
    });
  }
}
