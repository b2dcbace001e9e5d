/**
 * The region losses composed from tfjs ops: the fallback off the wasm kernels, and the baseline of
 * the benchmarks. Same definitions as region_formulas.ts (there in float64 numbers with their
 * derivatives, here in tensors that tfjs differentiates). Inputs are validated by the caller.
 */
import * as tf from '@tensorflow/tfjs-core';
import { oneHotFloat } from './composite.js';
import type { DiceFormulaOptions, GeneralizedDiceFormulaOptions, TverskyFormulaOptions } from './region_formulas.js';
import type { Activation } from './types.js';

/** The per-class sums of every group, each [G, C]. */
export interface SumTensors {
  I: tf.Tensor2D;
  S: tf.Tensor2D;
  Y: tf.Tensor2D;
  S2: tf.Tensor2D;
  Y2: tf.Tensor2D;
}

/** p = act(input), y dense, both zeroed at ignored pixels, summed per group (the batch, or each image). */
export function regionSums(
  labels: tf.Tensor, input: tf.Tensor, activation: Activation, perImage: boolean, ignoreIndex: number | null,
): SumTensors {
  const C = input.shape[input.rank - 1];
  let p = activation === 'softmax' ? tf.softmax(input) : activation === 'sigmoid' ? tf.sigmoid(input) : input;
  // Index labels are one-hot, except for one channel (binary), where they are the mask itself.
  let y = labels.rank === input.rank ? labels
    : C === 1 ? tf.expandDims(tf.cast(tf.equal(labels, 1), 'float32'), -1) : oneHotFloat(labels, C);
  if (ignoreIndex != null) {
    const counted = tf.expandDims(tf.cast(tf.notEqual(labels, ignoreIndex), 'float32'), -1);
    p = tf.mul(p, counted);
    y = tf.mul(y, counted);
  }
  const axes = Array.from({ length: input.rank - 1 }, (_, k) => k).slice(perImage ? 1 : 0);
  const sum = (t: tf.Tensor) => {
    const s = tf.sum(t, axes);
    return (perImage ? s : tf.expandDims(s, 0)) as tf.Tensor2D;
  };
  return { I: sum(tf.mul(p, y)), S: sum(p), Y: sum(y), S2: sum(tf.square(p)), Y2: sum(tf.square(y)) };
}

/** Classes from `firstClass` on, [G, C − firstClass]. */
function kept(t: tf.Tensor2D, firstClass: number): tf.Tensor2D {
  return firstClass === 0 ? t : tf.slice(t, [0, firstClass], [-1, -1]);
}

/** Dice's per-class values [G, C'] (region_formulas.ts: diceFormula). */
export function diceValues(s: SumTensors, o: DiceFormulaOptions): tf.Tensor2D {
  const I = kept(s.I, o.firstClass);
  const yq = kept(o.square ? s.Y2 : s.Y, o.firstClass);
  const sq = kept(o.square ? s.S2 : s.S, o.firstClass);
  const d = o.jaccard ? tf.mul(2, tf.sub(tf.add(yq, sq), I)) : tf.add(yq, sq);
  const r = tf.div(tf.add(tf.mul(2, I), o.numerator), tf.add(d, o.denominator));
  const f = o.log ? tf.neg(tf.log(r)) : tf.sub(1, r);
  return (o.classWeights ? tf.mul(f, tf.tensor1d(o.classWeights.slice(o.firstClass) as number[], 'float32')) : f) as tf.Tensor2D;
}

/** Generalized Dice's value per group [G, 1] (region_formulas.ts: generalizedDiceFormula). */
export function generalizedDiceValues(s: SumTensors, o: GeneralizedDiceFormulaOptions): tf.Tensor2D {
  const I = kept(s.I, o.firstClass);
  const Y = kept(s.Y, o.firstClass);
  const S = kept(s.S, o.firstClass);
  const raw = o.weightType === 'uniform' ? tf.onesLike(Y) : o.weightType === 'simple' ? tf.reciprocal(Y) : tf.reciprocal(tf.square(Y));
  // An infinite weight (a class absent from the group's labels) becomes the group's largest finite one.
  const infinite = tf.isInf(raw);
  const finite = tf.where(infinite, tf.zerosLike(raw), raw);
  const w = tf.where(infinite, tf.broadcastTo(tf.max(finite, 1, true), raw.shape), finite);
  const num = tf.add(tf.mul(2, tf.sum(tf.mul(w, I), 1, true)), o.numerator);
  const den = tf.add(tf.sum(tf.mul(w, tf.add(Y, S)), 1, true), o.denominator);
  return tf.sub(1, tf.div(num, den)) as tf.Tensor2D;
}

/** Tversky's per-class values [G, C'] (region_formulas.ts: tverskyFormula). */
export function tverskyValues(s: SumTensors, o: TverskyFormulaOptions): tf.Tensor2D {
  const I = kept(s.I, o.firstClass);
  const fp = tf.sub(kept(s.S, o.firstClass), I);
  const fn = tf.sub(kept(s.Y, o.firstClass), I);
  const ti = tf.div(tf.add(I, o.numerator), tf.add(tf.add(tf.add(I, tf.mul(o.alpha, fp)), tf.mul(o.beta, fn)), o.denominator));
  const f = tf.sub(1, ti);
  // (1 − TI)^γ with the fused path's derivative at 1 − TI = 0 (reached in float32 by saturated
  // inputs): 0, where pow's γ·0^(γ−1) would be ∞ for γ < 1 (and NaN after the chain rule).
  return (o.gamma === 1 ? f : tf.pow(tf.maximum(f, 1e-30), o.gamma)) as tf.Tensor2D;
}
