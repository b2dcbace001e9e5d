/**
 * The segmentation losses composed from tfjs-core ops: the seed's TensorFlow code translated op
 * for op. This is the fallback on backends without the fused wasm kernels and the baseline the
 * benchmarks compare them with. Everything here is differentiable by tfjs autodiff with respect to
 * the logits and leaves no intermediate tensor behind.
 *
 * Inputs are assumed validated by the caller: logits float32 [N,H,W,C]; labels float32 one-hot
 * [N,H,W,C] or int32 class indices [N,H,W].
 */
import * as tf from '@tensorflow/tfjs-core';
import type { CategoricalCrossEntropyOptions, LossName, Reduction, SeedDiceOptions } from './types.js';

/** ε of the clipped CCE and of the Dice variants when none is given (the seed's value). */
export const DEFAULT_EPSILON = 1e-7;

/** `CategoricalCrossEntropyOptions` with every default filled in; absent options are `null`. */
export interface ResolvedCceOptions {
  readonly clip: boolean;
  readonly epsilon: number;
  readonly classWeights: readonly number[] | null;
  readonly ignoreIndex: number | null;
  readonly reduction: Reduction;
}

/** `SeedDiceOptions` with every default filled in. */
export interface ResolvedDiceOptions {
  readonly square: boolean;
  readonly includeBackground: boolean;
  readonly perImage: boolean;
  readonly epsilon: number;
}

/** Fills in the CCE defaults (exact form, ε 1e-7, no weights, nothing ignored, mean); frozen. */
export function resolveCceOptions(opts: CategoricalCrossEntropyOptions = {}): ResolvedCceOptions {
  return Object.freeze({
    clip: opts.clip ?? false,
    epsilon: opts.epsilon ?? DEFAULT_EPSILON,
    // Copied so that a caller mutating its array later cannot change a resolved object.
    classWeights: opts.classWeights ? Object.freeze([...opts.classWeights]) : null,
    ignoreIndex: opts.ignoreIndex ?? null,
    reduction: opts.reduction ?? 'mean',
  });
}

/** Fills in the Dice defaults (no squares, background included, batch Dice, ε 1e-7); frozen. */
export function resolveDiceOptions(opts: SeedDiceOptions = {}): ResolvedDiceOptions {
  return Object.freeze({
    square: opts.square ?? false,
    includeBackground: opts.includeBackground ?? true,
    perImage: opts.perImage ?? false,
    epsilon: opts.epsilon ?? DEFAULT_EPSILON,
  });
}

/**
 * Categorical cross-entropy from tfjs ops, with the semantics of `CategoricalCrossEntropyOptions`.
 * Returns a scalar, or the per-pixel losses [N,H,W] for reduction 'none'.
 */
export function cceComposite(labels: tf.Tensor, logits: tf.Tensor, opts?: CategoricalCrossEntropyOptions): tf.Tensor {
  const o = resolveCceOptions(opts);
  return tf.tidy(() => {
    const { targets, counted } = denseTargets(labels, logits, o.ignoreIndex);
    const terms = o.clip ? clippedNegLog(tf.softmax(logits), o.epsilon) : tf.neg(tf.logSoftmax(logits));
    const weighted = o.classWeights ? tf.mul(targets, tf.tensor1d(Array.from(o.classWeights), 'float32')) : targets;
    const perPixel = tf.sum(tf.mul(weighted, terms), -1);
    if (o.reduction === 'none') return perPixel;
    const total = tf.sum(perPixel);
    if (o.reduction === 'sum') return total;
    // PyTorch's weighted mean divides by the total weight of the counted targets; the seed's
    // unweighted reduce_mean by the number of pixels, here only the counted ones.
    const denominator = o.classWeights ? tf.sum(weighted) : counted ? tf.sum(counted) : perPixel.size;
    return tf.div(total, tf.maximum(denominator, 1e-30)); // 0 when every pixel is ignored (the total is 0 too)
  });
}

/** Dice loss from tfjs ops (the seed's `dice_loss`), with the semantics of `SeedDiceOptions`; a scalar. */
export function diceComposite(labels: tf.Tensor, logits: tf.Tensor, opts?: SeedDiceOptions): tf.Scalar {
  const o = resolveDiceOptions(opts);
  return tf.tidy(() => {
    const { targets } = denseTargets(labels, logits, null);
    return diceOfProbabilities(targets, tf.softmax(logits), o);
  });
}

