/**
 * A run reduced to what its report needs (issue #24): the figure's curves at plotted resolution,
 * every evaluation, the verdict's inputs, and the statistics of the seed's observations and puzzle.
 * A report holds reductions, never rows, so its memory grows with the runs and the points it plots
 * and not with the steps: a 10,001-row run is a few thousand numbers here.
 *
 * `RunReducer` takes a run's rows one at a time (a log read line by line, or a run being written)
 * and keeps only the per-step series it smooths at the end (one run's worth); `reduceRun` does the
 * same for a RunLog in memory. A sweep directory keeps each run's reduction beside its log
 * (runs/<id>.reduced.json, store.ts), so a report of a finished sweep reads no log at all.
 */
import type { RunConfig } from '../experiment/config.js';
import { lossOrder, type LossKey } from '../experiment/losses.js';
import type { Evaluation, StepLog } from '../experiment/train.js';
import type { RunLog } from './figures.js';
import type { PredictionSamples } from './overlays.js';
import { median, movingAverage, sampleIndices } from './series.js';

/** The version of a stored reduction; a file of another version is recomputed from its log. */
export const REDUCTION_FORMAT = 1;

/** Moving-average windows and points of the figures (figures.ts, puzzle.ts) and observation 4 (observations.ts). */
export const FIGURE = { gradWindow: 201, lossWindow: 11, maxPoints: 400 } as const;
export const PUZZLE_CURVE = { gradWindow: 201, maxPoints: 300, fromStep: 2000 } as const;
export const SPIKE = { lastStep: 1000, startSteps: 10, lossWindow: 11, gradWindow: 201, lossRatio: 1.5, gradRatio: 5 } as const;

/** One curve of a figure: a loss's smoothed values at the sampled steps (finite points only). */
export interface Curve {
  loss: LossKey;
  step: number[];
  value: number[];
}

/** Observation 4's measure of one run: the CCE loss's and gradient norm's start and peak within steps 0–1,000. */
export interface SpikeMeasure {
  lossStart: number;
  lossPeak: number;
  gradStart: number;
  gradPeak: number;
  holds: boolean;
}

export interface RunReduction {
  format: typeof REDUCTION_FORMAT;
  id: string;
  config: RunConfig;
  status: 'completed' | 'diverged';
  /** A U-Net run's validation pictures with its final predictions (from its completion marker). */
  samples?: PredictionSamples;
  /** Rows in the run's log. */
  rows: number;
  /** The last row's losses. */
  finalLosses: Partial<Record<LossKey, number>>;
  /** Every evaluation, in step order. */
  evals: { step: number; eval: Evaluation }[];
  /** Whether any row logged a finite gradient norm. */
  hasGradNorms: boolean;
  /**
   * The figure's curves (the first row's keys, in lossOrder): losses as a moving average over
   * FIGURE.lossWindow steps, gradient norms over FIGURE.gradWindow, at ≤ FIGURE.maxPoints evenly
   * spaced rows.
   */
  curves: { losses: Curve[]; gradNorms: Curve[] };
  /** Per logged gradient norm: the median over every row, and over the rows from PUZZLE_CURVE.fromStep (null: no finite value). */
  gradNormMedian: Partial<Record<LossKey, number | null>>;
  gradNormMedianLate: Partial<Record<LossKey, number | null>>;
  /** The puzzle figure's curve: each of config.loggedLosses' gradient norms, moving average over 201 rows, at ≤ 300 rows (null: not finite). */
  puzzleCurve: { step: number[]; values: Partial<Record<LossKey, (number | null)[]>> };
  /** Observation 4's measure; null when the run has no row of step 1,000, or a start is not a positive number. */
  spike: SpikeMeasure | null;
}

/** A growable column of float64s. */
class Column {
  private data = new Float64Array(1024);
  length = 0;

  push(value: number): void {
    if (this.length === this.data.length) {
      const grown = new Float64Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = value;
  }

  values(): Float64Array {
    return this.data.subarray(0, this.length);
  }
}

const finiteOrNull = (x: number): number | null => (Number.isFinite(x) ? x : null);
const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Reduces a run's rows as they come; `finish` gives the reduction. */
export class RunReducer {
  private readonly steps = new Column();
  private lossKeys: LossKey[] | null = null;
  /** The first row's gradient norms (the figure's), and those with the logged losses'. */
  private figureGradKeys: LossKey[] = [];
  private gradKeys: LossKey[] = [];
  private readonly losses = new Map<LossKey, Column>();
  private readonly grads = new Map<LossKey, Column>();
  private readonly evals: { step: number; eval: Evaluation }[] = [];
  private finalLosses: Partial<Record<LossKey, number>> = {};
  private hasGradNorms = false;
  private readonly early = { loss: [] as number[], grad: [] as number[], start: [] as boolean[], reachedLast: false };

  /** `loggedLosses`: the run's logged losses (config.loggedLosses), whose gradient norms the observations and the puzzle read. */
  constructor(private readonly loggedLosses: readonly LossKey[]) {}

