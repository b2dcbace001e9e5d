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

/**
 * How the input becomes probabilities p, per element:
 * - 'softmax' (default): over the C channels of a pixel; classes are exclusive. Needs C ≥ 2.
 * - 'sigmoid': the logistic function of each channel on its own; binary (C = 1) and multi-label.
 * - 'none': the input already is a probability map (say a tfjs-layers model ending in a softmax);
 *   the gradient is with respect to those probabilities.
 */
export type Activation = 'softmax' | 'sigmoid' | 'none';

/**
 * ε of a region loss: one number for numerator and denominator, or each its own (MONAI's smooth_nr,
 * smooth_dr). Finite and ≥ 0; 0 is allowed where every class is known to be present.
 */
export type RegionEpsilon = number | { numerator: number; denominator: number };

/**
 * What every region loss (Dice, generalized Dice, Tversky) takes. Labels: float32 like the input
 * (one-hot, soft or multi-label), or int32 class indices — one-hot, except for a single channel
 * (binary, C = 1), where they are the mask itself: 1 the class, 0 not.
 */
export interface RegionLossOptions {
  /** See `Activation`. Default 'softmax'. */
  activation?: Activation;
  /**
   * Include channel 0 (background) in the mean over classes. Default true. `false` gives the
   * seed's DICEFG: background dominates imbalanced data and would hide the foreground's score.
   */
  includeBackground?: boolean;
  /**
   * `false` (default): the seed's batch form, sums over N and every spatial axis (MONAI's
   * `batch: true`). `true`: sums per image, then the mean over images and classes (MONAI's default).
   */
  perImage?: boolean;
  /** Default 1e-7 for both (the seed's); MONAI's defaults are `{ numerator: 1e-5, denominator: 1e-5 }`. */
  epsilon?: RegionEpsilon;
  /**
   * Only with int32 index labels: pixels with this label count nowhere — neither their y nor
   * their p enters any sum (smp's ignore_index). Their gradient is 0.
   */
  ignoreIndex?: number;
  /**
   * 'mean' (default) over classes (and images with `perImage`); 'sum'; 'none': the per-class
   * values, [C'] or [N, C'] with `perImage` (C' = classes kept; generalized Dice has one value
   * per group: [1] or [N, 1]).
   */
  reduction?: Reduction;
}

export interface DiceOptions extends RegionLossOptions {
  /** Square y and p in the denominator (Milletari's DICE_SQUARE; MONAI's squared_pred). Default false. */
  square?: boolean;
  /**
   * Soft Jaccard (IoU) instead of Dice, as MONAI's `jaccard: true`:
   * 1 − (2 Σ y p + ε_n) / (2 (Σ y + Σ p − Σ y p) + ε_d).
   */
  jaccard?: boolean;
  /** −log of each class's score instead of 1 − score (smp's log_loss). Default false. */
  log?: boolean;
  /**
   * Per-class weights (length C, every class, background too; finite, ≥ 0): each class's loss is
   * multiplied by its weight before the mean over classes (MONAI's `weight`).
   */
  classWeights?: readonly number[];
}

/** The seed's Dice forms (one ε), as its specialised kernel, composite and reference take them. */
export type SeedDiceOptions = Pick<DiceOptions, 'square' | 'includeBackground' | 'perImage'> & { epsilon?: number };

/**
 * Generalized Dice (Sudre et al. 2017, as MONAI's GeneralizedDiceLoss): per group
 * 1 − (2 Σ_c w_c Σ y p + ε_n) / (Σ_c w_c (Σ y + Σ p) + ε_d), w_c from the labels alone.
 */
export interface GeneralizedDiceOptions extends RegionLossOptions {
  /**
   * w_c = 1 / (Σ y_c)² ('square', default), 1 / Σ y_c ('simple') or 1 ('uniform'). A class absent
   * from the group's labels (an infinite weight) gets the largest finite weight of the group.
   */
  weightType?: 'square' | 'simple' | 'uniform';
}

/**
 * Tversky (MONAI's TverskyLoss): per class TI = (Σ y p + ε_n) / (Σ y p + α FP + β FN + ε_d) with
 * FP = Σ p (1 − y), FN = Σ (1 − p) y; the loss is (1 − TI)^γ (γ = 1: Tversky; γ ≠ 1: focal
 * Tversky, as smp), averaged over classes.
 */
export interface TverskyOptions extends RegionLossOptions {
  /** Weight of false positives (default 0.5; α = β = 0.5 is Dice). Finite, ≥ 0. */
  alpha?: number;
  /** Weight of false negatives (default 0.5). Finite, ≥ 0. */
  beta?: number;
  /** Focal exponent (default 1). Finite, > 0. */
  gamma?: number;
}

/** The five losses of the seed study, under the names used in configs, logs and reports. */
export const LOSS_NAMES = ['cce', 'dice', 'dice_square', 'dicefg', 'dicefg_square'] as const;
export type LossName = (typeof LOSS_NAMES)[number];

/** Options of `segmentationLosses`: ε of the clipped CCE and of the four Dice variants. */
export interface SegmentationLossesOptions {
  epsilon?: number;
}
