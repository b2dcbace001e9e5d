/**
 * The seed's figure, as a vega-lite spec: one figure per (optimizer, batch norm, foreground, run),
 * one column per training loss; top row the global gradient norm of every logged loss (moving
 * average over 201 steps), bottom row every logged loss (moving average over 11) with validation
 * accuracy on a second y axis. A loss has the same colour in every figure.
 */
import type { PredictionSamples } from './overlays.js';
import { architectureOf, architectureTitle, type RunConfig } from '../experiment/config.js';
import type { StepLog } from '../experiment/train.js';
import { isSeedLoss, lossOrder, lossTitle, zooLossOf, type LossKey, type ZooLossName } from '../experiment/losses.js';
import { LOSS_NAMES, type LossName } from '../losses/types.js';
import { FIGURE, toReduction, type Curve, type ReportInput, type RunReduction } from './reduce.js';

/** The seed's colours (matplotlib's first three, in its figures' order: cce, dicefg, dice), then two more. */
export const LOSS_COLORS: Record<LossName, string> = {
  cce: '#1f77b4', dicefg: '#ff7f0e', dice: '#2ca02c', dice_square: '#d62728', dicefg_square: '#9467bd',
};
/** The zoo's losses (any options) in colours of their own. */
const ZOO_COLORS: Record<ZooLossName, string> = {
  'generalized-dice': '#8c564b', tversky: '#e377c2', focal: '#7f7f7f', 'dice-ce': '#bcbd22', lovasz: '#17becf',
};

/** A loss's colour in every figure: the seed's five fixed, each zoo loss its family's. */
export function lossColor(key: LossKey): string {
  if (isSeedLoss(key)) return LOSS_COLORS[key];
  const spec = zooLossOf(key);
  return spec ? ZOO_COLORS[spec.name] : '#000000';
}
const GRAD_WINDOW = FIGURE.gradWindow;
const LOSS_WINDOW = FIGURE.lossWindow;

/** A run with its rows in memory (a sweep's MemoryStore; the report reduces it: reduce.ts). */
export interface RunLog {
  id: string;
  config: RunConfig;
  rows: readonly StepLog[];
  status: 'completed' | 'diverged';
  /** A U-Net run's validation pictures with its final predictions (from its completion marker). */
  samples?: PredictionSamples;
}

/**
 * The runs of one figure: the same optimizer, batch norm, foreground (and inversion) and seed, one per
 * training loss.
 */
export interface FigureGroup<R = RunReduction> {
  /** A file-safe key, e.g. `adam-bn0-95fg-run0` (`adam-bn0-95fg-inv-run0` with inverted inputs). */
  key: string;
  /** The seed's title lines: "95% Foreground (run 2)", "ADAM, Batch Norm: False". */
  title: [string, string];
  /** One run per training loss, in the order the sweep plans them (the seed's: cce, dicefg, dice). */
  runs: R[];
}

/** Groups runs into the seed's figures: same optimizer, batch norm, foreground (and inversion) and seed. */
export function groupFigures<R extends { config: RunConfig }>(runs: readonly R[]): FigureGroup<R>[] {
  const groups = new Map<string, FigureGroup<R>>();
  for (const run of runs) {
    const c = run.config;
    const fg = Math.round(c.foreground * 100);
    const inv = c.invertInput ? '-inv' : '';
    const arch = architectureOf(c);
    const key = `${arch ? `${arch}-` : ''}${c.optimizer.name}-bn${c.batchNorm ? 1 : 0}-${fg}fg${inv}-run${c.seed}`;
    let group = groups.get(key);
    if (!group) {
      group = {
        key,
        title: [`${fg}% Foreground${inv ? ', inputs inverted' : ''} (run ${c.seed})`,
          `${arch ? `${architectureTitle(c)}: ` : ''}${c.optimizer.name.toUpperCase()}, Batch Norm: ${c.batchNorm ? 'True' : 'False'}`],
        runs: [],
      };
      groups.set(key, group);
    }
    group.runs.push(run);
  }
  return [...groups.values()];
}

/** A figure's data: every point of every curve, one row each. */
const curveRows = (curves: readonly Curve[]) =>
  curves.flatMap((c) => c.step.map((step, i) => ({ step, loss: c.loss, value: c.value[i] })));

const x = { field: 'step', type: 'quantitative', title: 'step', axis: { tickCount: 4 } };
/** Fixed colours for the seed's five losses and the zoo's; the legend lists the ones the figure logs. */
const colorFor = (logged: readonly LossKey[]) => {
  const domain = lossOrder([...LOSS_NAMES, ...logged]);
  return {
    field: 'loss', type: 'nominal', title: 'loss',
    scale: { domain, range: domain.map(lossColor) },
    legend: { values: lossOrder(logged) },
  };
};

const hasGradNorms = (run: RunReduction) => run.hasGradNorms;

/** The vega-lite spec of one figure (of runs' reductions, or of their logs, reduced here). */
export function figureSpec(input: FigureGroup<ReportInput>): Record<string, unknown> {
  const group = { ...input, runs: input.runs.map(toReduction) };
  const color = colorFor(group.runs.flatMap((r) => r.config.loggedLosses));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: group.title, anchor: 'middle', fontSize: 14 },
    config: { font: 'DejaVu Sans', view: { stroke: '#ddd' }, legend: { orient: 'right' } },
    hconcat: group.runs.map((run) => ({
      vconcat: [
        // The gradient norms on top, when the run logged them (a U-Net run's, sparse but for its training loss, unless gradNormEvery is 1).
        ...(hasGradNorms(run) ? [{
          title: { text: lossTitle(run.config.trainLoss), fontSize: 12 },
          width: 240, height: 130,
          data: { values: curveRows(run.curves.gradNorms) },
          mark: { type: 'line', strokeWidth: 1.2 },
          encoding: { x, y: { field: 'value', type: 'quantitative', title: `grad norm (MA ${GRAD_WINDOW})` }, color },
        }] : []),
        {
          ...(hasGradNorms(run) ? {} : { title: { text: lossTitle(run.config.trainLoss), fontSize: 12 } }),
          width: 240, height: 130,
          layer: [
            {
              data: { values: curveRows(run.curves.losses) },
              mark: { type: 'line', strokeWidth: 1.2 },
              encoding: { x, y: { field: 'value', type: 'quantitative', title: `loss (MA ${LOSS_WINDOW})` }, color },
            },
            {
              data: { values: run.evals.map((e) => ({ step: e.step, accuracy: e.eval.accuracy })) },
              mark: { type: 'line', color: 'black', strokeDash: [4, 3], strokeWidth: 1.2, point: { size: 10, color: 'black' } },
              encoding: {
                x,
                y: { field: 'accuracy', type: 'quantitative', title: 'accuracy (dashed)', scale: { zero: false }, axis: { orient: 'right' } },
              },
            },
          ],
          resolve: { scale: { y: 'independent' } },
        },
      ],
    })),
  };
}
