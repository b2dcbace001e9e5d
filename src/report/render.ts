/**
 * Vega-lite specs to SVG without a DOM (a vega View with renderer 'none'), in Node or a browser;
 * and `renderReport`, the report a sweep ends with: one SVG per figure and the overview's data.
 */
import { compile } from 'vega-lite';
import { parse, View } from 'vega';
import { architectureTitle } from '../experiment/config.js';
import { lossOrder, type LossKey } from '../experiment/losses.js';
import { figureSpec, groupFigures } from './figures.js';
import { checkObservations, modelObservations, type ObservationCheck } from './observations.js';
import { analysePuzzle, coversPuzzle, puzzleFigureSpec, type PuzzleAnalysis } from './puzzle.js';
import { overlayPng } from './overlays.js';
import { minorityDice, rankLosses, settingOf, type RankingGroup } from './ranking.js';
import { toReduction, type ReportInput, type RunReduction } from './reduce.js';
import { judgeEvals, type RunVerdict } from './verdict.js';
import type { RunConfig } from '../experiment/config.js';

/**
 * A vega-lite spec drawn as an SVG document's text, without a DOM.
 *
 * A report's figures share a few layouts and differ in their data and title; compiling a spec
 * (vega-lite) and parsing it (vega) took ≈ 30 of a figure's ≈ 80 ms of vega. So a spec is split
 * into its layout (everything but its inline data's values and its title's text) and those; each
 * layout is compiled and parsed once, with named data sources and the title as a signal, and each
 * spec's values are bound to a view of it (the same SVG, byte for byte: test/render_cache.test.ts).
 */
export async function specToSvg(spec: Record<string, unknown>): Promise<string> {
  const { layout, datasets, title } = splitSpec(spec);
  const key = JSON.stringify(layout);
  let runtime = runtimes.get(key);
  if (runtime) runtimes.delete(key); // re-inserted below: the map's order is its use
  else runtime = parse(compile(layout as never).spec);
  runtimes.set(key, runtime);
  if (runtimes.size > RUNTIMES_KEPT) runtimes.delete(runtimes.keys().next().value!);
  const view = new View(runtime, { renderer: 'none' });
  try {
    if (title !== undefined) view.signal(TITLE_SIGNAL, title);
    datasets.forEach((values, k) => view.data(`${DATA_PREFIX}${k}`, values as object[]));
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Layouts compiled and parsed, the last used last (a report uses one or two; a page, a few). */
const runtimes = new Map<string, ReturnType<typeof parse>>();
const RUNTIMES_KEPT = 16;
const DATA_PREFIX = 'segloss_data_';
const TITLE_SIGNAL = 'segloss_title';

/**
 * A spec's layout, its inline data's values (in the order met, each replaced by a named source
 * `segloss_data_<k>`) and its top-level title's text (replaced by the signal `segloss_title`).
 */
function splitSpec(spec: Record<string, unknown>): { layout: Record<string, unknown>; datasets: unknown[][]; title?: unknown } {
  const datasets: unknown[][] = [];
  const strip = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(strip);
    if (node === null || typeof node !== 'object') return node;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) {
      const data = v as { values?: unknown } | null;
      if (k === 'data' && data !== null && typeof data === 'object' && Array.isArray(data.values) && Object.keys(data).length === 1) {
        out.data = { name: `${DATA_PREFIX}${datasets.length}` };
        datasets.push(data.values);
      } else {
        out[k] = strip(v);
      }
    }
    return out;
  };
  const layout = strip(spec) as Record<string, unknown>;
  const title = layout.title;
  const text = typeof title === 'object' && title !== null && !Array.isArray(title) ? (title as { text?: unknown }).text : title;
  if (typeof text !== 'string' && !(Array.isArray(text) && text.every((t) => typeof t === 'string'))) return { layout, datasets };
  layout.title = { ...(typeof title === 'object' ? title : {}), text: { expr: TITLE_SIGNAL } };
  layout.params = [...((layout.params as unknown[] | undefined) ?? []), { name: TITLE_SIGNAL, value: '' }]; // its value is each view's
  return { layout, datasets, title: text };
}

