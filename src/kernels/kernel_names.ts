/**
 * Names, inputs and attributes of segloss's tfjs kernels, in one place. Names carry the Segloss
 * prefix so they never collide with tfjs's own kernels. The kernels have no registered gradient:
 * the ops in src/losses make them differentiable with tf.customGrad (see src/losses/fused.ts).
 */
import type { NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';

/** Fused softmax + CCE: outputs [loss (scalar, or [N,H,W] for reduction 'none'), dLoss/dlogits]. */
export const SeglossSoftmaxCrossEntropy = 'SeglossSoftmaxCrossEntropy';
/** The five seed losses in one pass: outputs [losses [5] (cce, dice, dice_square, dicefg, dicefg_square), sums [5, C]]. */
export const SeglossSegmentationLosses = 'SeglossSegmentationLosses';
/** Gradient of Σ_k dy_k · loss_k of SeglossSegmentationLosses (dy: float32 [5]): output dLoss/dlogits. */
export const SeglossSegmentationLossesGrad = 'SeglossSegmentationLossesGrad';

export type LabelsAndLogits = NamedTensorInfoMap & { labels: TensorInfo; logits: TensorInfo };

export interface SoftmaxCrossEntropyAttrs {
  clip: boolean;
  epsilon: number;
  /** Per-class weights, or an empty array for none. */
  classWeights: number[];
  /** The ignored label, or null. */
  ignoreIndex: number | null;
  reduction: 'mean' | 'sum' | 'none';
  /** False when no gradient can be asked for (no tape recording): the gradient output is then empty. */
  withGrad: boolean;
}

export interface SegmentationLossesAttrs {
  epsilon: number;
}

export type SegmentationLossesGradInputs = LabelsAndLogits & {
  /** The float32 [5, C] sums output of the forward kernel. */
  sums: TensorInfo;
  /** Upstream gradients of the five losses, in LOSS_NAMES order. */
  dy: TensorInfo;
};

/**
 * The region-loss engine's first pass (assembly/kernels/region_losses.ts): inputs labels, input
 * (logits or probabilities, [P, C] in any rank); outputs [sums (float32 holding f64 bytes: the sums
 * I, S, Y, S2, Y2 per group and class, then the pixel term's value and denominator per group),
 * p (the input's shape; empty without withProbs), the pixel term's values for reduction 'none'
 * ([P] or [P, C] as the kind has it; empty otherwise), the one-pass gradient (empty without oneShot),
 * what a compound's focal term saves for the gradient pass (see `saved`; empty without it)].
 */
export const SeglossRegionStats = 'SeglossRegionStats';
/**
 * Its gradient pass: inputs labels, input, probs (p from the first pass, or empty), coefs (float32
 * holding f64 a, b, k per group and class, or empty), pixelDy (the per-pixel upstream gradient of
 * the pixel term, or empty), saved (the first pass's fifth output, or empty); output dLoss/dinput.
 */
export const SeglossRegionGrad = 'SeglossRegionGrad';

/** Lovász-softmax (assembly/kernels/lovasz.ts): outputs [loss (scalar), dLoss/dinput (empty without withGrad)]. */
export const SeglossLovaszSoftmax = 'SeglossLovaszSoftmax';

export interface LovaszSoftmaxAttrs {
  /** false: the input is probabilities. */
  softmax: boolean;
  perImage: boolean;
  ignoreIndex: number | null;
  allClasses: boolean;
  withGrad: boolean;
}

/** Activations as the region kernels number them. */
export const ACTIVATION_CODES = { softmax: 0, sigmoid: 1, none: 2 } as const;
/** Pixel terms as the region kernels number them. */
export const PIXEL_KINDS = { none: 0, ce: 1, bce: 2, focalSoftmax: 3, focalSigmoid: 4 } as const;

/** A pixel term: its kind, whether its input is p (1) or logits (0), and its f32 parameters (region_losses.ts). */
export interface PixelTermAttrs {
  pixelKind: number;
  pxAct: number;
  params: number[];
}

export interface RegionStatsAttrs extends PixelTermAttrs {
  activation: number;
  groups: number;
  /** The ignored label, or null. */
  ignoreIndex: number | null;
  regionOn: boolean;
  /** The region loss reads S2 and Y2 (without, the SIMD paths leave them out). */
  squares: boolean;
  withProbs: boolean;
  /** The pixel term's values per pixel (or element) for reduction 'none'. */
  pixelValues: boolean;
  /**
   * A pixel loss alone, reduction 'mean' or 'sum': its gradient for an upstream gradient of 1 in
   * this same pass, as a fourth output (the mean's denominator found by scanning the labels first).
   */
  oneShot: boolean;
  reduction: 'mean' | 'sum' | 'none';
  /**
   * A compound whose focal term rides in the region part (Dice + focal): 'pixel' saves the
   * labelled class's h per pixel (softmax focal, class indices), 'element' saves ce per element
   * (sigmoid focal), so that the gradient pass takes no log (nor exp) for it; 'none' otherwise.
   */
  saved: 'none' | 'pixel' | 'element';
}

export interface RegionGradAttrs extends PixelTermAttrs {
  activation: number;
  groups: number;
  ignoreIndex: number | null;
  regionOn: boolean;
  /** The pixel term's factor when pixelDy is empty. */
  pixelScale: number;
}

/** Batch norm in training mode over the last axis: outputs [y, statistics [3, C] (mean, variance, 1/√(variance + ε))]. */
export const SeglossBatchNormTraining = 'SeglossBatchNormTraining';
/** Its gradient: inputs x, dy, gamma, statistics; outputs [dx, dgamma, dbeta]. */
export const SeglossBatchNormTrainingGrad = 'SeglossBatchNormTrainingGrad';

export interface BatchNormTrainingAttrs {
  epsilon: number;
}

/**
 * One Adam step for k variables: inputs theta0, grad0, m0, v0, theta1, …; outputs
 * [theta'0, m'0, v'0, theta'1, …] (see assembly/kernels/adam.ts).
 */
export const SeglossAdamUpdate = 'SeglossAdamUpdate';

export interface AdamUpdateAttrs {
  count: number;
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** 1 − β1^t and 1 − β2^t for this step, as float32 values. */
  oneMinusAccBeta1: number;
  oneMinusAccBeta2: number;
}