/**
 * The five losses of the seed study from one softmax, as the seed computed them: `cce` is the
 * clipped CCE with mean reduction, the Dice variants are batch Dice. Each is a scalar.
 */
export function segmentationLossesComposite(
  labels: tf.Tensor,
  logits: tf.Tensor,
  epsilon = DEFAULT_EPSILON,
): Record<LossName, tf.Scalar> {
  return tf.tidy(() => {
    const { targets } = denseTargets(labels, logits, null);
    const p = tf.softmax(logits);
    const dice = (square: boolean, includeBackground: boolean) =>
      diceOfProbabilities(targets, p, { square, includeBackground, perImage: false, epsilon });
    return {
      cce: tf.mean(tf.sum(tf.mul(targets, clippedNegLog(p, epsilon)), -1)) as tf.Scalar,
      dice: dice(false, true),
      dice_square: dice(true, true),
      dicefg: dice(false, false),
      dicefg_square: dice(true, false),
    };
  });
}

/**
 * Float32 targets [N,H,W,C] and, when pixels can be ignored, the counted-pixel mask [N,H,W,1].
 * One-hot labels (same rank as the logits) are used as given: `ignoreIndex` only applies to index
 * labels (types.ts), and rejecting it with one-hot labels is the validator's job.
 * An ignored pixel's row must be all zeros: tf.oneHot leaves it so for an index outside [0, C) on
 * the cpu backend, but an ignoreIndex inside [0, C) gets a one, so the mask is always applied.
 */
function denseTargets(
  labels: tf.Tensor,
  logits: tf.Tensor,
  ignoreIndex: number | null,
): { targets: tf.Tensor; counted: tf.Tensor | null } {
  if (labels.rank === logits.rank) return { targets: labels, counted: null };
  const oneHot = oneHotFloat(labels, logits.shape[logits.rank - 1]);
  if (ignoreIndex === null) return { targets: oneHot, counted: null };
  const counted = tf.expandDims(tf.cast(tf.notEqual(labels, ignoreIndex), 'float32'), -1);
  return { targets: tf.mul(oneHot, counted), counted };
}

/**
 * One-hot float32 targets of int32 class indices. Not `tf.oneHot(…, 'float32')`: tfjs-backend-wasm
 * 4.22's OneHot ignores the dtype and writes int32 ones into a float32 tensor (1.4e-45), so the
 * one-hot is made as int32 and cast, which every backend gets right.
 */
export function oneHotFloat(labels: tf.Tensor, classes: number): tf.Tensor {
  return tf.cast(tf.oneHot(labels as tf.Tensor, classes), 'float32');
}

/** The seed's per-class term −log(clip(p, ε, 1 − ε)); tfjs's clip gradient is zero where it clipped. */
function clippedNegLog(p: tf.Tensor, epsilon: number): tf.Tensor {
  return tf.neg(tf.log(tf.clipByValue(p, epsilon, 1 - epsilon)));
}

/** 1 − mean over (image or batch, class) of (2 Σ y p + ε) / (Σ y^q + Σ p^q + ε). */
function diceOfProbabilities(targets: tf.Tensor, p: tf.Tensor, o: ResolvedDiceOptions): tf.Scalar {
  let y = targets;
  let probs = p;
  if (!o.includeBackground) {
    y = tf.slice(y, [0, 0, 0, 1], [-1, -1, -1, -1]);
    probs = tf.slice(probs, [0, 0, 0, 1], [-1, -1, -1, -1]);
  }
  const axes = o.perImage ? [1, 2] : [0, 1, 2];
  const numerator = tf.add(tf.mul(tf.sum(tf.mul(y, probs), axes), 2), o.epsilon);
  // Squares go in the denominator only (Milletari's form).
  const yq = o.square ? tf.square(y) : y;
  const pq = o.square ? tf.square(probs) : probs;
  const denominator = tf.add(tf.add(tf.sum(yq, axes), tf.sum(pq, axes)), o.epsilon);
  return tf.sub(1, tf.mean(tf.div(numerator, denominator)));
}
