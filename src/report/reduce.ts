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

/**
 * A run reduced to what its report needs (see the module's header): its config and status, every
 * evaluation, the figure's smoothed curves, and the observations' and puzzle's statistics.
 */
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
  /** Every loss and gradient norm any row logged, one value a row (NaN where a row lacks it). */
  private readonly losses = new Map<LossKey, Column>();
  private readonly grads = new Map<LossKey, Column>();
  /** The first row's keys: the figure's curves. */
  private lossKeys: LossKey[] | null = null;
  private figureGradKeys: LossKey[] = [];
  private readonly evals: { step: number; eval: Evaluation }[] = [];
  private finalLosses: Partial<Record<LossKey, number>> = {};
  private hasGradNorms = false;

  /** Takes the run's next row (rows in step order). */
  add(row: StepLog): void {
    if (this.lossKeys == null) {
      this.lossKeys = lossOrder(Object.keys(row.losses));
      this.figureGradKeys = lossOrder(Object.keys(row.gradNorms));
    }
    this.addColumns(this.losses, row.losses);
    this.addColumns(this.grads, row.gradNorms);
    this.steps.push(row.step);
    for (const [k, column] of this.losses) column.push(row.losses[k] ?? NaN);
    for (const [k, column] of this.grads) column.push(row.gradNorms[k] ?? NaN);
    if (!this.hasGradNorms) this.hasGradNorms = Object.values(row.gradNorms).some((v) => Number.isFinite(v));
    if (row.eval) this.evals.push({ step: row.step, eval: row.eval });
    this.finalLosses = row.losses;
  }

  /** A column for each key first seen in this row, NaN for the rows before it. */
  private addColumns(columns: Map<LossKey, Column>, values: Partial<Record<LossKey, number>>): void {
    for (const k of Object.keys(values)) {
      if (columns.has(k)) continue;
      const column = new Column();
      for (let i = 0; i < this.steps.length; i++) column.push(NaN);
      columns.set(k, column);
    }
  }

  /** `run.config.loggedLosses`: the gradient norms the observations and the puzzle read. */
  finish(run: { id: string; config: RunConfig; status: 'completed' | 'diverged'; samples?: PredictionSamples }): RunReduction {
    const rows = this.steps.length;
    const steps = this.steps.values();
    const none = new Float64Array(rows).fill(NaN);
    const values = (columns: Map<LossKey, Column>, k: LossKey) => columns.get(k)?.values() ?? none;
    // A gradient norm's moving average over 201 rows serves the figure and the puzzle alike.
    const smoothed = new Map<string, number[]>();
    const smooth = (columns: Map<LossKey, Column>, k: LossKey, window: number) => {
      const key = `${columns === this.grads ? 'grad' : 'loss'} ${k} ${window}`;
      if (!smoothed.has(key)) smoothed.set(key, movingAverage(values(columns, k), window));
      return smoothed.get(key)!;
    };
    const figureRows = sampleIndices(rows, FIGURE.maxPoints);
    const curve = (columns: Map<LossKey, Column>, k: LossKey, window: number): Curve => {
      const average = smooth(columns, k, window);
      const kept = figureRows.filter((i) => Number.isFinite(average[i]));
      return { loss: k, step: kept.map((i) => steps[i]), value: kept.map((i) => average[i]) };
    };
    const logged = run.config.loggedLosses;
    const puzzleRows = sampleIndices(rows, PUZZLE_CURVE.maxPoints);
    const gradNormMedian: RunReduction['gradNormMedian'] = {};
    const gradNormMedianLate: RunReduction['gradNormMedianLate'] = {};
    const puzzleValues: RunReduction['puzzleCurve']['values'] = {};
    for (const k of lossOrder([...this.figureGradKeys, ...logged])) {
      const norms = values(this.grads, k);
      gradNormMedian[k] = finiteOrNull(median(norms));
      gradNormMedianLate[k] = finiteOrNull(median(norms.filter((_, i) => steps[i] >= PUZZLE_CURVE.fromStep)));
      if (logged.includes(k)) {
        const average = smooth(this.grads, k, PUZZLE_CURVE.gradWindow);
        puzzleValues[k] = puzzleRows.map((i) => finiteOrNull(average[i]));
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
        losses: (this.lossKeys ?? []).map((k) => curve(this.losses, k, FIGURE.lossWindow)),
        gradNorms: this.hasGradNorms ? this.figureGradKeys.map((k) => curve(this.grads, k, FIGURE.gradWindow)) : [],
      },
      gradNormMedian,
      gradNormMedianLate,
      puzzleCurve: { step: puzzleRows.map((i) => steps[i]), values: puzzleValues },
      spike: this.spike(values(this.losses, 'cce'), values(this.grads, 'cce')),
    };
  }

  /** Observation 4's measure on the CCE loss's and gradient norm's rows of steps 0–1,000. */
  private spike(cceLoss: Float64Array, cceGrad: Float64Array): SpikeMeasure | null {
    const steps = this.steps.values();
    const early: number[] = [];
    for (let i = 0; i < steps.length; i++) if (steps[i] <= SPIKE.lastStep) early.push(i);
    if (!early.some((i) => steps[i] === SPIKE.lastStep)) return null;
    const loss = early.map((i) => cceLoss[i]);
    const grad = early.map((i) => cceGrad[i]);
    const start = (v: number[]) => mean(v.filter((x, j) => steps[early[j]] <= SPIKE.startSteps && Number.isFinite(x)));
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
  const reducer = new RunReducer();
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
