/**
 * The seed's toy task: images uniform in [0, 1), a pixel is foreground where x > t with
 * t = 1 − foreground fraction (t = 0.05 / 0.5 / 0.95 gives 95% / 50% / 5% foreground).
 * Labels are int32 class indices (0 = background, 1 = foreground): the fused losses read them
 * directly, no one-hot tensor is built.
 */
import { tensor3d, tensor4d, type Tensor3D, type Tensor4D } from '@tensorflow/tfjs-core';
import type { Random } from './random.js';

export interface Batch {
  x: Tensor4D;
  labels: Tensor3D;
}

/** Raw values of a batch: images [n, size, size, 1] and labels [n, size, size]. */
export function makeBatchValues(random: Random, n: number, size: number, foreground: number): { x: Float32Array; labels: Int32Array } {
  const x = random.fillUniform(new Float32Array(n * size * size));
  const threshold = 1 - foreground;
  const labels = new Int32Array(x.length);
  for (let i = 0; i < x.length; i++) labels[i] = x[i] > threshold ? 1 : 0;
  return { x, labels };
}

export function makeBatch(random: Random, n: number, size: number, foreground: number): Batch {
  const { x, labels } = makeBatchValues(random, n, size, foreground);
  return { x: tensor4d(x, [n, size, size, 1]), labels: tensor3d(labels, [n, size, size], 'int32') };
}
