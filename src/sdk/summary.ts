/**
 * What a sweep records per run, in any store: the summary its completion marker holds, a failure,
 * the JSON form of a log row, and summary.csv's text.
 */
import type { RunConfig } from '../experiment/config.js';
import type { RunOutcome, StepLog } from '../experiment/train.js';
import type { LossKey } from '../experiment/losses.js';
import type { PredictionSamples } from '../report/overlays.js';

/** What the completion marker records, and the summary and report read. */
export interface RunSummary {
  id: string;
  config: RunConfig;
  status: RunOutcome['status'];
  steps: number;
  divergedAt: number | null;
  finalAccuracy: number | null;
  bestAccuracy: number | null;
  finalLosses: Partial<Record<LossKey, number>>;
  /** Per-class Dice of the final evaluation: a class at 0 was never predicted correctly. */
  finalDice: number[] | null;
  /** A U-Net run's validation pictures with its final predictions, for the report's overlays. */
  samples?: PredictionSamples;
}

/** A run that failed: its id, the error as text, and the attempt it failed under. */
export interface FailedRun {
  id: string;
  error: string;
  /** The claim (attempt) the run failed under: tells a failure of this sweep's from an earlier one. */
  attempt?: string;
}

export function rowToJson(row: StepLog): string {
  const out: Record<string, unknown> = { step: row.step, losses: row.losses, gradNorms: row.gradNorms };
  if (row.eval) Object.assign(out, { accuracy: row.eval.accuracy, dice: row.eval.dice, iou: row.eval.iou });
  return JSON.stringify(out);
}

/** summary.csv: one line per complete run, the losses' columns those the runs logged. */
export function summaryCsv(summaries: readonly RunSummary[]): string {
  const losses = [...new Set(summaries.flatMap((s) => Object.keys(s.finalLosses)))] as LossKey[];
  // A sweep with U-Net runs gains their model and data (JSON in a quoted cell); seed-only sweeps keep today's columns.
  const models = summaries.some((s) => s.config.model);
  const header = ['id', ...(models ? ['model', 'data'] : []), 'optimizer', 'batchNorm', 'foreground', 'invertInput', 'trainLoss', 'seed', 'status', 'steps',
    'divergedAt', 'finalAccuracy', 'bestAccuracy', 'finalDiceBackground', 'finalDiceForeground',
    ...losses.map((l) => `final_${l}`)];
  const cell = (v: unknown) => (v == null ? '' : String(v));
  const json = (v: unknown) => `"${JSON.stringify(v ?? null).replace(/"/g, '""')}"`;
  const lines = summaries.map((s) => [s.id, ...(models ? [json(s.config.model ?? { name: 'seed' }), json(s.config.data ?? { name: 'toy' })] : []),
    s.config.optimizer.name, s.config.batchNorm, s.config.foreground,
    s.config.invertInput ?? false, s.config.trainLoss, s.config.seed, s.status, s.steps, s.divergedAt, s.finalAccuracy, s.bestAccuracy,
    s.finalDice?.[0], s.finalDice?.[1], ...losses.map((l) => s.finalLosses[l])].map(cell).join(','));
  return [header.join(','), ...lines].join('\n') + '\n';
}

/** Follows a run's rows to its summary fields (final and best accuracy, final losses). */
export class SummaryTracker {
  private finalAccuracy: number | null = null;
  private bestAccuracy: number | null = null;
  private finalDice: number[] | null = null;
  private finalLosses: Partial<Record<LossKey, number>> = {};

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
      finalDice: this.finalDice, ...(outcome.samples ? { samples: outcome.samples } : {}),
    };
  }
}
