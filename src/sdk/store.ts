/**
 * A sweep's directory, written so that no finished run is ever lost:
 *
 *   DIR/sweep.json              the spec, every planned run (id and resolved config), versions (no
 *                               timestamps: a sweep's files depend only on its spec)
 *   DIR/runs/<id>.jsonl         one JSON row per step, appended as the run goes
 *   DIR/runs/<id>.done.json     the completion marker, written last and atomically (tmp + rename):
 *                               a run is complete exactly when this exists
 *   DIR/runs/<id>.failed.json   a run whose worker threw or died, with the error
 *   DIR/summary.csv             one line per complete run
 *
 * A row: {"step", "losses": {name: value}, "gradNorms": {…}, and when evaluated "accuracy",
 * "dice": [bg, fg], "iou": [bg, fg]}.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StepLog } from '../experiment/train.js';
import type { RunStore } from './pool.js';
import { rowToJson, summaryCsv, type FailedRun, type RunSummary } from './summary.js';

export { rowToJson, SummaryTracker, type FailedRun, type RunSummary } from './summary.js';

function writeAtomic(path: string, content: string): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, content);
  renameSync(tmp, path);
}

/** A sweep's directory (the layout above). */
export class SweepStore implements RunStore {
  readonly runsDir: string;

  constructor(readonly dir: string) {
    this.runsDir = join(dir, 'runs');
    mkdirSync(this.runsDir, { recursive: true });
  }

  private path(id: string, suffix: string): string {
    return join(this.runsDir, `${id}${suffix}`);
  }

  writeSweep(content: object): void {
    writeAtomic(join(this.dir, 'sweep.json'), JSON.stringify(content, null, 2) + '\n');
  }

  readSweep(): Record<string, unknown> | null {
    const path = join(this.dir, 'sweep.json');
    return existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : null;
  }

  isComplete(id: string): boolean {
    return existsSync(this.path(id, '.done.json'));
  }

  readSummary(id: string): RunSummary {
    return JSON.parse(readFileSync(this.path(id, '.done.json'), 'utf8'));
  }

  /** Starts (or restarts) a run: its partial log and any failure record are removed. */
  beginRun(id: string): void {
    rmSync(this.path(id, '.jsonl'), { force: true });
    rmSync(this.path(id, '.failed.json'), { force: true });
    writeFileSync(this.path(id, '.jsonl'), '');
  }

  appendRows(id: string, rows: readonly StepLog[]): void {
    if (rows.length > 0) appendFileSync(this.path(id, '.jsonl'), rows.map(rowToJson).join('\n') + '\n');
  }

  completeRun(summary: RunSummary): void {
    writeAtomic(this.path(summary.id, '.done.json'), JSON.stringify(summary, null, 2) + '\n');
  }

  failRun(failure: FailedRun): void {
    writeAtomic(this.path(failure.id, '.failed.json'), JSON.stringify(failure, null, 2) + '\n');
  }

  writeSummaryCsv(summaries: readonly RunSummary[]): void {
    writeAtomic(join(this.dir, 'summary.csv'), summaryCsv(summaries));
  }
}

