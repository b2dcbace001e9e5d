/**
 * The pixel losses on the region engine (assembly/kernels/region_losses.ts): binary cross-entropy,
 * focal, cross-entropy with label smoothing or given probabilities, and the compounds Dice + CE and
 * Dice + focal (each one statistics pass and one gradient pass). Each loss is its kernel
 * parameters plus its tfjs-op twin (`values`), used off the wasm kernels.
 */
import * as tf from '@tensorflow/tfjs-core';
import { oneHotFloat } from './composite.js';
import type { Tensor } from '@tensorflow/tfjs-core';
import type { CustomGradientFunc } from './fused.js';
import { diceFormula, type DiceFormulaOptions } from './region_formulas.js';
import { diceValues } from './region_composite.js';
import { resolveRegion, runEngineLoss, type PixelTerm, type ResolvedRegion } from './region.js';
import type {
  BinaryCrossEntropyOptions, CategoricalCrossEntropyOptions, CompoundDiceOptions, DiceCrossEntropyOptions,
  DiceFocalOptions, FocalOptions,
} from './types.js';
import {
  checkBinaryCrossEntropyOptions, checkDiceCrossEntropyOptions, checkDiceFocalOptions, checkFocalOptions, checkRegionInputs,
} from './validate.js';

/** The kernel's parameters: w [C], a [C], γ, s, hasAlpha, hasWeights. */
function params(C: number, o: { w?: readonly number[] | null; a?: readonly number[] | null; gamma?: number; smoothing?: number; hasAlpha?: boolean }): number[] {
  return [
    ...(o.w ? Array.from(o.w) : new Array(C).fill(1)),
    ...(o.a ? Array.from(o.a) : new Array(C).fill(1)),
    o.gamma ?? 0, o.smoothing ?? 0, o.hasAlpha ? 1 : 0, o.w ? 1 : 0,
  ];
}

/** Dense targets (one-hot of index labels) and the counted-pixel mask [..., 1] (null when nothing is ignored). */
function targets(labels: Tensor, input: Tensor, ignoreIndex: number | null): { y: Tensor; counted: Tensor | null } {
  const C = input.shape[input.rank - 1];
  const y = labels.rank === input.rank ? labels
    : C === 1 ? tf.expandDims(tf.cast(tf.equal(labels, 1), 'float32'), -1) : oneHotFloat(labels, C);
  if (ignoreIndex == null) return { y, counted: null };
  const counted = tf.expandDims(tf.cast(tf.notEqual(labels, ignoreIndex), 'float32'), -1);
  return { y: tf.mul(y, counted), counted };
}

/** log p: log-softmax of logits, or the log of given probabilities clamped at −100 (PyTorch's convention). */
/**
 * log p clamped at −100, for probabilities given as input, with the fused kernels' derivative
 * 1 / max(p, 1e-30): finite at p = 0, where tf.maximum(tf.log(p), −100)'s is NaN (0 · ∞).
 */
const clampedLog = tf.customGrad(((p: Tensor, save: tf.GradSaveFunc) => {
  save([p]);
  return { value: tf.maximum(tf.log(p), -100), gradFunc: (dy: Tensor, [saved]: Tensor[]) => tf.div(dy, tf.maximum(saved, 1e-30)) };
}) as CustomGradientFunc) as (p: Tensor) => Tensor;

function logProbabilities(input: Tensor, given: boolean): Tensor {
  return given ? clampedLog(input) : tf.logSoftmax(input);
}

/** softplus(−z) = −log σ(z) and softplus(z) = −log(1 − σ(z)), and σ(z), from logits (given probabilities take givenBce). */
function negLogs(input: Tensor): { negLogP: Tensor; negLog1mP: Tensor; p: Tensor } {
  return { negLogP: tf.softplus(tf.neg(input)), negLog1mP: tf.softplus(input), p: tf.sigmoid(input) };
}

/**
 * BCE of given probabilities p against targets ys (positive weight a): the logs clamped at −100,
 * and the fused kernels' (and PyTorch's) derivative (p (a ys + 1 − ys) − a ys) / max(p (1 − p), 1e-12),
 * finite at p = 0 and 1.
 */
