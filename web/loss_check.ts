/**
 * Values and gradients (w.r.t. the logits) of segloss's fused loss ops for given logits and int32
 * labels, on the current tfjs backend, as plain arrays. The demo page exposes it, and the browser
 * tests run it in Chromium and in Node and compare the two bit for bit.
 */
import * as tf from '@tensorflow/tfjs-core';
import { losses } from '../src/browser.js';

export type LossCheck = Record<string, { value: number[]; grad: number[] }>;

export async function lossCheck(shape: number[], logits: number[], labels: number[]): Promise<LossCheck> {
  const z = tf.tensor(logits, shape, 'float32');
  const y = tf.tensor(labels, shape.slice(0, 3), 'int32');
  const oneHot = tf.cast(tf.oneHot(y, shape[3]), 'float32');
  const ops: Record<string, (zz: tf.Tensor) => tf.Tensor> = {
    cce: (zz) => losses.categoricalCrossEntropy(y, zz),
    cce_clip: (zz) => losses.categoricalCrossEntropy(oneHot, zz, { clip: true }),
    dice: (zz) => losses.dice(oneHot, zz),
    dicefg_square: (zz) => losses.dice(oneHot, zz, { includeBackground: false, square: true }),
    five_losses_dicefg: (zz) => losses.segmentationLosses(oneHot, zz).dicefg,
  };
  const out: LossCheck = {};
  for (const [name, op] of Object.entries(ops)) {
    const { value, grad } = tf.tidy(() => tf.valueAndGrad((zz: tf.Tensor) => op(zz))(z));
    out[name] = { value: Array.from(await value.data()), grad: Array.from(await grad.data()) };
    tf.dispose([value, grad]);
  }
  tf.dispose([z, y, oneHot]);
  return out;
}
