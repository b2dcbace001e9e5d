/**
 * The fused batch-norm training op (src/ops/batch_norm_training.ts) on wasm against the same op's
 * composite path (tf.moments + tf.batchNorm, tfjs autodiff) on the cpu backend: y, the batch
 * statistics, and the gradients with respect to x, γ and β for a random upstream gradient.
 * Tolerance: float32 sums over ≤ 2·9·11 pixels, abs 1e-5 + rel 1e-4.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { batchNormTraining } from '../src/ops/batch_norm_training.js';
import { useWasm } from './helpers/wasm.js';
import { mulberry32 } from './helpers/random.js';
import { expectClose } from './helpers/assert.js';

const TOL = { abs: 1e-5, rel: 1e-4 };

beforeAll(async () => { await useWasm('simd'); });

function random(seed: number, n: number, scale = 1, offset = 0): Float32Array {
  const rng = mulberry32(seed);
  return Float32Array.from({ length: n }, () => offset + scale * (2 * rng() - 1));
}

async function evaluateOn(backend: string, shape: number[]) {
  await tf.setBackend(backend);
  const C = shape[shape.length - 1];
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tidy(() => {
    const x = tf.tensor(random(1, size, 3, 0.5), shape);
    const gamma = tf.tensor1d(random(2, C, 1, 1));
    const beta = tf.tensor1d(random(3, C));
    const dy = tf.tensor(random(4, size), shape);
    const forward = batchNormTraining(x, gamma, beta, 1e-3);
    const values = [forward.y, forward.mean, forward.variance].map((t) => t.dataSync().slice());
    tf.dispose([forward.mean, forward.variance]);
    const grads = tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
      const r = batchNormTraining(a, g, b, 1e-3);
      tf.dispose([r.mean, r.variance]);
      return tf.sum(tf.mul(r.y, dy));
    })([x, gamma, beta]).map((t) => t.dataSync().slice());
    return [...values, ...grads];
  });
}

describe('batch norm, training mode', () => {
  it.each([[[2, 9, 11, 4]], [[3, 5, 5, 3]], [[1, 7, 6, 1]], [[2, 8, 8, 16]], [[1, 3, 3, 64]]])('fused on wasm matches the composite on cpu: %j', async (shape) => {
    const cpu = await evaluateOn('cpu', shape);
    const before = (await tf.setBackend('wasm'), tf.memory().numTensors);
    const wasm = await evaluateOn('wasm', shape);
    expect(tf.memory().numTensors).toBe(before);
    ['y', 'mean', 'variance', 'dx', 'dgamma', 'dbeta'].forEach((name, i) => expectClose(wasm[i], cpu[i], TOL, name));
  });

  it.each([[[2, 9, 11, 4]], [[4, 16, 16, 16]], [[2, 6, 6, 128]], [[3, 5, 5, 12]]])('gives the same bits with SIMD (4 channels at a time) as the scalar build: %j', async (shape) => {
    await useWasm('scalar');
    const scalar = await evaluateOn('wasm', shape);
    await useWasm('simd');
    const simd = await evaluateOn('wasm', shape);
    ['y', 'mean', 'variance', 'dx', 'dgamma', 'dbeta'].forEach((name, i) => expect(Array.from(simd[i]), name).toEqual(Array.from(scalar[i])));
  });

  it('runs the fused kernels on wasm', async () => {
    await tf.setBackend('wasm');
    const x = tf.randomNormal([2, 4, 4, 4]);
    const gamma = tf.ones([4]);
    const beta = tf.zeros([4]);
    const profile = await tf.profile(() => {
      const r = batchNormTraining(x, gamma, beta, 1e-3);
      tf.dispose([r.y, r.mean, r.variance]);
    });
    expect(profile.kernelNames).toContain('SeglossBatchNormTraining');
    tf.dispose([x, gamma, beta]);
  });
});
