/**
 * The seed's toy task: images uniform in [0, 1), a pixel is foreground where x > t with
 * t = 1 − foreground fraction (t = 0.05 / 0.5 / 0.95 gives 95% / 50% / 5% foreground).
 * Labels are int32 class indices (0 = background, 1 = foreground): the fused losses read them
 * directly, no one-hot tensor is built. `invertInput` (issue #15) then flips x to 1 − x.
 */
import { tensor3d, tensor4d, type Tensor3D, type Tensor4D } from '@tensorflow/tfjs-core';
import type { Random } from './random.js';

export interface Batch {
  x: Tensor4D;
  labels: Tensor3D;
}

/**
 * Raw values of a batch: images [n, size, size, 1] and labels [n, size, size]. With `invertInput`
 * each x becomes 1 − x after labelling (exact in float32: x is a multiple of 2^-24).
 */
export function makeBatchValues(random: Random, n: number, size: number, foreground: number, invertInput = false): { x: Float32Array; labels: Int32Array } {
  const x = random.fillUniform(new Float32Array(n * size * size));
  const threshold = 1 - foreground;
  const labels = new Int32Array(x.length);
  for (let i = 0; i < x.length; i++) labels[i] = x[i] > threshold ? 1 : 0;
  if (invertInput) for (let i = 0; i < x.length; i++) x[i] = 1 - x[i];
  return { x, labels };
}

export function makeBatch(random: Random, n: number, size: number, foreground: number, invertInput = false): Batch {
  const { x, labels } = makeBatchValues(random, n, size, foreground, invertInput);
  return { x: tensor4d(x, [n, size, size, 1]), labels: tensor3d(labels, [n, size, size], 'int32') };
}