function givenBce(ys: Tensor, a: Tensor | null): (p: Tensor) => Tensor {
  const ay = a ? tf.mul(a, ys) : ys;
  return tf.customGrad(((p: Tensor, save: tf.GradSaveFunc) => {
    // The targets are saved with p: the backward pass runs after the forward pass's scope has ended.
    save([p, ys, ay]);
    const value = tf.add(tf.mul(ay, tf.neg(clampedLog(p))), tf.mul(tf.sub(1, ys), tf.neg(clampedLog(tf.sub(1, p)))));
    return {
      value,
      gradFunc: (dy: Tensor, [q, t, at]: Tensor[]) => tf.mul(dy, tf.div(tf.sub(tf.mul(q, tf.add(at, tf.sub(1, t))), at), tf.maximum(tf.mul(q, tf.sub(1, q)), 1e-12))),
    };
  }) as CustomGradientFunc) as (p: Tensor) => Tensor;
}

/** Values and their denominators (1 each), both zero at ignored pixels (`counted` [..., 1], or null). */
function counting(values: Tensor, counted: Tensor | null): { values: Tensor; denominators: Tensor } {
  if (!counted) return { values, denominators: tf.onesLike(values) };
  return { values: tf.mul(values, counted), denominators: tf.mul(tf.onesLike(values), counted) };
}

/** A per-class vector as a tensor broadcasting over the last axis. */
const perClass = (values: readonly number[]) => tf.tensor1d(Array.from(values), 'float32');

export function crossEntropyTerm(C: number, o: { classWeights?: readonly number[] | null; labelSmoothing?: number; givenProbabilities: boolean; ignoreIndex: number | null; lambda?: number }): PixelTerm {
  const s = o.labelSmoothing ?? 0;
  const w = o.classWeights ?? null;
  return {
    kind: 'ce', givenProbabilities: o.givenProbabilities, lambda: o.lambda ?? 1,
    params: params(C, { w, smoothing: s }),
    values: (labels, input) => {
      const { y, counted } = targets(labels, input, o.ignoreIndex);
      let q = tf.add(tf.mul(y, 1 - s), s / C);
      if (counted) q = tf.mul(q, counted);
      if (w) q = tf.mul(q, perClass(w));
      const values = tf.neg(tf.sum(tf.mul(q, logProbabilities(input, o.givenProbabilities)), -1));
      const denominators = w ? tf.sum(tf.mul(y, perClass(w)), -1) : counted ? tf.squeeze(counted, [-1]) : tf.onesLike(values);
      return { values, denominators };
    },
  };
}

function binaryTerm(C: number, o: { posWeight?: readonly number[] | null; labelSmoothing?: number; givenProbabilities: boolean; ignoreIndex: number | null; lambda?: number }): PixelTerm {
  const s = o.labelSmoothing ?? 0;
  return {
    kind: 'bce', givenProbabilities: o.givenProbabilities, lambda: o.lambda ?? 1,
    params: params(C, { a: o.posWeight ?? null, smoothing: s }),
    values: (labels, input) => {
      const { y, counted } = targets(labels, input, o.ignoreIndex);
      const ys = tf.add(tf.mul(y, 1 - s), s / 2);
      const a = o.posWeight ? perClass(o.posWeight) : null;
      if (o.givenProbabilities) return counting(givenBce(ys, a)(input), counted);
      const { negLogP, negLog1mP } = negLogs(input);
      const positive = a ? tf.mul(a, tf.mul(ys, negLogP)) : tf.mul(ys, negLogP);
      return counting(tf.add(positive, tf.mul(tf.sub(1, ys), negLog1mP)), counted);
    },
  };
}

/** α per class for the kernel: MONAI's number α is [1 − α, α, α, …] for a softmax; sigmoid: α for every channel. */
function focalAlpha(alpha: number | readonly number[] | undefined, C: number, sigmoid: boolean): number[] | null {
  if (alpha === undefined) return null;
  if (typeof alpha !== 'number') return Array.from(alpha);
  return sigmoid ? new Array(C).fill(alpha) : Array.from({ length: C }, (_, c) => (c === 0 ? 1 - alpha : alpha));
}

