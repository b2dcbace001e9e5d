/**
 * Option types shared by the fused kernels, the composite (tfjs-op) fallback and the float64
 * references. The meaning of every option is documented here once.
 */

/** How per-pixel cross-entropy values are reduced. */
export type Reduction = 'mean' | 'sum' | 'none';

/**
 * Options of `categoricalCrossEntropy`: per pixel −Σ_c y_c log p_c, p = softmax(logits) (the input
 * itself with `activation: 'none'`).
 */
export interface CategoricalCrossEntropyOptions {
  /**
   * `false` (default): the exact log-softmax form, −Σ_c y_c log p_c with log p_c = z_c − logsumexp(z).
   * `true`: the seed's form −Σ_c y_c log(clip(p_c, ε, 1 − ε)). Its value is capped at −log ε ≈ 16.12
   * per pixel and its gradient is zero wherever p_c was clipped (as TensorFlow's clip_by_value).
   * With `activation: 'none'` (probabilities in), p is first divided by its sum over the classes:
   * tfjs-layers' `categoricalCrossentropy` and Keras' `from_logits=False`, the safe form for a
   * model that ends in a softmax (a probability of exactly 0 costs 16.12, not a huge gradient).
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
  /** 'mean' (default): a scalar; 'sum': a scalar; 'none': the per-pixel loss, shape [N, ...spatial]. */
  reduction?: Reduction;
  /**
   * Label smoothing s ∈ [0, 1): targets y (1 − s) + s/C (PyTorch, Keras and tfjs agree). Not with
   * `clip`. Default 0.
   */
  labelSmoothing?: number;
  /**
   * 'softmax' (default: the input is logits) or 'none' (the input is probabilities, say from a
   * model ending in a softmax). Use it with `clip: true` (Keras' and tfjs-layers' form, above).
   * Without `clip`: −Σ y log p with log p clamped at −100 (PyTorch's bound for BCE), and
   * ∂/∂p_c = −y_c / max(p_c, 1e-30): a labelled class at probability 0 costs 100 and a gradient of
   * 1e30 — one such pixel can wreck a training step.
   */
  activation?: 'softmax' | 'none';
}

/**
 * Binary cross-entropy of every channel on its own (PyTorch's binary_cross_entropy_with_logits):
 * per element −(a_c y log σ(z) + (1 − y) log(1 − σ(z))), the mean over every element.
 */
export interface BinaryCrossEntropyOptions {
  /** 'sigmoid' (default: the input is logits) or 'none' (the input is probabilities; logs clamped at −100). */
  activation?: 'sigmoid' | 'none';
  /** Weight a_c of the positive term, per channel (length C, finite, ≥ 0): PyTorch's pos_weight. */
  posWeight?: readonly number[];
  /** Label smoothing s ∈ [0, 1): targets y (1 − s) + s/2 (tf.losses.sigmoidCrossEntropy). Default 0. */
  labelSmoothing?: number;
  /** int32 labels only: pixels with this label count nowhere (their C elements leave the mean). */
  ignoreIndex?: number;
  /** 'mean' (default) over counted elements, 'sum', or 'none': the per-element loss, the input's shape. */
  reduction?: Reduction;
}

/**
 * Focal loss (Lin et al.). Softmax (default): per pixel Σ_c −α_c (1 − p_c)^γ y_c log p_c, the mean
 * over pixels. Sigmoid (torchvision's sigmoid_focal_loss): per element α_t (1 − p_t)^γ BCE, the
 * mean over every element, p_t = p y + (1 − p)(1 − y), α_t = α y + (1 − α)(1 − y).
 */
export interface FocalOptions {
  /** 'softmax' (default), 'sigmoid', or 'none' (probabilities, the softmax form; logs clamped at −100). */
  activation?: Activation;
  /** Focusing exponent γ ≥ 0 (default 2; 0 is cross-entropy). */
  gamma?: number;
  /**
   * Softmax: a number α means [1 − α, α, α, …] (MONAI), an array (length C) per-class weights;
   * none: every class 1. Sigmoid: a number in [0, 1] weighs positives α and negatives 1 − α (an
   * array: per channel); none: no weighting.
   */
  alpha?: number | readonly number[];
  /** int32 labels only: pixels with this label count nowhere. */
  ignoreIndex?: number;
  /** 'mean' (default), 'sum', or 'none': per pixel (softmax) or per element (sigmoid). */
  reduction?: Reduction;
}

/**
 * Lovász-softmax (Berman et al. 2018, as smp's LovaszLoss in multiclass mode): per class, the
 * Lovász extension of the Jaccard loss applied to the errors |y − p|; the mean over classes (and
 * over images with `perImage`).
 */
export interface LovaszSoftmaxOptions {
  /** 'softmax' (default: the input is logits) or 'none' (probabilities). */
  activation?: 'softmax' | 'none';
  /** 'present' (default): only the classes present in the group's labels count; 'all': every class. */
  classes?: 'present' | 'all';
  /** `false` (default): one ranking over the whole batch; `true`: per image, then the mean over images. */
  perImage?: boolean;
  /** int32 labels only: pixels with this label are left out of every ranking. */
  ignoreIndex?: number;
}

/** What the compounds share: the Dice part's options (no reduction: the compound has one). */
export type CompoundDiceOptions = Omit<DiceOptions, 'activation' | 'ignoreIndex' | 'reduction'>;

/**
 * λ_dice · Dice + λ_ce · cross-entropy (MONAI's DiceCELoss, what nnU-Net trains with): one fused
 * pass and one gradient pass. With activation 'sigmoid' the cross-entropy part is binary.
 */
export interface DiceCrossEntropyOptions {
  activation?: 'softmax' | 'sigmoid';
  lambdaDice?: number;
  lambdaCe?: number;
  dice?: CompoundDiceOptions;
  /** The cross-entropy part: softmax → classWeights, labelSmoothing; sigmoid → posWeight, labelSmoothing. */
  ce?: { classWeights?: readonly number[]; posWeight?: readonly number[]; labelSmoothing?: number };
  ignoreIndex?: number;
  /** 'mean' (default): each part's mean; 'sum': Dice summed over classes (and images), CE over pixels. */
  reduction?: 'mean' | 'sum';
}

/** λ_dice · Dice + λ_focal · focal (MONAI's DiceFocalLoss): one fused pass and one gradient pass. */
export interface DiceFocalOptions {
  activation?: 'softmax' | 'sigmoid';
  lambdaDice?: number;
  lambdaFocal?: number;
  dice?: CompoundDiceOptions;
  /**
   * The focal part; its `activation` defaults to the compound's (MONAI 1.5's DiceFocalLoss takes a
   * softmax Dice with a sigmoid focal: `focal: { activation: 'sigmoid' }`).
   */
  focal?: { gamma?: number; alpha?: number | readonly number[]; activation?: 'softmax' | 'sigmoid' };
  ignoreIndex?: number;
  reduction?: 'mean' | 'sum';
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
/** One of the seed's five losses by name: 'cce', 'dice', 'dice_square', 'dicefg' or 'dicefg_square'. */
export type LossName = (typeof LOSS_NAMES)[number];

/** Options of `segmentationLosses`: ε of the clipped CCE and of the four Dice variants. */
export interface SegmentationLossesOptions {
  epsilon?: number;
}
