import { reshape, tidy, type Scalar, type Tensor } from '@tensorflow/tfjs-core';
import { SeglossSoftmaxDice, type SoftmaxDiceAttrs } from '../kernels/kernel_names.js';
import { diceComposite, resolveDiceOptions } from './composite.js';
import { checkIndexLabelsInRange, fusedKernelAvailable, runFusedLoss } from './fused.js';
import { diceRegion } from './region.js';
import type { DiceOptions } from './types.js';
import { checkDiceOptions, checkRegionInputs } from './validate.js';

/** The seed's Dice forms, which keep their specialised kernel (at C = 2 and C % 4 = 0): softmax, batch or per-image sums, one ε, the mean. */
function seedForm(opts: DiceOptions): boolean {
  const eps = opts.epsilon;
  return (opts.activation ?? 'softmax') === 'softmax' && opts.ignoreIndex === undefined && opts.classWeights === undefined
    && !opts.jaccard && !opts.log && (opts.reduction ?? 'mean') === 'mean'
    && (eps === undefined || typeof eps === 'number' || eps.numerator === eps.denominator);
}

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
  // The seed's kernel has SIMD paths for C = 2 and C % 4 = 0 only; the engine is faster elsewhere.
  if (!seedForm(opts) || (C !== 2 && C % 4 !== 0)) return diceRegion(labels, logits, opts);
  const epsilon = opts.epsilon as number | { numerator: number } | undefined;
  const o = resolveDiceOptions({ ...opts, epsilon: typeof epsilon === 'object' ? epsilon.numerator : epsilon });
  const fused = fusedKernelAvailable(SeglossSoftmaxDice);
  if (!fused) checkIndexLabelsInRange(labels, C, null);
  const seedDice = (y: Tensor, x: Tensor): Tensor => (fused
    ? runFusedLoss(SeglossSoftmaxDice, y, x, { square: o.square, includeBackground: o.includeBackground, perImage: o.perImage, epsilon: o.epsilon } satisfies Omit<SoftmaxDiceAttrs, 'withGrad'>)
    : diceComposite(y, x, o));
  if (logits.rank === 4) return seedDice(labels, logits);
  // The seed's kernel and composite take [N, H, W, C]: any rank is [N, pixels per image, 1, C].
  const N = logits.shape[0];
  return tidy(() => seedDice(reshape(labels, labels.rank === logits.rank ? [N, -1, 1, C] : [N, -1, 1]), reshape(logits, [N, -1, 1, C])));
}