function focalTerm(C: number, o: { gamma?: number; alpha?: number | readonly number[]; activation: 'softmax' | 'sigmoid' | 'none'; ignoreIndex: number | null; lambda?: number }): PixelTerm {
  const gamma = o.gamma ?? 2;
  const sigmoid = o.activation === 'sigmoid';
  const a = focalAlpha(o.alpha, C, sigmoid);
  // x^γ with the fused kernels' conventions where a saturated input makes x exactly 0: 1 for γ = 0,
  // and a zero derivative (pow's γ·0^(γ−1) is NaN for γ = 0 after the chain rule, ∞ for γ < 1).
  const focusing = (x: Tensor) => (gamma === 0 ? tf.onesLike(x) : gamma === 1 ? x : tf.pow(tf.maximum(x, 1e-30), gamma));
  return {
    kind: sigmoid ? 'focalSigmoid' : 'focalSoftmax', givenProbabilities: o.activation === 'none', lambda: o.lambda ?? 1,
    params: params(C, { a, gamma, hasAlpha: a != null }),
    values: (labels, input) => {
      const { y, counted } = targets(labels, input, o.ignoreIndex);
      if (!sigmoid) {
        const logp = logProbabilities(input, o.activation === 'none');
        const p = tf.exp(logp);
        let terms = tf.mul(tf.mul(y, focusing(tf.sub(1, p))), logp);
        if (a) terms = tf.mul(terms, perClass(a));
        const values = tf.neg(tf.sum(terms, -1));
        return { values, denominators: counted ? tf.squeeze(counted, [-1]) : tf.onesLike(values) };
      }
      const { negLogP, negLog1mP, p } = negLogs(input);
      const ce = tf.add(tf.mul(y, negLogP), tf.mul(tf.sub(1, y), negLog1mP));
      const m = tf.sub(1, tf.add(tf.mul(p, y), tf.mul(tf.sub(1, p), tf.sub(1, y))));
      let values = tf.mul(focusing(m), ce);
      if (a) {
        const at = perClass(a);
        values = tf.mul(values, tf.add(tf.mul(at, y), tf.mul(tf.sub(1, at), tf.sub(1, y))));
      }
      return counting(values, counted);
    },
  };
}

/** A pixel loss alone on the engine. */
function runPixel(labels: Tensor, input: Tensor, region: ResolvedRegion, pixel: PixelTerm): Tensor {
  return runEngineLoss(labels, input, { region, formula: null, composite: null, lambdaRegion: 0, pixel });
}

/**
 * Binary cross-entropy of every channel on its own, as PyTorch's binary_cross_entropy_with_logits:
 * per element −(a_c y log σ(z) + (1 − y) log(1 − σ(z))), then the mean over every element. For
 * binary segmentation (one channel) and multi-label masks.
 *
 * @param labels float32 [N, ...spatial, C] (0/1 masks, or soft targets), or int32 [N, ...spatial]
 *               (C = 1: the mask itself; C > 1: one-hot)
 * @param logits float32 [N, ...spatial, C] (probabilities with `activation: 'none'`)
 */
export function binaryCrossEntropy(labels: Tensor, logits: Tensor, opts: BinaryCrossEntropyOptions = {}): Tensor {
  const op = 'binaryCrossEntropy';
  const C = checkRegionInputs(op, labels, logits, 'sigmoid');
  checkBinaryCrossEntropyOptions(op, opts, C, labels);
  const region = resolveRegion({ activation: 'sigmoid', ignoreIndex: opts.ignoreIndex, reduction: opts.reduction });
  return runPixel(labels, logits, region, binaryTerm(C, {
    posWeight: opts.posWeight ?? null, labelSmoothing: opts.labelSmoothing, givenProbabilities: opts.activation === 'none',
    ignoreIndex: region.ignoreIndex,
  }));
}

/**
 * Focal loss (Lin et al. 2017). Softmax (default): per pixel Σ_c −α_c (1 − p_c)^γ y_c log p_c, the
 * mean over pixels (MONAI's FocalLoss with use_softmax takes the mean over pixels × classes: C times
 * less). Sigmoid: torchvision's sigmoid_focal_loss, the mean over every element.
 *
 * @param labels float32 [N, ...spatial, C], or int32 class indices [N, ...spatial]
 * @param logits float32 [N, ...spatial, C] (probabilities with `activation: 'none'`, the softmax form)
 */
