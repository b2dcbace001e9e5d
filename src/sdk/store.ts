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
import type { RunConfig } from '../experiment/config.js';
import type { RunOutcome, StepLog } from '../experiment/train.js';
import type { LossName } from '../losses/types.js';

/** What the completion marker records, and the summary and report read. */
export interface RunSummary {
  id: string;
  config: RunConfig;
  status: RunOutcome['status'];
  steps: number;
  divergedAt: number | null;
  finalAccuracy: number | null;
  bestAccuracy: number | null;
  finalLosses: Partial<Record<LossName, number>>;
  /** Per-class Dice of the final evaluation: a class at 0 was never predicted correctly. */
  finalDice: number[] | null;
}

export interface FailedRun {
  id: string;
  error: string;
}

function writeAtomic(path: string, content: string): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, content);
  renameSync(tmp, path);
}

export function rowToJson(row: StepLog): string {
  const out: Record<string, unknown> = { step: row.step, losses: row.losses, gradNorms: row.gradNorms };
  if (row.eval) Object.assign(out, { accuracy: row.eval.accuracy, dice: row.eval.dice, iou: row.eval.iou });
  return JSON.stringify(out);
}

export class SweepStore {
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
    const losses = [...new Set(summaries.flatMap((s) => Object.keys(s.finalLosses)))] as LossName[];
    const header = ['id', 'optimizer', 'batchNorm', 'foreground', 'trainLoss', 'seed', 'status', 'steps',
      'divergedAt', 'finalAccuracy', 'bestAccuracy', 'finalDiceBackground', 'finalDiceForeground',
      ...losses.map((l) => `final_${l}`)];
    const cell = (v: unknown) => (v == null ? '' : String(v));
    const lines = summaries.map((s) => [s.id, s.config.optimizer.name, s.config.batchNorm, s.config.foreground,
      s.config.trainLoss, s.config.seed, s.status, s.steps, s.divergedAt, s.finalAccuracy, s.bestAccuracy,
      s.finalDice?.[0], s.finalDice?.[1], ...losses.map((l) => s.finalLosses[l])].map(cell).join(','));
    writeAtomic(join(this.dir, 'summary.csv'), [header.join(','), ...lines].join('\n') + '\n');
  }
}

/** Follows a run's rows to its summary fields (final and best accuracy, final losses). */
export class SummaryTracker {
  private finalAccuracy: number | null = null;
  private bestAccuracy: number | null = null;
  private finalDice: number[] | null = null;
  private finalLosses: Partial<Record<LossName, number>> = {};

  add(rows: readonly StepLog[]): void {
    for (const row of rows) {
      this.finalLosses = row.losses;
      if (row.eval) {
        this.finalAccuracy = row.eval.accuracy;
        this.bestAccuracy = Math.max(this.bestAccuracy ?? -Infinity, row.eval.accuracy);
        this.finalDice = row.eval.dice;
      }
    }
  }

  summary(id: string, config: RunConfig, outcome: RunOutcome): RunSummary {
    return {
      id, config, status: outcome.status, steps: outcome.steps, divergedAt: outcome.divergedAt ?? null,
      finalAccuracy: this.finalAccuracy, bestAccuracy: this.bestAccuracy, finalLosses: this.finalLosses,
      finalDice: this.finalDice,
    };
  }
}
