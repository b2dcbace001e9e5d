/**
 * FusedAdam (src/ops/fused_adam.ts): every variable updated in one wasm kernel call, bit for bit
 * what tf.train.adam computes, on the wasm backend and (delegating) on cpu.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { FusedAdam } from '../src/ops/fused_adam.js';
import { useWasm } from './helpers/wasm.js';
import { mulberry32 } from './helpers/random.js';

beforeAll(async () => { await useWasm('simd'); });

/** Runs `steps` updates of three variables with deterministic pseudo-gradients; returns their values. */
function train(optimizer: { applyGradients(g: tf.NamedTensorMap): void; dispose(): void }, steps: number): Float32Array[] {
  const rng = mulberry32(3);
  // In tidy: the variables outlive it, their initial-value tensors do not.
  const vars = tf.tidy(() => [[3, 3, 1, 4], [4], [1, 1, 4, 2]].map((shape) =>
    tf.variable(tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng() - 0.5), shape))));
  for (let s = 0; s < steps; s++) {
    const grads = Object.fromEntries(vars.map((v) => [v.name, tf.tensor(Float32Array.from({ length: v.size }, () => 2 * rng() - 1), v.shape)]));
    optimizer.applyGradients(grads);
    tf.dispose(Object.values(grads));
  }
  const values = vars.map((v) => v.dataSync().slice() as Float32Array);
  optimizer.dispose();
  tf.dispose(vars);
  return values;
}

describe('FusedAdam', () => {
  it.each(['wasm', 'cpu'])('on %s matches tf.train.adam bit for bit over 25 steps, leaking nothing', async (backend) => {
    await tf.setBackend(backend);
    const before = tf.memory().numTensors;
    const expected = train(tf.train.adam(0.01, 0.9, 0.999, 1e-8) as never, 25);
    const actual = train(new FusedAdam(0.01, 0.9, 0.999, 1e-8), 25);
    expect(tf.memory().numTensors).toBe(before);
    actual.forEach((values, i) => expect(Array.from(values), `variable ${i}`).toEqual(Array.from(expected[i])));
  });

  it('runs one kernel per step on wasm', async () => {
    await tf.setBackend('wasm');
    const optimizer = new FusedAdam(0.01, 0.9, 0.999, 1e-8);
    const v = tf.variable(tf.ones([5]));
    const g = tf.fill([5], 0.5);
    optimizer.applyGradients({ [v.name]: g });
    const profile = await tf.profile(() => optimizer.applyGradients({ [v.name]: g }));
    expect(profile.kernelNames).toEqual(['SeglossAdamUpdate']);
    optimizer.dispose();
    tf.dispose([v, g]);
  });
});