export function focal(labels: Tensor, logits: Tensor, opts: FocalOptions = {}): Tensor {
  const op = 'focal';
  const activation = opts?.activation ?? 'softmax';
  const C = checkRegionInputs(op, labels, logits, activation === 'none' ? 'softmax' : activation);
  checkFocalOptions(op, opts, C, labels);
  const region = resolveRegion({ activation: activation === 'none' ? 'none' : activation, ignoreIndex: opts.ignoreIndex, reduction: opts.reduction });
  return runPixel(labels, logits, region, focalTerm(C, { gamma: opts.gamma, alpha: opts.alpha, activation, ignoreIndex: region.ignoreIndex }));
}

/** categoricalCrossEntropy beyond its seed kernel: label smoothing, or probabilities as input. */
export function crossEntropyOnEngine(labels: Tensor, input: Tensor, opts: CategoricalCrossEntropyOptions): Tensor {
  const C = input.shape[input.rank - 1];
  const region = resolveRegion({ activation: opts.activation ?? 'softmax', ignoreIndex: opts.ignoreIndex, reduction: opts.reduction });
  return runPixel(labels, input, region, crossEntropyTerm(C, {
    classWeights: opts.classWeights ?? null, labelSmoothing: opts.labelSmoothing,
    givenProbabilities: opts.activation === 'none', ignoreIndex: region.ignoreIndex,
  }));
}

/** The Dice part of a compound: its formula, composite and the region options it shares. */
function compoundDice(C: number, dice: CompoundDiceOptions | undefined, activation: 'softmax' | 'sigmoid', ignoreIndex: number | undefined, reduction: 'mean' | 'sum' | undefined) {
  const region = resolveRegion({ ...dice, activation, ignoreIndex, reduction });
  const o: DiceFormulaOptions = {
    firstClass: region.firstClass, square: dice?.square ?? false, jaccard: dice?.jaccard ?? false, log: dice?.log ?? false,
    numerator: region.numerator, denominator: region.denominator, classWeights: dice?.classWeights ? Array.from(dice.classWeights) : null,
  };
  return { region, formula: diceFormula(o, C), composite: (s: Parameters<typeof diceValues>[0]) => diceValues(s, o) };
}

/**
 * λ_dice · Dice + λ_ce · cross-entropy, as MONAI's DiceCELoss (what nnU-Net trains with), in one
 * fused pass and one gradient pass. The cross-entropy part always includes the background; with
 * `activation: 'sigmoid'` it is the binary cross-entropy of every channel.
 */
export function diceCrossEntropy(labels: Tensor, logits: Tensor, opts: DiceCrossEntropyOptions = {}): Tensor {
  const op = 'diceCrossEntropy';
  const activation = opts?.activation ?? 'softmax';
  const C = checkRegionInputs(op, labels, logits, activation);
  checkDiceCrossEntropyOptions(op, opts, C, labels);
  const dice = compoundDice(C, opts.dice, activation, opts.ignoreIndex, opts.reduction);
  const common = { labelSmoothing: opts.ce?.labelSmoothing, givenProbabilities: false, ignoreIndex: dice.region.ignoreIndex, lambda: opts.lambdaCe ?? 1 };
  const pixel = activation === 'sigmoid'
    ? binaryTerm(C, { ...common, posWeight: opts.ce?.posWeight ?? null })
    : crossEntropyTerm(C, { ...common, classWeights: opts.ce?.classWeights ?? null });
  return runEngineLoss(labels, logits, { ...dice, lambdaRegion: opts.lambdaDice ?? 1, pixel });
}

/**
 * λ_dice · Dice + λ_focal · focal, as MONAI's DiceFocalLoss, in one fused pass and one gradient
 * pass. The focal part takes the compound's activation unless `focal.activation` says otherwise.
 */
export function diceFocal(labels: Tensor, logits: Tensor, opts: DiceFocalOptions = {}): Tensor {
  const op = 'diceFocal';
  const activation = opts?.activation ?? 'softmax';
  const C = checkRegionInputs(op, labels, logits, activation);
  checkDiceFocalOptions(op, opts, C, labels);
  const dice = compoundDice(C, opts.dice, activation, opts.ignoreIndex, opts.reduction);
  const pixel = focalTerm(C, {
    gamma: opts.focal?.gamma, alpha: opts.focal?.alpha, activation: opts.focal?.activation ?? activation,
    ignoreIndex: dice.region.ignoreIndex, lambda: opts.lambdaFocal ?? 1,
  });
  return runEngineLoss(labels, logits, { ...dice, lambdaRegion: opts.lambdaDice ?? 1, pixel });
}
