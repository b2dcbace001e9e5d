/**
 * What happened to a run, from its log: converged, stuck at a trivial solution, diverged, or
 * still learning. The seed's stuck run predicts one class everywhere, so its accuracy equals that
 * class's pixel fraction and the other class's Dice is 0.
 */
import type { RunConfig } from '../experiment/config.js';
import type { Evaluation, StepLog } from '../experiment/train.js';

/** What happened to a run: converged, stuck predicting one class, diverged, or not (yet) converged. */
export type Verdict = 'converged' | 'stuck' | 'diverged' | 'not converged';

/** A run's verdict (judgeRun), with the step it converged at or the class a stuck run predicts. */
export interface RunVerdict {
  verdict: Verdict;
  /** First evaluation step from which accuracy stays at or above the convergence bar. */
  convergedAt: number | null;
  /** For a stuck run: the class it predicts everywhere (0 = background, 1 = foreground). */
  predictedClass: number | null;
}

/** Accuracy of always predicting the majority class. */
export function trivialAccuracy(config: Pick<RunConfig, 'foreground'>): number {
  return Math.max(config.foreground, 1 - config.foreground);
}

/**
 * The bar is half-way from the trivial accuracy to 1 (0.975 at 95% foreground, 0.75 at 50%):
 * clearly better than predicting one class. Stuck: the last evaluation has a present class with
 * Dice 0 and accuracy within 0.5 points of the other class's fraction.
 */
export function judgeRun(config: Pick<RunConfig, 'foreground'>, rows: readonly StepLog[], status: 'completed' | 'diverged'): RunVerdict {
  return judgeEvals(config, rows.flatMap((r) => (r.eval ? [{ step: r.step, eval: r.eval }] : [])), status);
}

/** `judgeRun` on a run's evaluations alone (in step order), as its reduction keeps them. */
export function judgeEvals(config: Pick<RunConfig, 'foreground'>, evals: readonly { step: number; eval: Evaluation }[],
  status: 'completed' | 'diverged'): RunVerdict {
  if (status === 'diverged') return { verdict: 'diverged', convergedAt: null, predictedClass: null };
  const last = evals.at(-1)?.eval;
  if (!last) return { verdict: 'not converged', convergedAt: null, predictedClass: null };
  const fractions = [1 - config.foreground, config.foreground];
  for (const c of [0, 1]) {
    const other = 1 - c;
    if (last.dice[c] === 0 && Math.abs(last.accuracy - fractions[other]) <= 0.005) {
      return { verdict: 'stuck', convergedAt: null, predictedClass: other };
    }
  }
  const bar = (trivialAccuracy(config) + 1) / 2;
  if (last.accuracy < bar) return { verdict: 'not converged', convergedAt: null, predictedClass: null };
  let convergedAt = evals.at(-1)!.step;
  for (let i = evals.length - 1; i >= 0 && evals[i].eval.accuracy >= bar; i--) convergedAt = evals[i].step;
  return { verdict: 'converged', convergedAt, predictedClass: null };
}
