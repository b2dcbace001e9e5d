/**
 * A loss test's input: logits and labels of an [N,H,W,C] batch, exactly representable in float32,
 * so that the float64 references and the float32 tensors see the very same numbers.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Labels64, Shape4 } from '../reference/losses64.js';
import type { Rng } from './random.js';

export interface LossCase {
  shape: Shape4;
  logits: Float64Array;
  labels: Labels64;
}

/**
 * The same logits with index labels where about a quarter of the pixels (the first among them)
 * are `ignoreIndex`. The last pixel stays counted, so a mean never divides by zero.
 */
export function withIgnored(rng: Rng, c: LossCase, ignoreIndex: number): LossCase {
  if (c.labels.kind !== 'index') throw new Error('ignoreIndex needs index labels');
  const data = c.labels.data.map((v) => (rng() < 0.25 ? ignoreIndex : v));
  data[0] = ignoreIndex;
  if (data[data.length - 1] === ignoreIndex) data[data.length - 1] = ignoreIndex === 0 ? 1 : 0;
  return { ...c, labels: { kind: 'index', data } };
}

/** The case as tensors: labels float32 [N,H,W,C] or int32 [N,H,W], logits float32 [N,H,W,C]. */
export function tensorsOf(c: LossCase): { labels: tf.Tensor; logits: tf.Tensor } {
  const [N, H, W, C] = c.shape;
  const labels = c.labels.kind === 'index'
    ? tf.tensor3d(c.labels.data, [N, H, W], 'int32')
    : tf.tensor4d(Float32Array.from(c.labels.data), [N, H, W, C], 'float32');
  return { labels, logits: tf.tensor4d(Float32Array.from(c.logits), [N, H, W, C], 'float32') };
}
