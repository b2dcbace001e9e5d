import type { Tensor, Scalar } from '@tensorflow/tfjs-core';
import { diceRegion } from './region.js';
import type { DiceOptions } from './types.js';
import { checkDiceOptions, checkRegionInputs } from './validate.js';

/**
 * Soft Dice loss, 1 − mean_c (2 Σ y p + ε) / (Σ y + Σ p + ε), fused on the wasm backend (after
 * `setupWasmKernels()`), composed from tfjs ops elsewhere. Options select the seed's variants —
 * `square` (DICE_SQUARE), `includeBackground: false` (DICEFG), `perImage` — and MONAI's and smp's:
 * `activation` ('softmax', 'sigmoid' for binary and multi-label, 'none' for probabilities),
 * `jaccard`, `log`, `classWeights`, `ignoreIndex`, `epsilon: { numerator, denominator }`, `reduction`.
 *
 * ```js
 * const logits = tf.zeros([1, 2, 2, 2]);              // p = 0.5 everywhere
 * const labels = tf.tensor3d([[[0, 1], [1, 1]]], [1, 2, 2], 'int32');
 * losses.dice(labels, logits).print();                 // 0.5333 = 1 − (1/3 + 3/5) / 2
 * losses.dice(labels, logits, { includeBackground: false }).print(); // 0.4 (fg: 3 / 5)
 * ```
 *
 * @param labels float32 [N, ...spatial, C] (one-hot, soft or multi-label), or int32 class indices [N, ...spatial]
 * @param logits float32 [N, ...spatial, C] with 1 to 3 spatial axes (probabilities with `activation: 'none'`)
 * @param opts   see `DiceOptions`
 * @returns a scalar, or the per-class values for `reduction: 'none'`
 */
export function dice(labels: Tensor, logits: Tensor, opts?: DiceOptions & { reduction?: 'mean' | 'sum' }): Scalar;
export function dice(labels: Tensor, logits: Tensor, opts: DiceOptions): Tensor;
export function dice(labels: Tensor, logits: Tensor, opts: DiceOptions = {}): Tensor {
  const op = 'dice';
  const C = checkRegionInputs(op, labels, logits, opts?.activation ?? 'softmax');
  checkDiceOptions(op, opts, C, labels);
  return diceRegion(labels, logits, opts);
}
