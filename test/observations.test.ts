/**
 * The seed's observations checked on crafted logs (src/report/observations.ts): for each of the
 * five, logs that reproduce it, logs that do not (the message carries the numbers), and logs that
 * do not cover it; and the section in the HTML report. No training: rows are made up.
 */
import { describe, expect, it } from 'vitest';
import { parseRunConfig } from '../src/experiment/config.js';
import type { StepLog } from '../src/experiment/train.js';
import type { LossName } from '../src/losses/types.js';
import type { RunLog } from '../src/report/figures.js';
import { reportHtml } from '../src/report/html.js';
import { checkObservations, observationLines, type ObservationCheck } from '../src/report/observations.js';
import { renderReport } from '../src/report/render.js';

type Outcome = 'converged' | 'stuck' | 'not converged';
type Loss = 'cce' | 'dicefg' | 'dice';

interface Cell {
  optimizer: 'adam' | 'sgd';
  bn: boolean;
  fg: number;
  loss: Loss;
}

interface Craft {
  outcome: Outcome;
  /** The last evaluation's accuracy of a converged run (default 0.997). */
  accuracy?: number;
  /** Gradient norm of a logged loss at a step (default 1). */
  grad?: (step: number, logged: Loss) => number;
  /** The CCE loss and its gradient norm at a step (overrides `grad` for cce). */
  cce?: (step: number) => { loss: number; grad: number };
  /** Last logged step (default 10,000: every step to 1,000, then every 250). */
  lastStep?: number;
  steps?: number;
}

const LOSSES: Loss[] = ['cce', 'dicefg', 'dice'];
const FGS = [0.05, 0.5, 0.95];

/**
 * A run's log: every step 0–1,000 and every 250th after that, evaluated every 250 steps. The
 * evaluations before step 500 are trivial; from 500 on they follow `outcome`.
 */
function craft(cell: Cell, seed: number, c: Craft): RunLog {
  const config = parseRunConfig({
    optimizer: { name: cell.optimizer }, batchNorm: cell.bn, foreground: cell.fg, trainLoss: cell.loss, seed,
    ...(c.steps ? { steps: c.steps } : {}),
  });
  const majority = Math.max(cell.fg, 1 - cell.fg);
  const majorityClass = cell.fg > 0.5 ? 1 : 0;
  const stuckDice = majorityClass === 1 ? [0, 0.97] : [0.97, 0];
  const evalAt = (step: number): StepLog['eval'] => {
    if (step < 500 || c.outcome === 'stuck') return { accuracy: majority, dice: stuckDice, iou: stuckDice };
    if (c.outcome === 'converged') return { accuracy: c.accuracy ?? 0.997, dice: [0.99, 0.99], iou: [0.98, 0.98] };
    return { accuracy: majority + 0.2 * (1 - majority), dice: [0.5, 0.5], iou: [0.3, 0.3] };
  };
  const lastStep = c.lastStep ?? 10_000;
  const steps = [...Array.from({ length: Math.min(lastStep, 1000) + 1 }, (_, i) => i)];
  for (let s = 1250; s <= lastStep; s += 250) steps.push(s);
  const rows: StepLog[] = steps.map((step) => {
    const cce = c.cce?.(step) ?? { loss: 0.7 / (1 + step / 1000), grad: c.grad?.(step, 'cce') ?? 1 };
    return {
      step,
      losses: { cce: cce.loss, dicefg: 0.5, dice: 0.5 },
      gradNorms: { cce: cce.grad, dicefg: c.grad?.(step, 'dicefg') ?? 1, dice: c.grad?.(step, 'dice') ?? 1 },
      ...(step % 250 === 0 ? { eval: evalAt(step) } : {}),
    };
  });
  const fg = Math.round(cell.fg * 100);
  return { id: `${cell.optimizer}-bn${cell.bn ? 1 : 0}-${fg}fg-${cell.loss}-run${seed}`, config, rows, status: 'completed' };
}

/** Three runs (seeds 0–2) per cell; `plan` gives each cell's crafting, or null to leave it out. */
function sweep(plan: (cell: Cell, seed: number) => Craft | null): RunLog[] {
  const runs: RunLog[] = [];
  for (const optimizer of ['adam', 'sgd'] as const) {
    for (const bn of [false, true]) {
      for (const fg of FGS) {
        for (const loss of LOSSES) {
          for (const seed of [0, 1, 2]) {
            const c = plan({ optimizer, bn, fg, loss }, seed);
            if (c) runs.push(craft({ optimizer, bn, fg, loss }, seed, c));
          }
        }
      }
    }
  }
  return runs;
}

