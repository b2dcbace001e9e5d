/**
 * A sweep's results held in memory (the browser's store; Node writes files, SweepStore): every
 * run's rows as they come, its summary when complete, its error when failed. Pass the same store
 * to another `runSweep` with `resume: true` to finish an aborted sweep; `runLogs()` feeds
 * `renderReport`; `summaryCsv()` is the text of summary.csv. `toJSON()` / `fromJSON()` save and
 * restore a store (say, to a download, or to localStorage), partial runs included.
 */
import type { StepLog } from '../experiment/train.js';
import type { RunLog } from '../report/figures.js';
import type { RunLease, RunState, RunStore, SweepEngine } from './pool.js';
import { summaryCsv, type FailedRun, type RunSummary } from './summary.js';

/** A MemorySweepStore as plain data (JSON.stringify-able). */
export interface MemorySweepStoreData {
  format: 'segloss-memory-sweep-store';
  version: 1;
  planned: MemorySweepStore['planned'];
  /** Absent in stores saved before the lockstep engine (they trained on tfjs). */
  engine?: SweepEngine | null;
  rows: Record<string, StepLog[]>;
  summaries: RunSummary[];
  failures: FailedRun[];
}

/** A sweep's runs held in memory, where the browser's runSweep keeps them (see the module's header). */
export class MemorySweepStore implements RunStore {
  private readonly rows = new Map<string, StepLog[]>();
  private readonly summaries = new Map<string, RunSummary>();
  private readonly failures = new Map<string, FailedRun>();
  /** Runs a sweep on this store is training now: a second sweep on the same store leaves them be. */
  private readonly claimed = new Set<string>();
  /** The plan this store's runs belong to (set by the first runSweep that uses it). */
  planned: { id: string; config: RunSummary['config'] }[] | null = null;
  /** The engine the sweep trains with (set with `planned`); null for a store saved before engines were recorded. */
  engine: SweepEngine | null = null;

  /** Run `id`'s state: complete with its summary, failed with its error, or absent. */
  inspect(id: string): RunState {
    const summary = this.summaries.get(id);
    if (summary) return { kind: 'complete', summary };
    const failure = this.failures.get(id);
    return failure ? { kind: 'failed', failure } : { kind: 'absent' };
  }

  /** Whether run `id` has completed (has a summary). */
  isComplete(id: string): boolean {
    return this.summaries.has(id);
  }

  /** The summary of run `id`; throws if the run is not complete. */
  readSummary(id: string): RunSummary {
    const summary = this.summaries.get(id);
    if (summary == null) throw new Error(`segloss: run ${id} is not complete`);
    return summary;
  }

  claim(id: string): RunLease | null {
    if (this.claimed.has(id)) return null;
    this.claimed.add(id);
    const attempt = `memory-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
    let held = true;
    const settle = () => {
      if (!held) throw new Error(`segloss: the claim of run ${id} was already given up`);
      held = false;
      this.claimed.delete(id);
    };
    return {
      attempt,
      begin: () => {
        this.rows.set(id, []);
        this.summaries.delete(id);
        this.failures.delete(id);
      },
      append: (rows) => {
        const log = this.rows.get(id);
        if (log == null) throw new Error(`segloss: run ${id} was not begun`);
        for (const row of rows) log.push(row);
      },
      complete: (summary) => {
        settle();
        this.summaries.set(id, summary);
      },
      fail: (failure) => {
        settle();
        this.failures.set(id, { ...failure, id, attempt });
      },
      release: () => {
        if (held) settle();
      },
    };
  }

  holder(id: string): string | null {
    return this.claimed.has(id) ? 'another sweep on this store' : null;
  }

  /** A run's rows so far (complete or not), or [] for a run not begun. */
  rowsOf(id: string): readonly StepLog[] {
    return this.rows.get(id) ?? [];
  }

  /** The runs that failed, each with its error. */
  failed(): FailedRun[] {
    return [...this.failures.values()];
  }

  /** The summaries of the complete runs, in plan order. */
  private completeInPlanOrder(): RunSummary[] {
    return (this.planned ?? []).filter((r) => this.summaries.has(r.id)).map((r) => this.summaries.get(r.id)!);
  }

  /** Every complete run, in plan order, as `renderReport` takes them. */
  runLogs(): RunLog[] {
    return this.completeInPlanOrder().map((s) => ({ id: s.id, config: s.config, rows: this.rowsOf(s.id), status: s.status, ...(s.samples ? { samples: s.samples } : {}) }));
  }

  /** summary.csv's text for the complete runs, in plan order. */
  summaryCsv(): string {
    return summaryCsv(this.completeInPlanOrder());
  }

  /** The store as plain data, partial runs included; `fromJSON` restores it. */
  toJSON(): MemorySweepStoreData {
    return {
      format: 'segloss-memory-sweep-store', version: 1, planned: this.planned, engine: this.engine,
      rows: Object.fromEntries(this.rows), summaries: [...this.summaries.values()], failures: this.failed(),
    };
  }

  /** A store from `toJSON()`'s data (or its JSON text). */
  static fromJSON(input: MemorySweepStoreData | string): MemorySweepStore {
    let data: MemorySweepStoreData;
    try {
      data = typeof input === 'string' ? JSON.parse(input) as MemorySweepStoreData : input;
    } catch (error) {
      throw new Error(`segloss MemorySweepStore.fromJSON: the text is not JSON (${(error as Error).message}): not a saved store`);
    }
    if (data?.format !== 'segloss-memory-sweep-store' || data.version !== 1) {
      throw new Error('segloss MemorySweepStore.fromJSON: not a saved store (format segloss-memory-sweep-store, version 1)');
    }
    const store = new MemorySweepStore();
    store.planned = data.planned;
    store.engine = data.engine ?? null;
    for (const [id, rows] of Object.entries(data.rows)) store.rows.set(id, rows);
    for (const summary of data.summaries) store.summaries.set(summary.id, summary);
    for (const failure of data.failures) store.failures.set(failure.id, failure);
    return store;
  }
}
