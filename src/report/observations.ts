/**
 * The seed's five observations (seed/loss-functions-post.txt, "Observations"), each checked on a
 * sweep's runs: **reproduced**, **not reproduced** (with the numbers), or **not covered** (the
 * sweep lacks cells the check needs; the message names them).
 *
 * Which runs count. A cell is (optimizer, batch norm, foreground, training loss), named like a run
 * id without the run: `adam-bn0-95fg-dicefg`. Only runs in the seed's setting count: every other
 * field of the config at the seed's value (32×32 images, batch 2, two 3×3 convs of 4 filters,
 * 10,001 steps, lr 1e-3, Adam's β1 .9, β2 .999, ε 1e-8 or plain SGD, inputs as drawn) and cce,
 * dicefg and dice logged. (How often and on how many images accuracy is evaluated may differ.) Other runs are set
 * aside and the message says so: "SGD never converged in 2,000 steps" is not the seed's claim.
 *
 * Convergence is `judgeRun`'s verdict: converged = the last evaluation's accuracy at least
 * half-way from always predicting the majority class to 1, and every evaluation since.
 *
 * Deciding on partial data. Each check says what contradicts the observation; a contradiction
 * among the cells present makes it **not reproduced** whatever is missing (a counter-example
 * suffices; the missing cells are named too). The observation is **reproduced** only when every
 * cell it needs is present and none contradicts it — except where a criterion is a majority
 * that is already decided (observation 3's accuracy part). Anything else is **not covered**.
 * Counts are over runs (seeds): "stuck in 3/3 runs".
 *
 * The criteria, and why (the seed's figures are in seed/figures/):
 *  1. Every run of the 18 SGD cells (BN off/on × 5/50/95% fg × cce/dicefg/dice) is not converged.
 *  2. Adam without BN: every run of the 8 cells other than 95% fg + DICEFG converged, and no run of
 *     `adam-bn0-95fg-dicefg` did (the seed's figure: stuck at accuracy 0.95).
 *  3. Two parts, both needed. (a) BN improved accuracy: with Adam, the mean final accuracy over runs
 *     is higher with BN than without in a majority (≥ 5) of the 9 (foreground, training loss)
 *     cells. Adam only: the seed's previous sentence says no SGD model converged either way, and
 *     its conclusion ("all models with BN achieved a good accuracy") only fits Adam. A majority,
 *     not every cell: the seed states a general effect, and converged accuracies differ by tenths
 *     of a point between seeds. Final accuracy is the overview table's. (b) BN made DICEFG at 95%
 *     fg converge: every run of `adam-bn1-95fg-dicefg` converged and fewer of `adam-bn0-95fg-dicefg`.
 *  4. In every run of `adam-bn0-50fg-dicefg` (the seed's figure: Adam, no BN), within steps
 *     0–1,000 the CCE loss, smoothed as in the figures (trailing moving average over 11 steps),
 *     peaks at ≥ 1.5× its start, and the CCE gradient norm (moving average over 201 steps) at ≥ 5×
 *     its start; start = the mean of steps 0–10. Calibration: in the seed's figure the smoothed
 *     norm goes from ≈ 0.25 to 3.3 (13×) and the loss leaves the 0–1 axis from ≈ 0.7 (≥ 1.4×),
 *     while the columns trained with CCE and DICE rise by less than 1.5×.
 *  5. Adam without BN, for each training loss (cce, dicefg, dice) and each logged loss's gradient
 *     norm (9 pairs): the median over runs of each run's median over all its steps (0–10,000) is
 *     smaller at 95% fg than at 5% fg. (A median of medians: each run weighs the same, and a run
 *     is reduced to its median once, so a report never holds rows; before issue #24 the median
 *     was over the runs' steps pooled.) Whole runs, not the first 2,000 steps: the seed compared whole figures, and in its
 *     DICEFG column the CCE norm at 95% fg climbs above the 5% fg one between steps ~500 and ~2,000
 *     before falling far below it. Adam without BN because the seed's only 5% fg figure is that.
 *     Per seed: run r at 95% against run r at 5%, counted as extra numbers.
 */
import type { LossName } from '../losses/types.js';
import { architectureTitle, type RunConfig } from '../experiment/config.js';
import { SPIKE, toReduction, type ReportInput, type RunReduction } from './reduce.js';
import { median } from './series.js';
import { judgeEvals, type Verdict } from './verdict.js';