const is = (cell: Cell, optimizer: string, bn: boolean, fg: number, loss: LossName) =>
  cell.optimizer === optimizer && cell.bn === bn && cell.fg === fg && cell.loss === loss;

/** The seed's story: SGD never converges; Adam converges but DICEFG at 95% fg without BN. */
const seedStory = (cell: Cell): Craft => {
  if (cell.optimizer === 'sgd') return { outcome: cell.fg === 0.5 ? 'not converged' : 'stuck' };
  if (is(cell, 'adam', false, 0.95, 'dicefg')) return { outcome: 'stuck' };
  return { outcome: 'converged', accuracy: cell.bn ? 0.999 : 0.997 };
};

const check = (runs: RunLog[], id: number): ObservationCheck => checkObservations(runs).find((c) => c.id === id)!;

describe('every check', () => {
  it('gives five entries with the seed\'s words, a criterion and a status; the seed\'s story reproduces 1, 2, 3', () => {
    const checks = checkObservations(sweep(seedStory));
    expect(checks.map((c) => c.id)).toEqual([1, 2, 3, 4, 5]);
    expect(checks[0].seedWords).toContain('None of the models converged when optimized with SGD');
    for (const c of checks) expect(c.criterion.length).toBeGreaterThan(40);
    expect(checks.slice(0, 3).map((c) => c.status)).toEqual(['reproduced', 'reproduced', 'reproduced']);
    // On the command line: a line per covered observation, the others named on one line.
    const lines = observationLines(checks);
    expect(lines[0]).toBe("the seed's observations:");
    const covered = checks.filter((c) => c.status !== 'not covered').map((c) => `  ${c.id}. `);
    expect(covered.slice(0, 3)).toEqual(['  1. ', '  2. ', '  3. ']);
    expect(lines.slice(1, 1 + covered.length).map((l) => l.slice(0, 5))).toEqual(covered);
    const missing = checks.filter((c) => c.status === 'not covered').map((c) => c.id);
    expect(lines.slice(1 + covered.length)).toEqual(missing.length ? [`  not covered: ${missing.join(', ')} (\`--preset seed\` covers all five; the report says what each needs)`] : []);
    const adamOnly = observationLines(checkObservations(sweep(seedStory).filter((r) => r.config.optimizer.name === 'adam')));
    expect(adamOnly.at(-1)).toBe('  not covered: 1 (`--preset seed` covers all five; the report says what each needs)');
    expect(adamOnly).toHaveLength(6);
    expect(observationLines(checkObservations([]))).toEqual(["the seed's observations: none covered by this sweep (`--preset seed` covers all five; the report says what each needs)"]);
  });

  it('an empty sweep covers nothing, and runs outside the seed\'s setting are set aside with the reason', () => {
    expect(checkObservations([]).map((c) => c.status)).toEqual(Array(5).fill('not covered'));
    const short = sweep((cell) => ({ ...seedStory(cell), steps: 2001 }));
    const checks = checkObservations(short);
    expect(checks.map((c) => c.status)).toEqual(Array(5).fill('not covered'));
    expect(checks[0].summary).toContain('108 runs set aside, not in the seed\'s setting');
    expect(checks[0].summary).toContain('steps 2001 (the seed\'s: 10001)');
    const inverted = sweep((cell) => (cell.optimizer === 'sgd' ? seedStory(cell) : null))
      .map((r) => ({ ...r, config: { ...r.config, invertInput: true } }));
    expect(check(inverted, 1).summary).toContain('54 runs set aside, not in the seed\'s setting: sgd-bn0-5fg-cce-run0: inputs inverted');
  });
});

