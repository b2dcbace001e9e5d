import * as tf from '@tensorflow/tfjs-core';
import type { Collective } from './collective.js';

/**
 * This thread's part of the batch (`local`, [count, …]) as the whole batch ([batch, …]), every
 * thread's part in image order; its gradient is the whole batch's gradient's part of this thread.
 * A trainer computes its loss on this (every thread the same loss on the same logits), so each
 * loss, over pixels or over the batch, is exactly the one-thread loss. One thread: `local` itself.
 */
export function gatherBatch(collective: Collective, local: tf.Tensor): tf.Tensor {
  if (collective.size === 1) return local;
  if (local.shape[0] !== collective.count || local.dtype !== 'float32') {
    throw new Error(`segloss threads: gatherBatch takes this thread's ${collective.count} images as float32, got ${local.dtype} [${local.shape.join(', ')}]`);
  }
  const { first, count, batch } = collective;
  const gather = tf.customGrad(((x: tf.Tensor) => {
    const data = x.dataSync() as Float32Array;
    const all = collective.gather(new Int32Array(data.buffer, data.byteOffset, data.length), data.length / count);
    const value = tf.tensor(new Float32Array(all.slice().buffer), [batch, ...x.shape.slice(1)]);
    return { value, gradFunc: (dy: tf.Tensor) => tf.slice(dy, first, count) };
  }) as never);
  return gather(local);
}