export { SPIKE } from './reduce.js';

export type ObservationStatus = 'reproduced' | 'not reproduced' | 'not covered';

/** Convergence counts of one cell. */
export interface CellCount {
  /** `sgd-bn0-50fg-cce`. */
  cell: string;
  runs: number;
  converged: number;
  verdicts: Partial<Record<Verdict, number>>;
  /** Mean over runs of the last evaluation's accuracy (null if no run was evaluated). */
  meanAccuracy: number | null;
}

/** One comparison a check makes: `value` against `reference`, and whether it goes the seed's way. */
export interface Comparison {
  label: string;
  value: number;
  reference: number;
  holds: boolean;
  /** The same comparison per run (seed), where the check makes one: how many of how many hold. */
  perRun?: { holds: number; of: number };
}

/** Observation 4, per run: the start and peak (steps 0–1,000) of the CCE loss and its gradient norm. */
export interface Spike {
  id: string;
  lossStart: number;
  lossPeak: number;
  gradStart: number;
  gradPeak: number;
  holds: boolean;
}

/**
 * One of the seed's five observations checked on a sweep's runs: its status (reproduced, not
 * reproduced, not covered), the criterion, and the numbers behind the status.
 */
export interface ObservationCheck {
  id: 1 | 2 | 3 | 4 | 5;
  /** A few words: "SGD never converges". */
  title: string;
  /** The seed's own sentence. */
  seedWords: string;
  /** What is measured and what counts as reproduced, in one or two sentences. */
  criterion: string;
  status: ObservationStatus;
  /** One line with the numbers behind the status. */
  summary: string;
  /** Cells the check needs that the sweep has no run of (in the seed's setting). */
  missing: string[];
  /** Convergence counts of the cells used (observations 1, 2, 3). */
  cells: CellCount[];
  /** Observation 3: BN's accuracy against no BN's per cell; observation 5: medians at 95% vs 5% fg. */
  comparisons: Comparison[];
  /** Observation 4: one entry per run. */
  spikes: Spike[];
}

const SEED_FOREGROUNDS = [0.05, 0.5, 0.95] as const;
const SEED_LOSSES = ['cce', 'dicefg', 'dice'] as const satisfies readonly LossName[];
type Optimizer = 'adam' | 'sgd';

/** The observation-4 thresholds and window, and the smoothing of the seed's figures. */

const SEED_WORDS = {
  1: 'None of the models converged when optimized with SGD, whether BN was used or not.',
  2: 'Optimizing with ADAM made all models without BN converge except for the one trained with DICEFG on the 95% fg data.',
  3: 'Using BN before each activation improved models accuracy and helped to train the model with DICEFG on the 95% fg data successfully.',
  4: 'When training with DICEFG, the CCE loss and gradient norm skyrocketed in the beginning for the 50% fg dataset.',
  5: 'It is interesting to note, that the gradient norms for the 95% fg case are smaller than those for the 5% fg case.',
} as const;

const CRITERIA = {
  1: 'No run converges (judgeRun) in any of the 18 SGD cells: BN off/on × 5/50/95% fg × trained with cce/dicefg/dice.',
  2: 'Adam, BN off: every run of the 8 cells other than 95% fg + dicefg converges, and no run of adam-bn0-95fg-dicefg does.',
  3: '(a) Adam: the mean final accuracy is higher with BN than without in a majority (≥ 5) of the 9 (fg, training loss) cells; '
    + '(b) every run of adam-bn1-95fg-dicefg converges, and fewer of adam-bn0-95fg-dicefg.',
  4: `Every run of adam-bn0-50fg-dicefg: within steps 0–${SPIKE.lastStep.toLocaleString('en-US')} the CCE loss (moving average ${SPIKE.lossWindow}) peaks at `
    + `≥ ${SPIKE.lossRatio}× its start and the CCE gradient norm (moving average ${SPIKE.gradWindow}) at ≥ ${SPIKE.gradRatio}× its start (start: mean of steps 0–${SPIKE.startSteps}).`,
  5: 'Adam, BN off: for each training loss and each logged loss (9 pairs), the median over runs of each run\'s median gradient norm '
    + '(over all its steps) is smaller at 95% fg than at 5% fg.',
} as const;

const TITLES = {
  1: 'SGD never converges',
  2: 'Adam without BN: all converge but DICEFG at 95% fg',
  3: 'BN improves accuracy and rescues DICEFG at 95% fg',
  4: 'DICEFG at 50% fg: CCE loss and gradient norm shoot up at the start',
  5: 'Gradient norms smaller at 95% fg than at 5% fg',
} as const;

