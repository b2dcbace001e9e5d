import type { Tensor } from '@tensorflow/tfjs-core';
import { SeglossSoftmaxCrossEntropy, type SoftmaxCrossEntropyAttrs } from '../kernels/kernel_names.js';
import { cceComposite, resolveCceOptions } from './composite.js';
import { checkIndexLabelsInRange, fusedKernelAvailable, runFusedLoss } from './fused.js';
import type { CategoricalCrossEntropyOptions } from './types.js';
import { checkCceOptions, checkLabelsAndLogits } from './validate.js';

/**
 * Softmax + categorical cross-entropy of logits against labels, fused into one pass on the wasm
 * backend (after `setupWasmKernels()`), composed from tfjs ops on any other backend — same numbers.
 *
 * Per pixel: −Σ_c y_c log p_c with p = softmax(logits) over the last axis. Differentiable with
 * respect to logits inside tf.grad, tf.variableGrads and optimizer.minimize (not with respect to
 * labels on the fused path: see src/losses/fused.ts; `cceComposite` is).
 *
 * ```js
 * const logits = tf.tensor4d([2, 0, 0, 3], [1, 1, 2, 2]);
 * const labels = tf.tensor3d([[[0, 1]]], [1, 1, 2], 'int32');
 * losses.categoricalCrossEntropy(labels, logits).print(); // 0.0878 = (0.1269 + 0.0486) / 2
 * ```
 *
 * @param labels float32 one-hot (or soft) [N,H,W,C], or int32 class indices [N,H,W]
 * @param logits float32 [N,H,W,C], unnormalised
 * @param opts   see `CategoricalCrossEntropyOptions`: clip, epsilon, classWeights, ignoreIndex, reduction
 * @returns a scalar, or the per-pixel loss [N,H,W] with `reduction: 'none'`
 */
export function categoricalCrossEntropy(labels: Tensor, logits: Tensor, opts: CategoricalCrossEntropyOptions = {}): Tensor {
  const op = 'categoricalCrossEntropy';
  const C = checkLabelsAndLogits(op, labels, logits, 1);
  checkCceOptions(op, opts, C, labels);
  const o = resolveCceOptions(opts);
  if (!fusedKernelAvailable(SeglossSoftmaxCrossEntropy)) {
    checkIndexLabelsInRange(labels, C, o.ignoreIndex);
    return cceComposite(labels, logits, opts);
  }
  const attrs: Omit<SoftmaxCrossEntropyAttrs, 'withGrad'> = {
    clip: o.clip,
    epsilon: o.epsilon,
    classWeights: o.classWeights ? [...o.classWeights] : [],
    ignoreIndex: o.ignoreIndex,
    reduction: o.reduction,
  };
  return runFusedLoss(SeglossSoftmaxCrossEntropy, labels, logits, attrs);
}
