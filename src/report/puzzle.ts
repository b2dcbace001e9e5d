/**
 * The seed's open puzzle (issue #15 §2): "the gradient norms for the 95% fg case are smaller than
 * those for the 5% fg case", although CCE and Dice treat the two classes alike.
 *
 * The hypothesis tested: in the toy task the minority class of 5% fg sits at high intensities
 * (x > 0.95) and that of 95% fg at low ones (x < 0.05). A conv weight's gradient is a sum of
 * input intensities times output errors, so errors on bright pixels weigh more than errors on
 * dark ones: the task is asymmetric in its inputs although the losses are symmetric in the
 * classes. `invertInput` (x → 1 − x after labelling) moves each minority to the other end of [0, 1]
 * and keeps everything else: 95% fg inverted is 5% fg with the class indices swapped, which a
 * two-logit head and a class-symmetric loss cannot tell apart.
 *
 * So if the gap is the foreground fraction's, inverting keeps it; if it is the intensities',
 * inverting reverses it: 95% fg inverted then has the larger norms.
 */
import type { RunConfig } from '../experiment/config.js';
import type { LossKey as LossName } from '../experiment/losses.js';
import { PUZZLE_CURVE, toReduction, type ReportInput, type RunReduction } from './reduce.js';
import { median } from './series.js';

/**
 * Steps before this are left out of the comparison: the gap forms after them (measured over 10
 * seeds of 10,001 steps: before step 2,000 it shows in one of the four comparisons, after it in all).
 */
export const PUZZLE_FROM_STEP = PUZZLE_CURVE.fromStep;
/** A ratio within [1/1.25, 1.25] counts as no gap. */
export const PUZZLE_NO_GAP = 1.25;
/** The class-symmetric losses the seed's puzzle is about. */
const SYMMETRIC: LossName[] = ['cce', 'dice'];

export type PuzzleCell = '5fg' | '5fg-inv' | '95fg' | '95fg-inv';
const CELLS: PuzzleCell[] = ['5fg', '5fg-inv', '95fg', '95fg-inv'];
const CELL_TITLES: Record<PuzzleCell, string> = {
  '5fg': '5% fg', '5fg-inv': '5% fg, inverted', '95fg': '95% fg', '95fg-inv': '95% fg, inverted',
};

/**
 * For one training loss and one logged loss (CCE or Dice), the gradient norms at 5% and 95% fg with
 * inputs as drawn and inverted, their ratios, and which explanation of the gap they support.
 */
export interface PuzzleComparison {
  trainLoss: LossName;
  logged: LossName;
  /** Per cell: the median over seeds of each run's median gradient norm from PUZZLE_FROM_STEP on. */
  medians: Record<PuzzleCell, number>;
  /** medians 5fg / 95fg: above 1 where the seed saw its gap. */
  asDrawn: number;
  /** medians 5fg-inv / 95fg-inv: the same with the minority's intensity swapped. */
  inverted: number;
  /** Seeds (paired by seed across the four cells) where asDrawn > 1 and inverted < 1: the gap reverses. */
  reversedInSeeds: number;
  seeds: number;
  /**
   * 'intensity': the gap (asDrawn > 1.25) reverses when inverted (inverted < 1 / 1.25): it follows
   * the minority's intensity. 'fraction': it stays (inverted > 1.25). 'no gap': asDrawn within
   * [1 / 1.25, 1.25]. 'other': anything else (a reversed gap as drawn, a gap that only vanishes).
   */
  verdict: 'intensity' | 'fraction' | 'no gap' | 'other';
}

/** The puzzle's answer from a sweep (analysePuzzle): a comparison per training and logged loss it covers. */
export interface PuzzleAnalysis {
  /** Training losses × the class-symmetric logged losses, with all four cells present. */
  comparisons: PuzzleComparison[];
}

const cellOf = (c: RunConfig): PuzzleCell | null => {
  const fg = Math.round(c.foreground * 100);
  if (fg !== 5 && fg !== 95) return null;
  return `${fg}fg${c.invertInput ? '-inv' : ''}` as PuzzleCell;
};