const SEED = {
  imageSize: 32, batchSize: 2, nConv: 2, filters: 4, steps: 10_001,
  adam: { learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 },
  sgd: { learningRate: 1e-3, momentum: 0 },
} as const;

/** How a run's config differs from the seed's setting (beyond the grid axes and the seed); [] if it does not. */
export function seedSettingDifferences(config: RunConfig): string[] {
  if (config.model) return [`the model is ${architectureTitle(config)}, not the seed's net`];
  const out: string[] = [];
  for (const key of ['imageSize', 'batchSize', 'nConv', 'filters', 'steps'] as const) {
    if (config[key] !== SEED[key]) out.push(`${key} ${config[key]} (the seed's: ${SEED[key]})`);
  }
  const opt = config.optimizer;
  const seedOpt: Record<string, number> = opt.name === 'adam' ? SEED.adam : SEED.sgd;
  for (const [key, value] of Object.entries(seedOpt)) {
    const ours = (opt as unknown as Record<string, number>)[key];
    if (ours !== value) out.push(`${opt.name} ${key} ${ours} (the seed's: ${value})`);
  }
  if (config.invertInput) out.push('inputs inverted');
  const unlogged = SEED_LOSSES.filter((l) => !config.loggedLosses.includes(l));
  if (unlogged.length) out.push(`${unlogged.join(', ')} not logged`);
  return out;
}

export function cellName(optimizer: string, batchNorm: boolean, foreground: number, trainLoss: string): string {
  return `${optimizer}-bn${batchNorm ? 1 : 0}-${Math.round(foreground * 100)}fg-${trainLoss}`;
}

interface Judged {
  run: RunReduction;
  verdict: Verdict;
  accuracy: number | null;
}

const fmt = (v: number | null, digits = 4) => (v == null || !Number.isFinite(v) ? '–' : v.toFixed(digits));
const ratio = (v: number) => `${v.toFixed(1)}×`;
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

function verdictList(c: CellCount): string {
  return Object.entries(c.verdicts).map(([v, n]) => `${v} ${n}/${c.runs}`).join(', ');
}

/**
 * What keeps a U-Net run out of the observations on its model (modelObservations): only what the
 * checks read — the seed's three losses logged; every other field is the model's setting.
 */
export function modelSettingDifferences(config: RunConfig): string[] {
  const unlogged = SEED_LOSSES.filter((l) => !config.loggedLosses.includes(l));
  return unlogged.length ? [`${unlogged.join(', ')} not logged`] : [];
}

/**
 * The seed's observations on each U-Net model and data of a sweep (architectureTitle): the same
 * checks and thresholds on that model's runs, its cells named as the seed's. Models where no
 * observation is covered are left out.
 */
export function modelObservations(inputs: readonly ReportInput[]): { model: string; checks: ObservationCheck[] }[] {
  const byModel = new Map<string, RunReduction[]>();
  for (const run of inputs.map(toReduction)) {
    const model = architectureTitle(run.config);
    if (model) byModel.set(model, [...(byModel.get(model) ?? []), run]);
  }
  return [...byModel.entries()].map(([model, members]) => ({ model, checks: checkObservations(members, modelSettingDifferences) }))
    .filter((m) => m.checks.some((c) => c.status !== 'not covered'));
}

/**
 * Checks the seed's five observations on a sweep's runs; one entry per observation, in order.
 * `differences` sets runs aside (default: those not in the seed's setting).
 */
