/**
 * Every loss's tfjs-op composite works on the wasm backend itself (what a user gets on 'wasm'
 * before setupWasmKernels(), or with the kernels hidden), with the fused kernels' values and
 * gradients. tfjs-backend-wasm 4.22 lacks some gradient kernels (UnsortedSegmentSum, so no gather
 * gradient) and its OneHot ignores a float32 dtype (int32 bits in a float32 tensor): the
 * composites must avoid both.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, it } from 'vitest';
import { losses } from '../src/index.js';
import { withCompositeLosses } from '../src/losses/fused.js';
import { expectClose } from './helpers/assert.js';
import { mulberry32 } from './helpers/random.js';
import { useWasm } from './helpers/wasm.js';

const OPS: [string, (y: tf.Tensor, m: tf.Tensor, z: tf.Tensor) => tf.Tensor][] = [
  ['dice (the seed\'s form)', (y, _m, z) => losses.dice(y, z)],
  ['categoricalCrossEntropy (the seed\'s kernel)', (y, _m, z) => losses.categoricalCrossEntropy(y, z, { classWeights: [1, 2, 0.5] })],
  ['segmentationLosses', (y, _m, z) => losses.segmentationLosses(y, z).dicefg],
  ['dice, jaccard, ignoreIndex', (y, _m, z) => losses.dice(y, z, { jaccard: true, ignoreIndex: 3 })],
  ['generalizedDice', (y, _m, z) => losses.generalizedDice(y, z)],
  ['tversky, focal', (y, _m, z) => losses.tversky(y, z, { alpha: 0.3, beta: 0.7, gamma: 0.75, perImage: true })],
  ['focal, softmax', (y, _m, z) => losses.focal(y, z, { ignoreIndex: 3 })],
  ['focal, sigmoid', (_y, m, z) => losses.focal(m, z, { activation: 'sigmoid', alpha: 0.25 })],
  ['binaryCrossEntropy', (_y, m, z) => losses.binaryCrossEntropy(m, z, { labelSmoothing: 0.1 })],
  ['categoricalCrossEntropy, label smoothing', (y, _m, z) => losses.categoricalCrossEntropy(y, z, { labelSmoothing: 0.1, ignoreIndex: 3 })],
  ['diceCrossEntropy', (y, _m, z) => losses.diceCrossEntropy(y, z)],
  ['diceFocal', (y, _m, z) => losses.diceFocal(y, z, { focal: { activation: 'sigmoid' } })],
  ['lovaszSoftmax', (y, _m, z) => losses.lovaszSoftmax(y, z, { perImage: true, ignoreIndex: 3 })],
];

describe('the composites on the wasm backend', () => {
  it.each(OPS)('%s: differentiable, with the fused gradient', async (_, loss) => {
    await useWasm('simd');
    const rng = mulberry32(4);
    const shape = [2, 5, 6, 3];
    const z = tf.tensor(Array.from({ length: 180 }, () => Math.fround(4 * rng() - 2)), shape);
    const y = tf.tensor(Array.from({ length: 60 }, () => Math.floor(rng() * 4)), [2, 5, 6], 'int32'); // 3 = ignored
    const m = tf.tensor(Array.from({ length: 180 }, () => (rng() < 0.3 ? 1 : 0)), shape);
    const yValid = tf.minimum(y, tf.scalar(2, 'int32'));
    const labelsFor = (name: string) => (/ignoreIndex|label smoothing|focal, softmax|lovasz/.test(name) || name.startsWith('dice, jaccard') ? y : yValid);
    const labels = labelsFor(_);
    const g = (fn: () => tf.Tensor) => tf.tidy(() => Array.from(fn().dataSync()));
    const composite = withCompositeLosses(() => g(() => tf.grad((x: tf.Tensor) => tf.sum(loss(labels, m, x)))(z)));
    const fused = g(() => tf.grad((x: tf.Tensor) => tf.sum(loss(labels, m, x)))(z));
    expectClose(withCompositeLosses(() => g(() => loss(labels, m, z))), g(() => loss(labels, m, z)), { abs: 1e-5, rel: 1e-4 }, 'value');
    const scale = fused.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
    expectClose(composite, fused, { abs: 1e-4 * scale + 1e-9, rel: 1e-3 }, 'grad');
    tf.dispose([z, y, m, yValid]);
  });
});