  add(row: StepLog): void {
    if (this.lossKeys == null) {
      this.lossKeys = lossOrder(Object.keys(row.losses));
      this.figureGradKeys = lossOrder(Object.keys(row.gradNorms));
      this.gradKeys = lossOrder([...this.figureGradKeys, ...this.loggedLosses]);
      for (const k of this.lossKeys) this.losses.set(k, new Column());
      for (const k of this.gradKeys) this.grads.set(k, new Column());
    }
    this.steps.push(row.step);
    for (const [k, column] of this.losses) column.push(row.losses[k] ?? NaN);
    for (const [k, column] of this.grads) column.push(row.gradNorms[k] ?? NaN);
    if (!this.hasGradNorms) this.hasGradNorms = Object.values(row.gradNorms).some((v) => Number.isFinite(v));
    if (row.eval) this.evals.push({ step: row.step, eval: row.eval });
    this.finalLosses = row.losses;
    if (row.step <= SPIKE.lastStep) {
      this.early.loss.push(row.losses.cce ?? NaN);
      this.early.grad.push(row.gradNorms.cce ?? NaN);
      this.early.start.push(row.step <= SPIKE.startSteps);
      if (row.step === SPIKE.lastStep) this.early.reachedLast = true;
    }
  }

  finish(run: { id: string; config: RunConfig; status: 'completed' | 'diverged'; samples?: PredictionSamples }): RunReduction {
    const rows = this.steps.length;
    const steps = this.steps.values();
    const figureRows = sampleIndices(rows, FIGURE.maxPoints);
    const curve = (name: LossKey, values: Float64Array, window: number): Curve => {
      const smooth = movingAverage(values, window);
      const kept = figureRows.filter((i) => Number.isFinite(smooth[i]));
      return { loss: name, step: kept.map((i) => steps[i]), value: kept.map((i) => smooth[i]) };
    };
    const rowKeys = this.lossKeys ?? [];
    const puzzleRows = sampleIndices(rows, PUZZLE_CURVE.maxPoints);
    const gradNormMedian: RunReduction['gradNormMedian'] = {};
    const gradNormMedianLate: RunReduction['gradNormMedianLate'] = {};
    const puzzleValues: RunReduction['puzzleCurve']['values'] = {};
    for (const [k, column] of this.grads) {
      const values = column.values();
      gradNormMedian[k] = finiteOrNull(median(values));
      gradNormMedianLate[k] = finiteOrNull(median(values.filter((_, i) => steps[i] >= PUZZLE_CURVE.fromStep)));
      if (this.loggedLosses.includes(k)) {
        const smooth = movingAverage(values, PUZZLE_CURVE.gradWindow);
        puzzleValues[k] = puzzleRows.map((i) => finiteOrNull(smooth[i]));
      }
    }
    return {
      format: REDUCTION_FORMAT,
      id: run.id,
      config: run.config,
      status: run.status,
      ...(run.samples ? { samples: run.samples } : {}),
      rows,
      finalLosses: this.finalLosses,
      evals: this.evals,
      hasGradNorms: this.hasGradNorms,
      curves: {
        losses: rowKeys.map((k) => curve(k, this.losses.get(k)!.values(), FIGURE.lossWindow)),
        gradNorms: this.hasGradNorms ? this.figureGradKeys.map((k) => curve(k, this.grads.get(k)!.values(), FIGURE.gradWindow)) : [],
      },
      gradNormMedian,
      gradNormMedianLate,
      puzzleCurve: { step: puzzleRows.map((i) => steps[i]), values: puzzleValues },
      spike: this.spike(),
    };
  }

  private spike(): SpikeMeasure | null {
    const { loss, grad, start: isStart, reachedLast } = this.early;
    if (!reachedLast) return null;
    const start = (v: number[]) => mean(v.filter((x, i) => isStart[i] && Number.isFinite(x)));
    const peak = (v: number[], window: number) => Math.max(...movingAverage(v, window).filter(Number.isFinite));
    const lossStart = start(loss);
    const gradStart = start(grad);
    if (!(lossStart > 0) || !(gradStart > 0)) return null;
    const lossPeak = peak(loss, SPIKE.lossWindow);
    const gradPeak = peak(grad, SPIKE.gradWindow);
    return { lossStart, lossPeak, gradStart, gradPeak, holds: lossPeak >= SPIKE.lossRatio * lossStart && gradPeak >= SPIKE.gradRatio * gradStart };
  }
}

/** The reduction of a run whose rows are in memory. */
export function reduceRun(run: RunLog): RunReduction {
  const reducer = new RunReducer(run.config.loggedLosses);
  for (const row of run.rows) reducer.add(row);
  return reducer.finish(run);
}

/** A run as the report takes it: its log, or its reduction. */
export type ReportInput = RunLog | RunReduction;

export function isReduction(run: ReportInput): run is RunReduction {
  return typeof run.rows === 'number';
}

export function toReduction(run: ReportInput): RunReduction {
  return isReduction(run) ? run : reduceRun(run);
}