describe('1: no model converged with SGD, with or without BN', () => {
  it('reproduced: 0 of 54 SGD runs converged', () => {
    const c = check(sweep(seedStory), 1);
    expect(c.status).toBe('reproduced');
    expect(c.summary).toBe('0/54 SGD runs converged (stuck in 36/54, the rest not converged or diverged)');
    expect(c.cells).toHaveLength(18);
  });

  it('not reproduced: SGD at 50% fg converged in some runs, with the counts and accuracies', () => {
    const runs = sweep((cell, seed) => (cell.optimizer === 'sgd' && cell.fg === 0.5 && cell.bn && (cell.loss !== 'dice' || seed === 0)
      ? { outcome: 'converged', accuracy: 0.94 } : seedStory(cell)));
    const c = check(runs, 1);
    expect(c.status).toBe('not reproduced');
    expect(c.summary).toMatch(/^7\/54 SGD runs converged: sgd-bn1-50fg-cce 3\/3 \(mean final accuracy 0\.940\), sgd-bn1-50fg-dicefg 3\/3 .*, sgd-bn1-50fg-dice 1\/3/);
    expect(c.cells.find((x) => x.cell === 'sgd-bn1-50fg-dice')!.verdicts).toEqual({ converged: 1, 'not converged': 2 });
  });

  it('a converged SGD run decides it even with cells missing', () => {
    const runs = sweep((cell) => (cell.optimizer === 'sgd' && !cell.bn ? { outcome: cell.fg === 0.5 ? 'converged' : 'stuck' } : null));
    const c = check(runs, 1);
    expect(c.status).toBe('not reproduced');
    expect(c.missing).toHaveLength(9);
    expect(c.summary).toContain('9/27 SGD runs converged');
    expect(c.summary).toContain('missing sgd-bn1-5fg-cce');
  });

  it('not covered: SGD with BN absent, or no SGD at all', () => {
    const noBN = check(sweep((cell) => (cell.optimizer === 'sgd' && !cell.bn ? seedStory(cell) : null)), 1);
    expect(noBN.status).toBe('not covered');
    expect(noBN.missing).toEqual(expect.arrayContaining(['sgd-bn1-5fg-cce', 'sgd-bn1-95fg-dice']));
    expect(noBN.summary).toMatch(/^no SGD run converged \(0\/27\), but missing sgd-bn1-5fg-cce, .* and 5 more cells$/);
    expect(check(sweep((cell) => (cell.optimizer === 'adam' ? seedStory(cell) : null)), 1).status).toBe('not covered');
  });
});

describe('2: Adam without BN: every model converged except DICEFG at 95% fg', () => {
  it('reproduced: 24/24 other runs converged, the exception stuck in 3/3', () => {
    const c = check(sweep(seedStory), 2);
    expect(c.status).toBe('reproduced');
    expect(c.summary).toBe('the 8 other cells converged in 24/24 runs; adam-bn0-95fg-dicefg: stuck 3/3');
  });

  it('not reproduced: another cell fails to converge, or the exception converges', () => {
    const other = check(sweep((cell, seed) => (is(cell, 'adam', false, 0.05, 'dice') && seed > 0 ? { outcome: 'stuck' } : seedStory(cell))), 2);
    expect(other.status).toBe('not reproduced');
    expect(other.summary).toContain('adam-bn0-5fg-dice converged in only 1/3 (converged 1/3, stuck 2/3)');
    expect(other.summary).toContain('the 8 other cells converged in 22/24 runs');
    const exception = check(sweep((cell) => (cell.optimizer === 'adam' ? { outcome: 'converged' } : seedStory(cell))), 2);
    expect(exception.status).toBe('not reproduced');
    expect(exception.summary).toContain('adam-bn0-95fg-dicefg converged in 3/3');
  });

  it('not covered: the exception cell absent', () => {
    const c = check(sweep((cell) => (is(cell, 'adam', false, 0.95, 'dicefg') ? null : seedStory(cell))), 2);
    expect(c.status).toBe('not covered');
    expect(c.missing).toEqual(['adam-bn0-95fg-dicefg']);
    expect(c.summary).toBe('the 8 other cells converged in 24/24 runs; adam-bn0-95fg-dicefg absent; missing adam-bn0-95fg-dicefg');
  });
});

