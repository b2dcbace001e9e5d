/**
 * The training losses ranked (issue #22 §3): per setting — model and data, optimizer, batch norm,
 * foreground (and inversion) — the losses trained there ordered by their runs' final validation
 * Dice of the minority class, with its spread over seeds and the verdicts. The minority class is
 * the foreground up to 50 % foreground (with several foreground classes, their mean Dice), the
 * background above: at the seed's 95 % fg a run stuck at "foreground everywhere" has a foreground
 * Dice of 0.97 and a background Dice of 0, and the ranking says so. Where the seed asks "which
 * loss under class imbalance?", this is the answer a sweep gives, one line per setting.
 */
import { lossTitle, type LossKey } from '../experiment/losses.js';
import type { ReportCell } from './render.js';

export interface RankedLoss {
  trainLoss: LossKey;
  runs: number;
  /** Mean over the runs of the final Dice of the minority class; null when no run evaluated. */
  meanDice: number | null;
  /** Sample standard deviation over the runs (0 for one run). */
  sdDice: number | null;
  verdicts: ReportCell['verdicts'];
}

export interface RankingGroup {
  /** The setting as a reader reads it: 'unet2d [16, 32], synthetic 64²: ADAM, Batch Norm: True, 5% fg'. */
  setting: string;
  /** Best first; losses with no evaluation last. */
  losses: RankedLoss[];
}

/**
 * The Dice of the minority class in a run's final evaluation: the foreground's (class 1's, or the
 * mean over classes 1… when there are more) at up to 50 % foreground, the background's above.
 */
export function minorityDice(dice: readonly number[] | null | undefined, foreground: number): number | null {
  if (!dice || dice.length < 2) return null;
  if (foreground > 0.5 && dice.length === 2) return dice[0];
  const fg = dice.slice(1);
  return fg.reduce((a, b) => a + b, 0) / fg.length;
}

export function settingOf(cell: Pick<ReportCell, 'model' | 'optimizer' | 'batchNorm' | 'foreground' | 'invertInput'>): string {
  return `${cell.model ? `${cell.model}: ` : ''}${cell.optimizer.toUpperCase()}, Batch Norm: ${cell.batchNorm ? 'True' : 'False'}, `
    + `${+(cell.foreground * 100).toFixed(2)}% fg${cell.invertInput ? ', inputs inverted' : ''}`;
}

/** The ranking of every setting with at least two training losses. */
export function rankLosses(cells: readonly ReportCell[]): RankingGroup[] {
  const groups = new Map<string, ReportCell[]>();
  for (const cell of cells) {
    const key = settingOf(cell);
    groups.set(key, [...(groups.get(key) ?? []), cell]);
  }
  return [...groups.entries()].filter(([, members]) => members.length >= 2).map(([setting, members]) => ({
    setting,
    losses: members.map((c) => ({ trainLoss: c.trainLoss, runs: c.runs, meanDice: c.meanDiceMinority, sdDice: c.sdDiceMinority, verdicts: c.verdicts }))
      .sort((a, b) => (b.meanDice ?? -Infinity) - (a.meanDice ?? -Infinity)),
  }));
}

const fmt = (v: number | null) => (v == null || !Number.isFinite(v) ? '–' : v.toFixed(3));

/** One line per setting: `ADAM, Batch Norm: False, 5% fg: Dice + CE 0.812 ± 0.021 > CCE 0.402 ± 0.110 (1/3 stuck)`. */
export function rankingLines(groups: readonly RankingGroup[]): string[] {
  if (groups.length === 0) return [];
  return ['training losses by the final Dice of the minority class (mean ± sd over seeds):', ...groups.map((g) => `  ${g.setting}: ${g.losses.map((l) => {
    const bad = Object.entries(l.verdicts).filter(([v]) => v !== 'converged').map(([v, n]) => `${n}/${l.runs} ${v}`);
    return `${lossTitle(l.trainLoss)} ${fmt(l.meanDice)} ± ${fmt(l.sdDice)}${bad.length ? ` (${bad.join(', ')})` : ''}`;
  }).join(' > ')}`)];
}
