import type { Scalar, Tensor } from '@tensorflow/tfjs-core';
import { SeglossSegmentationLosses } from '../kernels/kernel_names.js';
import { DEFAULT_EPSILON, segmentationLossesComposite } from './composite.js';
import { checkIndexLabelsInRange, fusedKernelAvailable, runFusedSegmentationLosses } from './fused.js';
import { LOSS_NAMES, type LossName, type SegmentationLossesOptions } from './types.js';
import { checkLabelsAndLogits, checkSegmentationLossesOptions } from './validate.js';

/**
 * The seed study's five losses from one pass over the logits: `cce` (the seed's clip form, mean
 * over pixels), `dice`, `dice_square`, `dicefg`, `dicefg_square` (batch Dice). Differentiate any
 * of them, or any weighted sum of them: the backward pass is one more fused pass for the lot.
 *
 * ```js
 * const { cce, dicefg } = losses.segmentationLosses(labels, logits);
 * const grads = tf.variableGrads(() => losses.segmentationLosses(labels, model(x)).dicefg);
 * ```
 *
 * @param labels float32 one-hot [N,H,W,C] or int32 class indices [N,H,W]; C ≥ 2
 * @param logits float32 [N,H,W,C]
 * @param opts   `epsilon` (default 1e-7) of the clip and of the Dice terms
 */
export function segmentationLosses(
  labels: Tensor, logits: Tensor, opts: SegmentationLossesOptions = {},
): Record<LossName, Scalar> {
  const op = 'segmentationLosses';
  const C = checkLabelsAndLogits(op, labels, logits, 2);
  checkSegmentationLossesOptions(op, opts);
  const epsilon = opts.epsilon ?? DEFAULT_EPSILON;
  if (!fusedKernelAvailable(SeglossSegmentationLosses)) {
    checkIndexLabelsInRange(labels, C, null);
    return segmentationLossesComposite(labels, logits, epsilon);
  }
  const values = runFusedSegmentationLosses(labels, logits, epsilon);
  return Object.fromEntries(LOSS_NAMES.map((name, i) => [name, values[i]])) as Record<LossName, Scalar>;
}