describe('3: BN improved accuracy and made DICEFG at 95% fg converge', () => {
  it('reproduced: BN higher in 9/9 Adam cells; DICEFG at 95% converged 3/3 with BN, 0/3 without', () => {
    const c = check(sweep(seedStory), 3);
    expect(c.status).toBe('reproduced');
    expect(c.summary).toBe('(a) BN\'s mean final accuracy higher in 9/9 Adam cells; (b) DICEFG at 95% fg converged in 3/3 runs with BN, 0/3 without');
    expect(c.comparisons.find((x) => x.label === '50% fg cce')).toMatchObject({ value: 0.999, reference: 0.997, holds: true });
  });

  it('not reproduced: BN lowers accuracy in most cells (with the numbers), or leaves a DICEFG run stuck', () => {
    const lower = check(sweep((cell) => {
      const story = seedStory(cell);
      if (cell.optimizer !== 'adam' || story.outcome !== 'converged' || (cell.fg === 0.95 && cell.loss === 'cce')) return story;
      return { outcome: 'converged', accuracy: cell.bn ? 0.992 : 0.996 };
    }), 3);
    expect(lower.status).toBe('not reproduced');
    expect(lower.summary).toContain('(a) BN\'s mean final accuracy higher in 2/9 Adam cells; (b) DICEFG at 95% fg converged in 3/3 runs with BN, 0/3 without');
    expect(lower.summary).toContain('not higher 5% fg cce 0.9920 vs 0.9960');
    expect(lower.summary).toContain('higher 95% fg cce 0.9990 vs 0.9970, 95% fg dicefg 0.9920 vs 0.9500');
    const stuck = check(sweep((cell, seed) => (is(cell, 'adam', true, 0.95, 'dicefg') && seed === 2 ? { outcome: 'stuck' } : seedStory(cell))), 3);
    expect(stuck.status).toBe('not reproduced');
    expect(stuck.summary).toContain('(b) DICEFG at 95% fg converged in 2/3 runs with BN, 0/3 without');
  });

  it('not covered: no BN runs; but a majority already decided with cells missing counts', () => {
    const noBN = check(sweep((cell) => (cell.bn ? null : seedStory(cell))), 3);
    expect(noBN.status).toBe('not covered');
    expect(noBN.missing).toHaveLength(9);
    expect(noBN.summary).toContain('higher in 0/0 Adam cells (of 9 needed)');
    expect(noBN.summary).toContain('adam-bn1-95fg-dicefg absent');
    // 5% fg absent at Adam: 6 cells compared, BN higher in all 6 ≥ 5 of 9, (b) present: decided.
    const most = check(sweep((cell) => (cell.optimizer === 'adam' && cell.fg === 0.05 ? null : seedStory(cell))), 3);
    expect(most.status).toBe('reproduced');
    expect(most.summary).toContain('higher in 6/6 Adam cells (of 9 needed)');
    expect(most.missing).toContain('adam-bn1-5fg-cce');
  });
});

/** The CCE loss and gradient norm of a DICEFG run at 50% fg: a bump over steps 100–300 of height `loss`×, `grad`×. */
const bump = (loss: number, grad: number) => (step: number) => {
  const inBump = step >= 100 && step <= 300;
  return { loss: inBump ? 0.7 * loss : 0.7, grad: inBump ? 0.2 * grad : 0.2 };
};

describe('4: DICEFG at 50% fg: the CCE loss and its gradient norm shoot up at the start', () => {
  const spiking = (loss: number, grad: number, only?: number) => sweep((cell, seed) => (is(cell, 'adam', false, 0.5, 'dicefg') && (only == null || seed === only)
    ? { outcome: 'converged', cce: bump(loss, grad) } : seedStory(cell)));

  it('reproduced: 3/3 runs rise to ≥ 1.5× (loss) and ≥ 5× (gradient norm) their start', () => {
    const c = check(spiking(3, 20), 4);
    expect(c.status).toBe('reproduced');
    expect(c.summary).toBe('shot up in 3/3 runs of adam-bn0-50fg-dicefg: CCE loss peak/start 3.0×, 3.0×, 3.0×; CCE gradient norm peak/start 20.0×, 20.0×, 20.0×');
    expect(c.spikes[0]).toMatchObject({ id: 'adam-bn0-50fg-dicefg-run0', holds: true });
    expect(c.spikes[0].lossStart).toBeCloseTo(0.7, 12);
    expect(c.spikes[0].gradPeak).toBeCloseTo(4, 12);
  });

  it('not reproduced: a flat run, or a spike too small', () => {
    const flat = check(spiking(3, 20, 0), 4);
    expect(flat.status).toBe('not reproduced');
    expect(flat.summary).toContain('shot up in 1/3 runs of adam-bn0-50fg-dicefg (needs ≥ 1.5× and ≥ 5×): CCE loss peak/start 3.0×, 1.0×, 1.0×; CCE gradient norm peak/start 20.0×, 1.0×, 1.0×');
    const small = check(spiking(1.4, 20), 4);
    expect(small.status).toBe('not reproduced');
    expect(small.summary).toContain('shot up in 0/3 runs');
    expect(small.summary).toContain('CCE loss peak/start 1.4×');
  });

  it('not covered: the cell absent, or logged only to step 500', () => {
    const absent = check(sweep((cell) => (is(cell, 'adam', false, 0.5, 'dicefg') ? null : seedStory(cell))), 4);
    expect(absent).toMatchObject({ status: 'not covered', missing: ['adam-bn0-50fg-dicefg'], summary: 'adam-bn0-50fg-dicefg absent' });
    const short = check(sweep((cell) => (is(cell, 'adam', false, 0.5, 'dicefg')
      ? { outcome: 'not converged', cce: bump(3, 20), lastStep: 500 } : seedStory(cell))), 4);
    expect(short.status).toBe('not covered');
    expect(short.summary).toBe('no run of adam-bn0-50fg-dicefg logs steps 0–1000');
  });
});

