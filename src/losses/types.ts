/**
 * Option types shared by the fused kernels, the composite (tfjs-op) fallback and the float64
 * references. The meaning of every option is documented here once.
 */

/** How per-pixel cross-entropy values are reduced. */
export type Reduction = 'mean' | 'sum' | 'none';

export interface CategoricalCrossEntropyOptions {
  /**
   * `false` (default): the exact log-softmax form, −Σ_c y_c log p_c with log p_c = z_c − logsumexp(z).
   * `true`: the seed's form −Σ_c y_c log(clip(p_c, ε, 1 − ε)). Its value is capped at −log ε ≈ 16.12
   * per pixel and its gradient is zero wherever p_c was clipped (as TensorFlow's clip_by_value).
   */
  clip?: boolean;
  /** ε of the clip form (default 1e-7). Must be finite and in (0, 0.5). */
  epsilon?: number;
  /**
   * Per-class weights w (length C, finite, ≥ 0). Pixel i contributes Σ_c w_c y_ic ℓ_ic; the mean
   * divides by Σ_i Σ_c w_c y_ic over counted pixels (PyTorch's convention for one-hot targets).
   * Without weights the mean divides by the number of counted pixels, as the seed's reduce_mean.
   */
  classWeights?: readonly number[];
  /**
   * Only with int32 index labels: pixels whose label equals this value count nowhere, neither in
   * the numerator nor in the mean's denominator. Their gradient is zero and, with
   * `reduction: 'none'`, their loss is 0.
   */
  ignoreIndex?: number;
  /** 'mean' (default): a scalar; 'sum': a scalar; 'none': the per-pixel loss, shape [N,H,W]. */
  reduction?: Reduction;
}

export interface DiceOptions {
  /** Square y and p in the denominator only (Milletari's DICE_SQUARE). Default false. */
  square?: boolean;
  /**
   * Include channel 0 (background) in the mean over classes. Default true. `false` gives the
   * seed's DICEFG: background dominates imbalanced data and would hide the foreground's score.
   */
  includeBackground?: boolean;
  /**
   * `false` (default): the seed's batch Dice, sums over N, H, W. `true`: sums over H, W per
   * image, then the mean over images and classes.
   */
  perImage?: boolean;
  /**
   * ε added to numerator and denominator (default 1e-7): keeps an empty class finite and lets
   * a class absent from the labels still learn (its score is 1 only when predicted absent too).
   */
  epsilon?: number;
}

/** The five losses of the seed study, under the names used in configs, logs and reports. */
export const LOSS_NAMES = ['cce', 'dice', 'dice_square', 'dicefg', 'dicefg_square'] as const;
export type LossName = (typeof LOSS_NAMES)[number];

/** Options of `segmentationLosses`: ε of the clipped CCE and of the four Dice variants. */
export interface SegmentationLossesOptions {
  epsilon?: number;
}
