/**
 * The seed's puzzle (src/report/puzzle.ts) on crafted logs: a gap that reverses with the inversion
 * (intensity), one that stays (fraction), none, and sweeps that do not cover it; the figure's spec
 * renders to SVG with one line per cell.
 */
import { XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { parseRunConfig } from '../src/experiment/config.js';
import type { StepLog } from '../src/experiment/train.js';
import type { RunLog } from '../src/report/figures.js';
import { PUZZLE_FROM_STEP, analysePuzzle, coversPuzzle, describeComparison, puzzleFigureSpec } from '../src/report/puzzle.js';
import { reportHtml } from '../src/report/html.js';
import { renderReport, specToSvg } from '../src/report/render.js';

const STEPS = PUZZLE_FROM_STEP + 400;

/** A run of the puzzle's setting whose gradient norms are `norm` from PUZZLE_FROM_STEP on (10× that before, to be left out). */
function run(foreground: number, invertInput: boolean, trainLoss: 'cce' | 'dice', seed: number, norm: number): RunLog {
  const config = parseRunConfig({ foreground, invertInput, trainLoss, seed, steps: STEPS });
  const rows: StepLog[] = Array.from({ length: STEPS }, (_, step) => {
    const g = step < PUZZLE_FROM_STEP ? 10 * norm : norm * (1 + 0.01 * Math.sin(step));
    return { step, losses: { cce: 0.1, dicefg: 0.1, dice: 0.1 }, gradNorms: { cce: g, dicefg: g, dice: 2 * g } };
  });
  return { id: `${foreground}-${invertInput}-${trainLoss}-${seed}`, config, rows, status: 'completed' };
}

/** Three seeds of the four cells for one training loss; `norms` per cell, seed s scaled by 1 + s / 10. */
function sweep(norms: { '5': number; '5inv': number; '95': number; '95inv': number }, trainLoss: 'cce' | 'dice' = 'cce'): RunLog[] {
  return [0, 1, 2].flatMap((s) => [
    run(0.05, false, trainLoss, s, norms['5'] * (1 + s / 10)), run(0.05, true, trainLoss, s, norms['5inv'] * (1 + s / 10)),
    run(0.95, false, trainLoss, s, norms['95'] * (1 + s / 10)), run(0.95, true, trainLoss, s, norms['95inv'] * (1 + s / 10)),
  ]);
}

describe('the puzzle', () => {
  it('intensity: a gap at 5% vs 95% fg that reverses when the inputs are inverted', () => {
    const { comparisons } = analysePuzzle(sweep({ '5': 0.4, '5inv': 0.2, '95': 0.2, '95inv': 0.4 }));
    expect(comparisons.map((c) => [c.trainLoss, c.logged, c.verdict])).toEqual([['cce', 'cce', 'intensity'], ['cce', 'dice', 'intensity']]);
    const [c] = comparisons;
    // Medians over seeds of each run's median from PUZZLE_FROM_STEP on: seed 1's (×1.1), the earlier 10× steps left out.
    expect(c.medians['5fg']).toBeCloseTo(0.44, 2);
    expect(c.medians['95fg-inv']).toBeCloseTo(0.44, 2);
    expect(c.asDrawn).toBeCloseTo(2, 2);
    expect(c.inverted).toBeCloseTo(0.5, 2);
    expect(c.reversedInSeeds).toBe(3);
    expect(c.seeds).toBe(3);
    expect(describeComparison(c)).toBe(`trained with cce, cce's gradient norm (median from step ${PUZZLE_FROM_STEP}): 5% fg 0.440 vs 95% fg 0.220 (×2.00); `
      + 'inverted 0.220 vs 0.440 (×0.50); reversed in 3/3 seeds → intensity');
  });

  it('fraction: a gap that stays when the inputs are inverted; no gap; anything else', () => {
    expect(analysePuzzle(sweep({ '5': 0.4, '5inv': 0.4, '95': 0.2, '95inv': 0.2 })).comparisons[0]).toMatchObject({ verdict: 'fraction', reversedInSeeds: 0 });
    expect(analysePuzzle(sweep({ '5': 0.21, '5inv': 0.2, '95': 0.2, '95inv': 0.4 })).comparisons[0].verdict).toBe('no gap');
    // A gap that vanishes but does not reverse.
    expect(analysePuzzle(sweep({ '5': 0.4, '5inv': 0.2, '95': 0.2, '95inv': 0.2 })).comparisons[0].verdict).toBe('other');
  });

  it('compares each training loss with its four cells, and only the puzzle\'s setting (Adam, no BN)', () => {
    const both = [...sweep({ '5': 0.4, '5inv': 0.2, '95': 0.2, '95inv': 0.4 }), ...sweep({ '5': 0.4, '5inv': 0.4, '95': 0.2, '95inv': 0.2 }, 'dice')];
    expect(analysePuzzle(both).comparisons.map((c) => `${c.trainLoss}/${c.logged}: ${c.verdict}`))
      .toEqual(['cce/cce: intensity', 'cce/dice: intensity', 'dice/cce: fraction', 'dice/dice: fraction']);
    const withBn = both.map((r) => ({ ...r, config: { ...r.config, batchNorm: true } }));
    expect(coversPuzzle(withBn)).toBe(false);
    expect(analysePuzzle(withBn).comparisons).toEqual([]);
  });

  it('is not covered without inverted runs (the seed preset), or without one of the four cells', () => {
    const all = sweep({ '5': 0.4, '5inv': 0.2, '95': 0.2, '95inv': 0.4 });
    expect(coversPuzzle(all)).toBe(true);
    expect(coversPuzzle(all.filter((r) => !r.config.invertInput))).toBe(false);
    expect(coversPuzzle(all.filter((r) => !(r.config.foreground === 0.95 && r.config.invertInput)))).toBe(false);
    expect(analysePuzzle(all.filter((r) => !r.config.invertInput)).comparisons).toEqual([]);
  });

  it('draws one panel per logged loss and training loss, a line and a band per cell, to SVG', async () => {
    const runs = [...sweep({ '5': 0.4, '5inv': 0.2, '95': 0.2, '95inv': 0.4 }), ...sweep({ '5': 0.4, '5inv': 0.2, '95': 0.2, '95inv': 0.4 }, 'dice')];
    const spec = puzzleFigureSpec(runs) as { data: { values: { cell: string; logged: string; train: string; mean: number; lo: number; hi: number }[] } };
    const values = spec.data.values;
    expect(new Set(values.map((v) => v.cell))).toEqual(new Set(['5% fg', '5% fg, inverted', '95% fg', '95% fg, inverted']));
    expect(new Set(values.map((v) => v.logged))).toEqual(new Set(['CCE', 'DICEFG', 'DICE']));
    expect(new Set(values.map((v) => v.train))).toEqual(new Set(['trained with CCE', 'trained with DICE']));
    // The band spans the seeds (×1.0, ×1.1, ×1.2): lowest ≤ mean ≤ highest, strictly apart.
    for (const v of values) expect(v.lo < v.mean && v.mean < v.hi).toBe(true);
    const svg = await specToSvg(spec);
    expect(XMLValidator.validate(svg)).toBe(true);
    // The legend: one label per cell, as text (not only in the marks' aria descriptions).
    for (const cell of ['5% fg', '5% fg, inverted', '95% fg', '95% fg, inverted']) expect(svg).toMatch(new RegExp(`>${cell}</text>`));
  });

  it('gets a section of the report where the sweep covers it, and the overview keeps inverted cells apart', async () => {
    const runs = sweep({ '5': 0.4, '5inv': 0.2, '95': 0.2, '95inv': 0.4 });
    const report = await renderReport(runs);
    expect(report.puzzle?.analysis.comparisons.map((c) => c.verdict)).toEqual(['intensity', 'intensity']);
    expect(XMLValidator.validate(report.puzzle!.svg)).toBe(true);
    // Four cells (5/95% fg × as drawn/inverted), three runs each.
    expect(report.cells.map((c) => [c.foreground, c.invertInput, c.runs])).toEqual([[0.05, false, 3], [0.05, true, 3], [0.95, false, 3], [0.95, true, 3]]);
    const html = reportHtml(report, 'puzzle');
    expect(html).toContain('<h2>The seed\'s puzzle: smaller gradient norms at 95% fg</h2>');
    expect(html).toContain('<img src="figures/puzzle.svg"');
    expect(html).toContain('<th>ADAM, Batch Norm: False, 95% fg, inputs inverted</th>');
    expect(html.match(/<td>intensity<\/td>/g)).toHaveLength(2);
    const plain = await renderReport(runs.filter((r) => !r.config.invertInput));
    expect(plain.puzzle).toBeNull();
    expect(reportHtml(plain, 'plain')).not.toContain('puzzle');
  });
});
