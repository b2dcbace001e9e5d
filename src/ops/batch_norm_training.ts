/**
 * Batch normalisation in training mode over the last axis — batch mean and (biased) variance,
 * y = γ (x − μ)/√(σ² + ε) + β — as one differentiable op: one fused kernel forward and one
 * backward on the wasm backend (see assembly/kernels/batch_norm.ts), tf.moments + tf.batchNorm
 * on other backends (same numbers). Returns the statistics too, for moving averages.
 */
import {
  batchNorm, customGrad, engine, keep, moments, slice, squeeze, type GradSaveFunc, type Tensor,
} from '@tensorflow/tfjs-core';
import { SeglossBatchNormTraining, SeglossBatchNormTrainingGrad } from '../kernels/kernel_names.js';
import { fusedKernelAvailable, type CustomGradientFunc } from '../losses/fused.js';

export interface BatchNormTrainingResult {
  y: Tensor;
  /** The batch mean and variance [C] (kept: the caller disposes them). */
  mean: Tensor;
  variance: Tensor;
}

/** The batch mean and variance [C] in the two rows of the training kernel's [2, C] statistics. */
export function splitStatistics(stats: Tensor): { mean: Tensor; variance: Tensor } {
  const C = stats.shape[1]!;
  return { mean: squeeze(slice(stats, [0, 0], [1, C]), [0]), variance: squeeze(slice(stats, [1, 0], [1, C]), [0]) };
}

export function batchNormTraining(x: Tensor, gamma: Tensor, beta: Tensor, epsilon: number): BatchNormTrainingResult {
  if (!fusedKernelAvailable(SeglossBatchNormTraining)) {
    const axes = x.shape.slice(0, -1).map((_, i) => i);
    const { mean, variance } = moments(x, axes);
    return { y: batchNorm(x, mean, variance, beta, gamma, epsilon), mean: keep(mean), variance: keep(variance) };
  }
  let statistics: Tensor | undefined;
  const op = customGrad(((xIn: Tensor, gammaIn: Tensor, betaIn: Tensor, save: GradSaveFunc) => {
    const [y, stats] = engine().runKernel(SeglossBatchNormTraining, { x: xIn, gamma: gammaIn, beta: betaIn },
      { epsilon }) as Tensor[];
    statistics = keep(stats);
    save([xIn, gammaIn, stats]);
    return {
      value: y,
      gradFunc: (dy: Tensor, [xSaved, gammaSaved, statsSaved]: Tensor[]) => engine().runKernel(
        SeglossBatchNormTrainingGrad, { x: xSaved, dy, gamma: gammaSaved, stats: statsSaved }, {}) as Tensor[],
    };
  }) as CustomGradientFunc);
  const y = op(x, gamma, beta);
  const { mean, variance } = splitStatistics(statistics!);
  statistics!.dispose();
  return { y, mean: keep(mean), variance: keep(variance) };
}
