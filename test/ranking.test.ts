/**
 * The report's ranking of training losses by final foreground Dice (src/report/ranking.ts), on
 * crafted cells: the order, the spread, the settings kept apart, the multi-class mean, the lines.
 */
import { describe, expect, it } from 'vitest';
import { minorityDice, rankingLines, rankLosses } from '../src/report/ranking.js';
import type { ReportCell } from '../src/report/render.js';

const cell = (over: Partial<ReportCell>): ReportCell => ({
  model: '', optimizer: 'adam', batchNorm: false, foreground: 0.05, invertInput: false, trainLoss: 'cce', runs: 3,
  meanAccuracy: 0.9, sdAccuracy: 0.01, meanDiceMinority: 0.5, sdDiceMinority: 0.1, verdicts: { converged: 3 }, ...over,
});

describe('ranking', () => {
  it('orders the losses of each setting by mean foreground Dice, keeps settings apart, and leaves out settings of one loss', () => {
    const ranking = rankLosses([
      cell({ trainLoss: 'cce', meanDiceMinority: 0.41, sdDiceMinority: 0.11, verdicts: { converged: 2, stuck: 1 } }),
      cell({ trainLoss: 'dice', meanDiceMinority: 0.78, sdDiceMinority: 0.05 }),
      cell({ trainLoss: 'dice-ce', meanDiceMinority: 0.81, sdDiceMinority: 0.02 }),
      cell({ trainLoss: 'dicefg', meanDiceMinority: null, sdDiceMinority: null, verdicts: { diverged: 3 } }),
      cell({ model: 'unet2d [4, 8], synthetic 64²', trainLoss: 'cce', meanDiceMinority: 0.2 }),
      cell({ foreground: 0.5, trainLoss: 'cce' }),
      cell({ foreground: 0.5, trainLoss: 'dice', meanDiceMinority: 0.6 }),
    ]);
    expect(ranking.map((g) => [g.setting, g.losses.map((l) => l.trainLoss)])).toEqual([
      ['ADAM, Batch Norm: False, 5% fg', ['dice-ce', 'dice', 'cce', 'dicefg']],
      ['ADAM, Batch Norm: False, 50% fg', ['dice', 'cce']],
    ]);
    expect(rankingLines(ranking)).toEqual([
      'training losses by the final Dice of the minority class (mean ± sd over seeds):',
      '  ADAM, Batch Norm: False, 5% fg: Dice + CE 0.810 ± 0.020 > DICE 0.780 ± 0.050 > CCE 0.410 ± 0.110 (1/3 stuck) > DICEFG – ± – (3/3 diverged)',
      '  ADAM, Batch Norm: False, 50% fg: DICE 0.600 ± 0.100 > CCE 0.500 ± 0.100',
    ]);
    expect(rankingLines([])).toEqual([]);
  });

  it('takes the minority class\'s Dice: the foreground\'s up to 50% fg (the mean over several), the background\'s above', () => {
    expect(minorityDice([0.9, 0.4], 0.05)).toBe(0.4);
    expect(minorityDice([0.9, 0.4], 0.5)).toBe(0.4);
    expect(minorityDice([0.9, 0.4], 0.95)).toBe(0.9);
    expect(minorityDice([0.9, 0.4, 0.6, 0.2], 0.1)).toBeCloseTo(0.4, 12);
    expect(minorityDice([0.9], 0.1)).toBeNull();
    expect(minorityDice(undefined, 0.1)).toBeNull();
  });
});