describe('5: gradient norms smaller at 95% fg than at 5% fg', () => {
  /** Adam without BN: gradient norms 1 at 5% fg and `at95(trainLoss, logged)` at 95% fg. */
  const norms = (at95: (train: Loss, logged: Loss) => number) => sweep((cell) => ({
    ...seedStory(cell),
    grad: (_: number, logged: Loss) => (cell.fg === 0.95 ? at95(cell.loss, logged) : 1),
  }));

  it('reproduced: 9/9 medians smaller at 95% fg, per seed 27/27', () => {
    const c = check(norms(() => 0.5), 5);
    expect(c.status).toBe('reproduced');
    expect(c.summary).toBe('median smaller at 95% fg in 9/9 pairs (per seed: 27/27); median at 95% / median at 5%: 0.50–0.50');
    expect(c.comparisons[0]).toEqual({ label: 'trained with cce, cce gradient norm', value: 0.5, reference: 1, holds: true, perRun: { holds: 3, of: 3 } });
  });

  it('not reproduced: one pair larger at 95% fg, with both medians', () => {
    const c = check(norms((train, logged) => (train === 'dicefg' && logged === 'cce' ? 2 : 0.5)), 5);
    expect(c.status).toBe('not reproduced');
    expect(c.summary).toBe('median smaller at 95% fg in 8/9 pairs (per seed: 24/27); not smaller: trained with dicefg, cce gradient norm: 2.000 at 95% vs 1.000 at 5%');
  });

  it('not covered: no 95% fg runs with Adam and no BN', () => {
    const c = check(sweep((cell) => (cell.optimizer === 'adam' && !cell.bn && cell.fg === 0.95 ? null : seedStory(cell))), 5);
    expect(c.status).toBe('not covered');
    expect(c.missing).toEqual(['adam-bn0-95fg-cce', 'adam-bn0-95fg-dicefg', 'adam-bn0-95fg-dice']);
    expect(c.summary).toBe('missing adam-bn0-95fg-cce, adam-bn0-95fg-dicefg, adam-bn0-95fg-dice');
  });
});

describe('the report', () => {
  it('has a section "The seed\'s observations" with one row per observation', async () => {
    const runs = sweep((cell) => (cell.optimizer === 'adam' && !cell.bn && cell.fg === 0.95 ? seedStory(cell) : null)).filter((r) => r.config.seed === 0);
    const report = await renderReport(runs);
    expect(report.observations.map((o) => o.status)).toEqual(Array(5).fill('not covered'));
    const html = reportHtml(report, 'crafted');
    expect(html).toContain('<h2>The seed\'s observations</h2>');
    const section = html.slice(html.indexOf('The seed\'s observations</h2>'), html.indexOf('<h2>Runs</h2>'));
    expect(section.match(/<tr class="meh">/g)).toHaveLength(5);
    expect(section).toContain('SGD never converges');
    expect(section).toContain('None of the models converged when optimized with SGD, whether BN was used or not.');
  });
});