/** Runs of the puzzle's setting: Adam, no BN, 5% or 95% fg; keyed by training loss, then cell. */
function puzzleRuns(inputs: readonly ReportInput[]): Map<LossName, Map<PuzzleCell, RunReduction[]>> {
  const out = new Map<LossName, Map<PuzzleCell, RunReduction[]>>();
  for (const input of inputs) {
    const c = input.config;
    const cell = cellOf(c);
    if (!cell || c.optimizer.name !== 'adam' || c.batchNorm || c.model) continue; // the seed's net only
    const run = toReduction(input);
    const byCell = out.get(c.trainLoss) ?? new Map<PuzzleCell, RunReduction[]>();
    byCell.set(cell, [...(byCell.get(cell) ?? []), run]);
    out.set(c.trainLoss, byCell);
  }
  return out;
}

/** Whether a sweep can answer the puzzle: Adam without BN at 5% and 95% fg, with inputs as drawn and inverted. */
export function coversPuzzle(runs: readonly ReportInput[]): boolean {
  return [...puzzleRuns(runs).values()].some((byCell) => CELLS.every((c) => byCell.has(c)));
}

const runMedian = (run: RunReduction, logged: LossName) => run.gradNormMedianLate[logged] ?? NaN;

/** The comparison of every training loss with all four cells, for CCE's and Dice's gradient norms. */
export function analysePuzzle(runs: readonly ReportInput[]): PuzzleAnalysis {
  const comparisons: PuzzleComparison[] = [];
  for (const [trainLoss, byCell] of puzzleRuns(runs)) {
    if (!CELLS.every((c) => byCell.has(c))) continue;
    for (const logged of SYMMETRIC) {
      if (!CELLS.every((c) => byCell.get(c)!.every((r) => r.config.loggedLosses.includes(logged)))) continue;
      const perRun = Object.fromEntries(CELLS.map((c) => [c, new Map(byCell.get(c)!.map((r) => [r.config.seed, runMedian(r, logged)]))])) as Record<PuzzleCell, Map<number, number>>;
      const medians = Object.fromEntries(CELLS.map((c) => [c, median([...perRun[c].values()])])) as Record<PuzzleCell, number>;
      const asDrawn = medians['5fg'] / medians['95fg'];
      const inverted = medians['5fg-inv'] / medians['95fg-inv'];
      const seeds = [...perRun['5fg'].keys()].filter((s) => CELLS.every((c) => perRun[c].has(s)));
      const reversedInSeeds = seeds.filter((s) => perRun['5fg'].get(s)! > perRun['95fg'].get(s)!
        && perRun['5fg-inv'].get(s)! < perRun['95fg-inv'].get(s)!).length;
      const verdict: PuzzleComparison['verdict'] = asDrawn < PUZZLE_NO_GAP && asDrawn > 1 / PUZZLE_NO_GAP ? 'no gap'
        : asDrawn >= PUZZLE_NO_GAP && inverted <= 1 / PUZZLE_NO_GAP ? 'intensity'
          : asDrawn >= PUZZLE_NO_GAP && inverted >= PUZZLE_NO_GAP ? 'fraction' : 'other';
      comparisons.push({ trainLoss, logged, medians, asDrawn, inverted, reversedInSeeds, seeds: seeds.length, verdict });
    }
  }
  return { comparisons };
}

/** One line per comparison, for the CLI and the report. */
export function describeComparison(c: PuzzleComparison): string {
  const n = (x: number) => x.toPrecision(3);
  return `trained with ${c.trainLoss}, ${c.logged}'s gradient norm (median from step ${PUZZLE_FROM_STEP}): `
    + `5% fg ${n(c.medians['5fg'])} vs 95% fg ${n(c.medians['95fg'])} (×${c.asDrawn.toFixed(2)}); inverted `
    + `${n(c.medians['5fg-inv'])} vs ${n(c.medians['95fg-inv'])} (×${c.inverted.toFixed(2)}); reversed in ${c.reversedInSeeds}/${c.seeds} seeds → ${c.verdict}`;
}

