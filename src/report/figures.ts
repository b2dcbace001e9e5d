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
import { movingAverage, sampleIndices } from './series.js';

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
const GRAD_WINDOW = 201;
const LOSS_WINDOW = 11;
const MAX_POINTS = 400;

export interface RunLog {
  id: string;
  config: RunConfig;
  rows: readonly StepLog[];
  status: 'completed' | 'diverged';
  /** A U-Net run's validation pictures with its final predictions (from its completion marker). */
  samples?: PredictionSamples;
}

export interface FigureGroup {
  /** A file-safe key, e.g. `adam-bn0-95fg-run0` (`adam-bn0-95fg-inv-run0` with inverted inputs). */
  key: string;
  /** The seed's title lines: "95% Foreground (run 2)", "ADAM, Batch Norm: False". */
  title: [string, string];
  /** One run per training loss, in the order the sweep plans them (the seed's: cce, dicefg, dice). */
  runs: RunLog[];
}

/** Groups runs into the seed's figures: same optimizer, batch norm, foreground (and inversion) and seed. */
export function groupFigures(runs: readonly RunLog[]): FigureGroup[] {
  const groups = new Map<string, FigureGroup>();
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

function curveRows(rows: readonly StepLog[], pick: (r: StepLog) => Partial<Record<LossKey, number>>, window: number) {
  const names = rows.length > 0 ? lossOrder(Object.keys(pick(rows[0]))) : [];
  const keep = sampleIndices(rows.length, MAX_POINTS);
  return names.flatMap((name) => {
    const smooth = movingAverage(rows.map((r) => pick(r)[name] ?? NaN), window);
    return keep.filter((i) => Number.isFinite(smooth[i])).map((i) => ({ step: rows[i].step, loss: name, value: smooth[i] }));
  });
}

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

const hasGradNorms = (run: RunLog) => run.rows.some((r) => Object.values(r.gradNorms).some((v) => Number.isFinite(v)));

/** The vega-lite spec of one figure. */
export function figureSpec(group: FigureGroup): Record<string, unknown> {
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
          data: { values: curveRows(run.rows, (r) => r.gradNorms, GRAD_WINDOW) },
          mark: { type: 'line', strokeWidth: 1.2 },
          encoding: { x, y: { field: 'value', type: 'quantitative', title: `grad norm (MA ${GRAD_WINDOW})` }, color },
        }] : []),
        {
          ...(hasGradNorms(run) ? {} : { title: { text: lossTitle(run.config.trainLoss), fontSize: 12 } }),
          width: 240, height: 130,
          layer: [
            {
              data: { values: curveRows(run.rows, (r) => r.losses, LOSS_WINDOW) },
              mark: { type: 'line', strokeWidth: 1.2 },
              encoding: { x, y: { field: 'value', type: 'quantitative', title: `loss (MA ${LOSS_WINDOW})` }, color },
            },
            {
              data: { values: run.rows.filter((r) => r.eval).map((r) => ({ step: r.step, accuracy: r.eval!.accuracy })) },
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