/** One run in a report: its setting, status and steps, its final scores and losses, and its verdict. */
export interface ReportRun extends RunVerdict {
  id: string;
  figure: string;
  /** The network and data ('' for the seed's net on its toy data; architectureTitle otherwise). */
  model: string;
  optimizer: string;
  batchNorm: boolean;
  foreground: number;
  invertInput: boolean;
  trainLoss: LossKey;
  seed: number;
  status: 'completed' | 'diverged';
  steps: number;
  finalAccuracy: number | null;
  /** The final evaluation's Dice of the minority class (minorityDice: the foreground's up to 50 % fg, the background's above). */
  finalDiceMinority: number | null;
  /** The final evaluation's Dice per class (background, foreground). */
  finalDice: number[] | null;
  finalLosses: Partial<Record<LossKey, number>>;
}

/**
 * The runs of one cell (model, optimizer, batch norm, foreground, inversion, training loss): how many,
 * the mean and spread of their final accuracy and minority Dice, and their verdicts by count.
 */
export interface ReportCell {
  /** As ReportRun's. */
  model: string;
  optimizer: string;
  batchNorm: boolean;
  foreground: number;
  invertInput: boolean;
  trainLoss: LossKey;
  runs: number;
  meanAccuracy: number | null;
  /** Sample standard deviation of the final accuracy over the cell's runs (0 for one run). */
  sdAccuracy: number | null;
  /** The same of the final Dice of the minority class. */
  meanDiceMinority: number | null;
  sdDiceMinority: number | null;
  verdicts: Partial<Record<RunVerdict['verdict'], number>>;
}

/** One figure of a report. */
export interface ReportFigure {
  key: string;
  title: [string, string];
  svg: string;
}

/** A sweep's report (renderReport): figures, runs, cells, ranking, overlays, observations and the puzzle. */
export interface Report {
  /** The figures; their `svg` is '' when `RenderOptions.drawFigure` drew them. */
  figures: ReportFigure[];
  runs: ReportRun[];
  cells: ReportCell[];
  /** The training losses ranked by the final Dice of the minority class, per setting (ranking.ts). */
  ranking: RankingGroup[];
  /**
   * Per cell of U-Net runs, its first run's (lowest seed's) validation pictures with the final
   * predictions, as a PNG strip (overlays.ts); `setting` as the ranking's.
   */
  overlays: { runId: string; setting: string; trainLoss: LossKey; seed: number; png: Uint8Array }[];
  /** The seed's observations checked on each U-Net model's runs (where one is covered). */
  modelObservations: { model: string; checks: ObservationCheck[] }[];
  /** The seed's five observations checked on these runs (src/report/observations.ts). */
  observations: ObservationCheck[];
  /** The seed's puzzle, where the sweep has its cells (the `puzzle` preset): its figure and analysis. */
  puzzle: { svg: string; analysis: PuzzleAnalysis } | null;
}

function reportRun(run: RunReduction, figure: string): ReportRun {
  const lastEval = run.evals.at(-1)?.eval;
  return {
    id: run.id, figure, model: architectureTitle(run.config), optimizer: run.config.optimizer.name, batchNorm: run.config.batchNorm,
    foreground: run.config.foreground, invertInput: run.config.invertInput, trainLoss: run.config.trainLoss, seed: run.config.seed, status: run.status,
    steps: run.rows, finalAccuracy: lastEval?.accuracy ?? null, finalDiceMinority: minorityDice(lastEval?.dice, run.config.foreground),
    finalDice: lastEval?.dice ?? null, finalLosses: run.finalLosses,
    ...judgeEvals(run.config, run.evals, run.status),
  };
}

/** Mean and sample standard deviation (0 for one value) of the values that are there; nulls when none is. */
function meanAndSd(values: readonly (number | null)[]): [number | null, number | null] {
  const xs = values.filter((v): v is number => v != null && Number.isFinite(v));
  if (xs.length === 0) return [null, null];
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return [mean, xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0];
}

/** A run the report loads when it draws the run's figure (writeReport: from its directory, one figure's runs at a time). */
export interface RunHandle {
  id: string;
  config: RunConfig;
  load(): RunReduction | Promise<RunReduction>;
}

export interface RenderOptions {
  /**
   * Draws each figure instead of the report (writeReport: to its files, on every core); the
   * report then keeps no SVG (`svg` is ''), so its memory does not grow with the figures. The
   * report goes on to the next figure when the returned promise resolves.
   */
  drawFigure?: (figure: { key: string; title: [string, string]; spec: Record<string, unknown> }) => Promise<void>;
}

/**
 * What the rest of the report keeps of a run once its figure is drawn: no curves, and of its
 * evaluations the last (the verdict's; the convergence step is taken before).
 */
const lighten = (run: RunReduction): RunReduction => ({ ...run, curves: { losses: [], gradNorms: [] }, evals: run.evals.slice(-1) });

