/**
 * fusedValueAndGrad (src/losses/fused.ts): a fused kernel's value and gradient without a tape, as
 * the by-hand training step takes them: the same bits as tf.valueAndGrad, for the seed's CCE kernel
 * and for the loss engine (Dice, the zoo, the compounds), null (and nothing left behind) wherever
 * the op took no fused kernel of its own or its value is not a scalar.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, describe, expect, it } from 'vitest';
import { losses } from '../src/index.js';
import { fusedValueAndGrad } from '../src/losses/fused.js';
import { mulberry32 } from './helpers/random.js';
import { useWasm } from './helpers/wasm.js';

const bits = (t: tf.Tensor) => Array.from(new Uint32Array(Float32Array.from(t.dataSync()).buffer));

function data(shape: number[], seed: number) {
  const rng = mulberry32(seed);
  const C = shape[shape.length - 1];
  const size = shape.reduce((a, b) => a * b, 1);
  const logits = tf.tensor(Float32Array.from({ length: size }, () => 4 * rng() - 2), shape);
  const labels = tf.tensor(Int32Array.from({ length: size / C }, () => Math.floor(rng() * C)), shape.slice(0, -1), 'int32');
  return { logits, labels };
}

afterAll(async () => { await useWasm('simd'); });

describe('fusedValueAndGrad', () => {
  const seedLosses: [string, (y: tf.Tensor, z: tf.Tensor) => tf.Tensor][] = [
    ['cce, clip', (y, z) => losses.categoricalCrossEntropy(y, z, { clip: true })],
    ['cce, exact, class weights', (y, z) => losses.categoricalCrossEntropy(y, z, { classWeights: [0.3, 2] })],
    ['dice', (y, z) => losses.dice(y, z)],
    ['dicefg, square', (y, z) => losses.dice(y, z, { includeBackground: false, square: true })],
  ];
  const engineLosses: [string, (y: tf.Tensor, z: tf.Tensor) => tf.Tensor][] = [
    ['dice, per image, ignoreIndex', (y, z) => losses.dice(y, z, { perImage: true, ignoreIndex: 1 })],
    ['Tversky, sum', (y, z) => losses.tversky(y, z, { alpha: 0.3, beta: 0.7, reduction: 'sum' })],
    ['cce, label smoothing (one pass)', (y, z) => losses.categoricalCrossEntropy(y, z, { labelSmoothing: 0.1 })],
    ['Dice + focal', (y, z) => losses.diceFocal(y, z)],
  ];
  const cases = [
    ...seedLosses.map(([name, loss]) => [name, [2, 9, 7, 2], loss] as const),
    ...engineLosses.flatMap(([name, loss]) => [[`${name}, C = 2`, [2, 9, 7, 2], loss], [`${name}, C = 3, 3D`, [2, 3, 5, 4, 3], loss]] as const),
  ];
  it.each(cases)('%s: the bits of tf.valueAndGrad, no tensor left', async (_, shape, loss) => {
    await useWasm('simd');
    const { logits, labels } = data([...shape], 11);
    const before = tf.memory().numTensors;
    const direct = fusedValueAndGrad(logits, (z) => loss(labels, z))!;
    expect(direct).not.toBeNull();
    const tape = tf.valueAndGrad((z: tf.Tensor) => loss(labels, z))(logits);
    expect(bits(direct.value)).toEqual(bits(tape.value));
    expect(bits(direct.grad)).toEqual(bits(tape.grad));
    tf.dispose([direct.value, direct.grad, tape.value, tape.grad]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([logits, labels]);
  });

  it('passes on an error thrown after the kernel ran, leaving its gradient behind neither', async () => {
    await useWasm('simd');
    const { logits, labels } = data([2, 9, 7, 2], 6);
    const before = tf.memory().numTensors;
    expect(() => fusedValueAndGrad(logits, (z) => {
      losses.dice(labels, z).dispose();
      throw new Error('boom');
    })).toThrow('boom');
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([logits, labels]);
  });

  it('is null, leaving nothing behind, where the op takes no fused kernel of its own or is not a scalar', async () => {
    await useWasm('simd');
    const cases: [number[], (y: tf.Tensor, z: tf.Tensor) => tf.Tensor][] = [
      [[2, 9, 7, 3], (y, z) => losses.dice(y, z, { reduction: 'none' })], // the engine, not a scalar
      [[2, 9, 7, 2], (y, z) => losses.categoricalCrossEntropy(y, z, { reduction: 'none' })], // not a scalar
      [[2, 63, 2], (y, z) => losses.categoricalCrossEntropy(y, z)], // rank 3: the kernel sees [N, P, 1, C]
      [[2, 9, 7, 2], (y, z) => tf.tidy(() => tf.mul(losses.dice(y, z), 2))], // the value changed after the op
      [[2, 9, 7, 2], (y, z) => tf.tidy(() => losses.dice(y, tf.mul(z, 2)))], // the op's input is not the logits
      [[2, 9, 7, 2], (y, z) => tf.tidy(() => tf.add(losses.dice(y, z), losses.tversky(y, z)))], // two fused ops
    ];
    for (const [shape, loss] of cases) {
      const { logits, labels } = data(shape, 5);
      const before = tf.memory().numTensors;
      expect(fusedValueAndGrad(logits, (z) => loss(labels, z))).toBeNull();
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([logits, labels]);
    }
    await tf.setBackend('cpu');
    const { logits, labels } = data([2, 9, 7, 2], 5);
    const before = tf.memory().numTensors;
    expect(fusedValueAndGrad(logits, (z) => losses.dice(labels, z))).toBeNull();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([logits, labels]);
  });
});