export function checkObservations(inputs: readonly ReportInput[], differences: (config: RunConfig) => string[] = seedSettingDifferences): ObservationCheck[] {
  const runs = inputs.map(toReduction);
  const cellsOf = new Map<string, Judged[]>();
  const setAside: { id: string; why: string[] }[] = [];
  for (const run of runs) {
    const why = differences(run.config);
    if (why.length) {
      setAside.push({ id: run.id, why });
      continue;
    }
    const c = run.config;
    const key = cellName(c.optimizer.name, c.batchNorm, c.foreground, c.trainLoss);
    const lastEval = run.evals.at(-1)?.eval;
    const judged = { run, verdict: judgeEvals(c, run.evals, run.status).verdict, accuracy: lastEval?.accuracy ?? null };
    cellsOf.set(key, [...(cellsOf.get(key) ?? []), judged]);
  }
  const asideNote = setAside.length === 0 ? '' : ` (${plural(setAside.length, 'run')} set aside, not in the seed's setting: `
    + `${setAside[0].id}: ${setAside[0].why.join(', ')}${setAside.length > 1 ? '; …' : ''})`;

  const count = (cell: string): CellCount | null => {
    const members = cellsOf.get(cell);
    if (!members) return null;
    const verdicts: CellCount['verdicts'] = {};
    for (const m of members) verdicts[m.verdict] = (verdicts[m.verdict] ?? 0) + 1;
    const accs = members.map((m) => m.accuracy).filter((a): a is number => a != null);
    return { cell, runs: members.length, converged: verdicts.converged ?? 0, verdicts, meanAccuracy: accs.length ? mean(accs) : null };
  };
  const grid = (optimizer: Optimizer, batchNorms: boolean[], foregrounds: readonly number[], losses: readonly string[]) =>
    batchNorms.flatMap((bn) => foregrounds.flatMap((fg) => losses.map((loss) => cellName(optimizer, bn, fg, loss))));

  const make = (id: ObservationCheck['id'], status: ObservationStatus, summary: string, missing: string[],
    extra: Partial<Pick<ObservationCheck, 'cells' | 'comparisons' | 'spikes'>> = {}): ObservationCheck => ({
    id, title: TITLES[id], seedWords: SEED_WORDS[id], criterion: CRITERIA[id], status,
    summary: status === 'not covered' ? `${summary}${asideNote}` : summary,
    missing, cells: [], comparisons: [], spikes: [], ...extra,
  });
  const missingText = (missing: string[]) => `missing ${missing.length > 4
    ? `${missing.slice(0, 4).join(', ')} and ${missing.length - 4} more cells` : missing.join(', ')}`;

  return [observation1(), observation2(), observation3(), observation4(), observation5()];

  function observation1(): ObservationCheck {
    const needed = grid('sgd', [false, true], SEED_FOREGROUNDS, SEED_LOSSES);
    const cells = needed.map(count).filter((c): c is CellCount => c != null);
    const missing = needed.filter((n) => !cellsOf.has(n));
    const total = cells.reduce((a, c) => a + c.runs, 0);
    const converged = cells.filter((c) => c.converged > 0);
    if (converged.length) {
      const n = converged.reduce((a, c) => a + c.converged, 0);
      const which = converged.map((c) => `${c.cell} ${c.converged}/${c.runs} (mean final accuracy ${fmt(c.meanAccuracy, 3)})`).join(', ');
      return make(1, 'not reproduced', `${n}/${total} SGD runs converged: ${which}${missing.length ? `; ${missingText(missing)}` : ''}`, missing, { cells });
    }
    if (missing.length || !cells.length) return make(1, 'not covered', `no SGD run converged (0/${total}), but ${missingText(missing)}`, missing, { cells });
    const stuck = cells.reduce((a, c) => a + (c.verdicts.stuck ?? 0), 0);
    return make(1, 'reproduced', `0/${total} SGD runs converged (stuck in ${stuck}/${total}, the rest not converged or diverged)`, missing, { cells });
  }

  function observation2(): ObservationCheck {
    const exception = cellName('adam', false, 0.95, 'dicefg');
    const needed = grid('adam', [false], SEED_FOREGROUNDS, SEED_LOSSES);
    const cells = needed.map(count).filter((c): c is CellCount => c != null);
    const missing = needed.filter((n) => !cellsOf.has(n));
    const others = cells.filter((c) => c.cell !== exception);
    const exc = cells.find((c) => c.cell === exception);
    const against = [
      ...others.filter((c) => c.converged < c.runs).map((c) => `${c.cell} converged in only ${c.converged}/${c.runs} (${verdictList(c)})`),
      ...(exc && exc.converged > 0 ? [`${exception} converged in ${exc.converged}/${exc.runs}`] : []),
    ];
    const otherRuns = others.reduce((a, c) => a + c.runs, 0);
    const otherConverged = others.reduce((a, c) => a + c.converged, 0);
    const facts = `the ${plural(others.length, 'other cell')} converged in ${otherConverged}/${otherRuns} runs; `
      + (exc ? `${exception}: ${verdictList(exc)}` : `${exception} absent`);
    if (against.length) return make(2, 'not reproduced', `${against.join('; ')} (${facts})${missing.length ? `; ${missingText(missing)}` : ''}`, missing, { cells });
    if (missing.length) return make(2, 'not covered', `${facts}; ${missingText(missing)}`, missing, { cells });
    return make(2, 'reproduced', facts, missing, { cells });
  }

  function observation3(): ObservationCheck {
    const comparisons: Comparison[] = [];
    const missing: string[] = [];
    for (const fg of SEED_FOREGROUNDS) {
      for (const loss of SEED_LOSSES) {
        const off = count(cellName('adam', false, fg, loss));
        const on = count(cellName('adam', true, fg, loss));
        if (!off?.runs || off.meanAccuracy == null) missing.push(cellName('adam', false, fg, loss));
        if (!on?.runs || on.meanAccuracy == null) missing.push(cellName('adam', true, fg, loss));
        if (off?.meanAccuracy != null && on?.meanAccuracy != null) {
          comparisons.push({ label: `${Math.round(fg * 100)}% fg ${loss}`, value: on.meanAccuracy, reference: off.meanAccuracy, holds: on.meanAccuracy > off.meanAccuracy });
        }
      }
    }
    const needed = SEED_FOREGROUNDS.length * SEED_LOSSES.length;
    const majority = Math.floor(needed / 2) + 1;
    const higher = comparisons.filter((c) => c.holds).length;
    const notHigher = comparisons.length - higher;
    const a: boolean | null = higher >= majority ? true : notHigher >= majority ? false : null;
    const lower = comparisons.filter((c) => !c.holds).map((c) => `${c.label} ${fmt(c.value)} vs ${fmt(c.reference)}`);
    const higherList = comparisons.filter((c) => c.holds).map((c) => `${c.label} ${fmt(c.value)} vs ${fmt(c.reference)}`);
    const partA = `BN's mean final accuracy higher in ${higher}/${comparisons.length} Adam cells`
      + (comparisons.length < needed ? ` (of ${needed} needed)` : '');
    const detailA = a === false ? `; (a) with BN vs without: not higher ${lower.join(', ')}${higherList.length ? `; higher ${higherList.join(', ')}` : ''}` : '';

    const offCell = count(cellName('adam', false, 0.95, 'dicefg'));
    const onCell = count(cellName('adam', true, 0.95, 'dicefg'));
    const b: boolean | null = offCell && onCell ? onCell.converged === onCell.runs && offCell.converged < onCell.converged : null;
    const partB = offCell && onCell
      ? `DICEFG at 95% fg converged in ${onCell.converged}/${onCell.runs} runs with BN, ${offCell.converged}/${offCell.runs} without`
      : `DICEFG at 95% fg: ${[!offCell && 'adam-bn0-95fg-dicefg', !onCell && 'adam-bn1-95fg-dicefg'].filter(Boolean).join(' and ')} absent`;
    const cells = [offCell, onCell].filter((c): c is CellCount => c != null);
    const summary = `(a) ${partA}; (b) ${partB}${detailA}`;
    const status: ObservationStatus = a === false || b === false ? 'not reproduced' : a && b ? 'reproduced' : 'not covered';
    const uniqueMissing = [...new Set(missing)];
    return make(3, status, status === 'not covered' && uniqueMissing.length ? `${summary}; ${missingText(uniqueMissing)}` : summary,
      uniqueMissing, { cells, comparisons });
  }

  function observation4(): ObservationCheck {
    const cell = cellName('adam', false, 0.5, 'dicefg');
    const members = cellsOf.get(cell) ?? [];
    const spikes: Spike[] = [];
    let short = 0;
    for (const { run } of members) {
      if (run.spike) spikes.push({ id: run.id, ...run.spike });
      else short++;
    }
    const facts = spikes.length === 0 ? '' : `CCE loss peak/start ${spikes.map((s) => ratio(s.lossPeak / s.lossStart)).join(', ')}; `
      + `CCE gradient norm peak/start ${spikes.map((s) => ratio(s.gradPeak / s.gradStart)).join(', ')}`;
    const shot = spikes.filter((s) => s.holds).length;
    const shortNote = short ? ` (${plural(short, 'run')} without steps 0–${SPIKE.lastStep} left out)` : '';
    if (!members.length) return make(4, 'not covered', `${cell} absent`, [cell]);
    if (!spikes.length) return make(4, 'not covered', `no run of ${cell} logs steps 0–${SPIKE.lastStep}`, [cell]);
    if (shot < spikes.length) {
      return make(4, 'not reproduced', `shot up in ${shot}/${spikes.length} runs of ${cell} (needs ≥ ${SPIKE.lossRatio}× and ≥ ${SPIKE.gradRatio}×): ${facts}${shortNote}`, [], { spikes });
    }
    return make(4, 'reproduced', `shot up in ${shot}/${spikes.length} runs of ${cell}: ${facts}${shortNote}`, [], { spikes });
  }

  function observation5(): ObservationCheck {
    const comparisons: Comparison[] = [];
    const missing: string[] = [];
    for (const trainLoss of SEED_LOSSES) {
      const hi = cellsOf.get(cellName('adam', false, 0.95, trainLoss));
      const lo = cellsOf.get(cellName('adam', false, 0.05, trainLoss));
      if (!hi) missing.push(cellName('adam', false, 0.95, trainLoss));
      if (!lo) missing.push(cellName('adam', false, 0.05, trainLoss));
      if (!hi || !lo) continue;
      for (const logged of SEED_LOSSES) {
        const runMedian = (m: Judged) => m.run.gradNormMedian[logged] ?? NaN;
        const value = median(hi.map(runMedian));
        const reference = median(lo.map(runMedian));
        // Per seed: the runs with the same seed at 95% and at 5% fg.
        const pairs = hi.flatMap((h) => lo.filter((l) => l.run.config.seed === h.run.config.seed)
          .map((l) => runMedian(h) < runMedian(l)));
        comparisons.push({
          label: `trained with ${trainLoss}, ${logged} gradient norm`, value, reference, holds: value < reference,
          perRun: { holds: pairs.filter(Boolean).length, of: pairs.length },
        });
      }
    }
    const needed = SEED_LOSSES.length ** 2;
    const smaller = comparisons.filter((c) => c.holds);
    const perRun = comparisons.reduce((a, c) => ({ holds: a.holds + c.perRun!.holds, of: a.of + c.perRun!.of }), { holds: 0, of: 0 });
    const facts = `median smaller at 95% fg in ${smaller.length}/${comparisons.length} pairs`
      + `${comparisons.length < needed ? ` (of ${needed} needed)` : ''} (per seed: ${perRun.holds}/${perRun.of})`;
    const against = comparisons.filter((c) => !c.holds).map((c) => `${c.label}: ${fmt(c.value, 3)} at 95% vs ${fmt(c.reference, 3)} at 5%`);
    if (against.length) return make(5, 'not reproduced', `${facts}; not smaller: ${against.join('; ')}${missing.length ? `; ${missingText(missing)}` : ''}`, missing, { comparisons });
    if (missing.length) return make(5, 'not covered', `${comparisons.length ? `${facts}; ` : ''}${missingText(missing)}`, missing, { comparisons });
    const ratios = comparisons.map((c) => c.value / c.reference);
    const range = `${Math.min(...ratios).toPrecision(2)}–${Math.max(...ratios).toPrecision(2)}`;
    return make(5, 'reproduced', `${facts}; median at 95% / median at 5%: ${range}`, missing, { comparisons });
  }
}

