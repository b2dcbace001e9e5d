/**
 * Names, inputs and attributes of segloss's tfjs kernels, in one place. Names carry the Segloss
 * prefix so they never collide with tfjs's own kernels. The kernels have no registered gradient:
 * the ops in src/losses make them differentiable with tf.customGrad (see src/losses/fused.ts).
 */
import type { NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';

/** Fused softmax + CCE: outputs [loss (scalar, or [N,H,W] for reduction 'none'), dLoss/dlogits]. */
export const SeglossSoftmaxCrossEntropy = 'SeglossSoftmaxCrossEntropy';
/** Fused softmax + Dice: outputs [loss (scalar), dLoss/dlogits]. */
export const SeglossSoftmaxDice = 'SeglossSoftmaxDice';
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

export interface SoftmaxDiceAttrs {
  square: boolean;
  includeBackground: boolean;
  perImage: boolean;
  epsilon: number;
  /** As in SoftmaxCrossEntropyAttrs. */
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