/**
 * Figures, per-run verdicts, per-cell accuracy statistics and the seed's observations checked on
 * a sweep's runs: their logs (RunLog, as a MemoryStore gives them) or their reductions.
 */
export async function renderReport(runs: readonly ReportInput[], options: RenderOptions = {}): Promise<Report> {
  return renderRuns(runs.map((run) => ({ id: run.id, config: run.config, load: () => toReduction(run) })), options);
}

/**
 * The report of runs loaded one figure at a time: a figure's runs are loaded (reduced), drawn and
 * lightened before the next figure's, so the memory holds one figure's curves at a time.
 */
export async function renderRuns(handles: readonly RunHandle[], options: RenderOptions = {}): Promise<Report> {
  const groups = groupFigures(handles);
  const figures: Report['figures'] = [];
  const light = new Map<string, RunReduction>();
  const reportRunOf = new Map<string, ReportRun>();
  for (const group of groups) {
    const members: RunReduction[] = [];
    for (const h of group.runs) members.push(await h.load());
    const spec = figureSpec({ ...group, runs: members });
    if (options.drawFigure) {
      await options.drawFigure({ key: group.key, title: group.title, spec });
      figures.push({ key: group.key, title: group.title, svg: '' });
    } else {
      figures.push({ key: group.key, title: group.title, svg: await specToSvg(spec) });
    }
    for (const run of members) {
      reportRunOf.set(run.id, reportRun(run, group.key));
      light.set(run.id, lighten(run));
    }
  }
  const runs = handles.map((h) => light.get(h.id)!);
  const reportRuns = handles.map((h) => reportRunOf.get(h.id)!);
  const cells = new Map<string, ReportRun[]>();
  for (const r of reportRuns) {
    const key = `${r.model}|${r.optimizer}|${r.batchNorm}|${r.foreground}|${r.invertInput}|${r.trainLoss}`;
    cells.set(key, [...(cells.get(key) ?? []), r]);
  }
  const reportCells = [...cells.values()].map((members) => {
    const [mean, sd] = meanAndSd(members.map((m) => m.finalAccuracy));
    const [meanDice, sdDice] = meanAndSd(members.map((m) => m.finalDiceMinority));
    const verdicts: ReportCell['verdicts'] = {};
    for (const m of members) verdicts[m.verdict] = (verdicts[m.verdict] ?? 0) + 1;
    const { model, optimizer, batchNorm, foreground, invertInput, trainLoss } = members[0];
    return {
      model, optimizer, batchNorm, foreground, invertInput, trainLoss, runs: members.length, meanAccuracy: mean, sdAccuracy: sd,
      meanDiceMinority: meanDice, sdDiceMinority: sdDice, verdicts,
    };
  });
  // The seed's losses in LOSS_NAMES order, then the others in the order the sweep plans them.
  const order = lossOrder(runs.map((r) => r.config.trainLoss));
  reportCells.sort((a, b) => a.model.localeCompare(b.model) || a.optimizer.localeCompare(b.optimizer) || Number(a.batchNorm) - Number(b.batchNorm)
    || a.foreground - b.foreground || Number(a.invertInput) - Number(b.invertInput) || order.indexOf(a.trainLoss) - order.indexOf(b.trainLoss));
  const puzzle = coversPuzzle(runs) ? { svg: await specToSvg(puzzleFigureSpec(runs)), analysis: analysePuzzle(runs) } : null;
  return {
    figures, runs: reportRuns, cells: reportCells, ranking: rankLosses(reportCells), overlays: overlaysOf(runs, reportRuns),
    observations: checkObservations(runs), modelObservations: modelObservations(runs), puzzle,
  };
}

/** A PNG strip of predictions per cell: its lowest seed's run that kept pictures, in the order of the cells. */
function overlaysOf(runs: readonly RunReduction[], reportRuns: readonly ReportRun[]): Report['overlays'] {
  const chosen = new Map<string, { run: RunReduction; r: ReportRun }>();
  runs.forEach((run, k) => {
    if (!run.samples) return;
    const r = reportRuns[k];
    const key = `${settingOf(r)}|${r.trainLoss}`;
    const held = chosen.get(key);
    if (!held || r.seed < held.r.seed) chosen.set(key, { run, r });
  });
  return [...chosen.values()].map(({ run, r }) => ({ runId: r.id, setting: settingOf(r), trainLoss: r.trainLoss, seed: r.seed, png: overlayPng(run.samples!) }));
}