/**
 * A run's puzzle curve of `name` at `step`: the point at the last of its sampled steps ≤ `step`
 * (its own point when the runs have the same length, as a cell's completed runs do).
 */
function curveAt(run: RunReduction, name: LossName, step: number): number {
  const { step: steps, values } = run.puzzleCurve;
  let lo = 0;
  let hi = steps.length - 1;
  if (hi < 0 || steps[0] > step) return NaN;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (steps[mid] <= step) lo = mid;
    else hi = mid - 1;
  }
  return values[name]?.[lo] ?? NaN;
}
const COLORS: Record<PuzzleCell, string> = { '5fg': '#d62728', '5fg-inv': '#ff9896', '95fg': '#1f77b4', '95fg-inv': '#aec7e8' };

/**
 * The puzzle's figure: one panel per (logged loss, training loss), the global gradient norm over
 * steps (moving average over 201 steps, log scale), one line per (foreground, inversion): the
 * mean over seeds, with a band from the lowest to the highest seed.
 */
export function puzzleFigureSpec(runs: readonly ReportInput[]): Record<string, unknown> {
  const rows: { step: number; cell: string; logged: string; train: string; mean: number; lo: number; hi: number }[] = [];
  const logged: LossName[] = [];
  for (const [trainLoss, byCell] of puzzleRuns(runs)) {
    if (!CELLS.every((c) => byCell.has(c))) continue;
    for (const cell of CELLS) {
      const members = byCell.get(cell)!;
      for (const name of members[0].config.loggedLosses) {
        if (!members.every((r) => r.config.loggedLosses.includes(name))) continue;
        if (!logged.includes(name)) logged.push(name);
        // The shortest member's sampled steps (all members' when they ran alike).
        const shortest = members.reduce((a, b) => (b.rows < a.rows ? b : a));
        for (const step of shortest.puzzleCurve.step) {
          const values = members.map((r) => curveAt(r, name, step)).filter(Number.isFinite);
          if (!values.length) continue;
          rows.push({
            step, cell: CELL_TITLES[cell], logged: name.toUpperCase(), train: `trained with ${trainLoss.toUpperCase()}`,
            mean: values.reduce((a, b) => a + b, 0) / values.length, lo: Math.min(...values), hi: Math.max(...values),
          });
        }
      }
    }
  }
  // One legend for both layers (a `legend: null` in either would drop it): lines, fully opaque.
  const color = {
    field: 'cell', type: 'nominal', title: null, scale: { domain: CELLS.map((c) => CELL_TITLES[c]), range: CELLS.map((c) => COLORS[c]) },
    legend: { symbolType: 'stroke', symbolStrokeWidth: 3, symbolOpacity: 1 },
  };
  const x = { field: 'step', type: 'quantitative', title: 'step', axis: { tickCount: 4 } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: { text: 'The puzzle: gradient norms at 5% and 95% fg, inputs as drawn and inverted', subtitle: 'Adam, no BN; mean over seeds (line) and lowest to highest seed (band); moving average over 201 steps' },
    data: { values: rows },
    facet: {
      row: { field: 'logged', type: 'nominal', title: 'gradient norm of', sort: logged.map((n) => n.toUpperCase()) },
      column: { field: 'train', type: 'nominal', title: null },
    },
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: 260, height: 150,
      layer: [
        { mark: { type: 'area', opacity: 0.18 }, encoding: { x, y: { field: 'lo', type: 'quantitative', scale: { type: 'log' }, title: null }, y2: { field: 'hi' }, color } },
        { mark: { type: 'line', strokeWidth: 1.4 }, encoding: { x, y: { field: 'mean', type: 'quantitative', scale: { type: 'log' }, title: null }, color } },
      ],
    },
  };
}

/** The puzzle's lines for the CLI's summary: none when the sweep does not cover it. */
export function puzzleLines(analysis: PuzzleAnalysis | null | undefined): string[] {
  if (!analysis?.comparisons.length) return [];
  return ['the seed\'s puzzle (gradient norms at 5% vs 95% fg, inputs as drawn and inverted):', ...analysis.comparisons.map((c) => `  ${describeComparison(c)}`)];
}