/**
 * The checks for the command line: each covered observation on a line of its own (cut at `width`),
 * the ones not covered named on one line with where to find them (the report has the detail).
 */
export function observationLines(checks: readonly ObservationCheck[], width = 240, heading = "the seed's observations",
  hint = '`--preset seed` covers all five'): string[] {
  const cut = (line: string) => (line.length <= width ? line : `${line.slice(0, width - 21)}… (see the report)`);
  const covered = checks.filter((c) => c.status !== 'not covered');
  const missing = checks.filter((c) => c.status === 'not covered').map((c) => c.id);
  const why = `${hint}; the report says what each needs`;
  if (covered.length === 0) return [`${heading}: none covered by this sweep (${why})`];
  return [`${heading}:`, ...covered.map((c) => cut(`  ${c.id}. ${c.title}: ${c.status} — ${c.summary}`)),
    ...(missing.length ? [`  not covered: ${missing.join(', ')} (${why})`] : [])];
}

/** The same for each U-Net model (modelObservations). */
export function modelObservationLines(models: readonly { model: string; checks: ObservationCheck[] }[], width = 240): string[] {
  return models.flatMap(({ model, checks }) => observationLines(checks, width, `the seed's observations on ${model}`, 'the `unet-seed` preset covers 2–5'));
}

