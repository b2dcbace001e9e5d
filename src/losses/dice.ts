import type { Scalar, Tensor } from '@tensorflow/tfjs-core';
import { SeglossSoftmaxDice, type SoftmaxDiceAttrs } from '../kernels/kernel_names.js';
import { diceComposite, resolveDiceOptions } from './composite.js';
import { checkIndexLabelsInRange, fusedKernelAvailable, runFusedLoss } from './fused.js';
import type { DiceOptions } from './types.js';
import { checkDiceOptions, checkLabelsAndLogits } from './validate.js';

/**
 * Softmax + soft Dice loss, 1 − mean_c (2 Σ y p + ε) / (Σ y + Σ p + ε), fused on the wasm backend
 * (after `setupWasmKernels()`), composed from tfjs ops elsewhere. Options select the seed's
 * variants: `square` (DICE_SQUARE), `includeBackground: false` (DICEFG), `perImage`.
 *
 * ```js
 * const logits = tf.zeros([1, 2, 2, 2]);              // p = 0.5 everywhere
 * const labels = tf.tensor3d([[[0, 1], [1, 1]]], [1, 2, 2], 'int32');
 * losses.dice(labels, logits).print();                 // 0.5333 = 1 − (1/3 + 3/5) / 2
 * losses.dice(labels, logits, { includeBackground: false }).print(); // 0.4 (fg: 3 / 5)
 * ```
 *
 * @param labels float32 one-hot (or soft) [N,H,W,C], or int32 class indices [N,H,W]
 * @param logits float32 [N,H,W,C]
 * @param opts   see `DiceOptions`
 * @returns a scalar
 */
export function dice(labels: Tensor, logits: Tensor, opts: DiceOptions = {}): Scalar {
  const op = 'dice';
  const C = checkLabelsAndLogits(op, labels, logits, opts?.includeBackground === false ? 2 : 1);
  checkDiceOptions(op, opts, C);
  const o = resolveDiceOptions(opts);
  if (!fusedKernelAvailable(SeglossSoftmaxDice)) {
    checkIndexLabelsInRange(labels, C, null);
    return diceComposite(labels, logits, o);
  }
  const attrs: Omit<SoftmaxDiceAttrs, 'withGrad'> = { ...o };
  return runFusedLoss(SeglossSoftmaxDice, labels, logits, attrs) as Scalar;
}
