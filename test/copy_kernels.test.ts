/**
 * segloss's SplitV and MaxPoolGrad on the wasm backend (src/kernels/SplitV.ts, MaxPoolGrad.ts,
 * replacing tfjs-backend-wasm's) against tfjs-cpu: every axis and dtype for SplitV; pooling
 * windows that do not overlap (the fast path: ties, NaN, −∞, odd sizes, C not a multiple of 4)
 * and the cases handed back to tfjs (overlapping windows, padding); `replaceTfjsKernels: false`
 * puts tfjs's back.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, describe, expect, it } from 'vitest';
import { setupWasmKernels } from '../src/index.js';
import { splitVConfig } from '../src/kernels/SplitV.js';
import { maxPoolGradConfig } from '../src/kernels/MaxPoolGrad.js';
import { mulberry32 } from './helpers/random.js';
import { useWasm } from './helpers/wasm.js';

/** `body`'s result on tfjs-cpu, on wasm with segloss's kernels, or on wasm with tfjs's own ('wasm-tfjs'). */
async function on<T>(backend: 'cpu' | 'wasm' | 'wasm-tfjs', body: () => T): Promise<T> {
  if (backend === 'cpu') await tf.setBackend('cpu');
  else await useWasm('simd');
  if (backend === 'wasm-tfjs') await setupWasmKernels({ replaceTfjsKernels: false });
  try {
    let out: T | undefined;
    tf.tidy(() => { out = body(); });
    return out!;
  } finally {
    if (backend === 'wasm-tfjs') await setupWasmKernels({ replaceTfjsKernels: true });
  }
}

afterAll(async () => { await useWasm('simd'); });

describe('SplitV (segloss)', () => {
  const cases: [number[], number[] | number, number][] = [
    [[4, 8, 8, 6], [2, 4], 3], // a skip concatenation's gradient
    [[4, 8, 8, 6], [3, -1], -1],
    [[3, 5, 7], 7, 2],
    [[6, 4], [1, 2, 3], 0],
    [[2, 9, 3], [4, 0, 5], 1], // an empty piece
    [[2, 3, 4, 5, 6], [1, 1, 2], 2],
  ];
  for (const dtype of ['float32', 'int32', 'bool'] as const) {
    it.each(cases)(`${dtype} %j split %j along %i matches tfjs-cpu`, async (shape, sizes, axis) => {
      const rng = mulberry32(shape.length + axis * 7);
      const values = Array.from({ length: shape.reduce((a, b) => a * b, 1) },
        () => (dtype === 'float32' ? Math.fround(rng() * 10 - 5) : dtype === 'int32' ? Math.floor(rng() * 2000 - 1000) : rng() < 0.5 ? 1 : 0));
      const run = () => tf.split(tf.tensor(values, shape, dtype), sizes, axis).map((t) => ({ shape: t.shape, values: Array.from(t.dataSync()) }));
      expect(await on('wasm', run)).toEqual(await on('cpu', run));
    });
  }
});

describe('MaxPoolGrad (segloss)', () => {
  type Case = [string, number[], number | [number, number], number | [number, number], 'valid' | 'same'];
  const disjoint: Case[] = [
    ['2×2 / 2, a U-Net level', [2, 8, 8, 16], 2, 2, 'valid'],
    ['2×2 / 2, same on even sizes (no padding)', [1, 6, 4, 5], 2, 2, 'same'],
    ['2×2 / 2, odd sizes: the last row and column get nothing', [2, 7, 5, 3], 2, 2, 'valid'],
    ['3×2 / (3, 2), C = 6', [1, 9, 8, 6], [3, 2], [3, 2], 'valid'],
  ];
  const handedBack: Case[] = [
    ['overlapping 3×3 / 2', [1, 7, 7, 4], 3, 2, 'same'],
    ['2×2 / 2, same on odd sizes (padded)', [1, 5, 5, 4], 2, 2, 'same'],
  ];
  const gradient = (shape: number[], filter: Case[2], stride: Case[3], pad: Case[4]) => () => {
    const rng = mulberry32(shape.reduce((a, b) => a + b, 0));
    // Rounded to quarters, many zeros (a ReLU's output): ties decide which position gets the gradient.
    const values = Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => (rng() < 0.3 ? 0 : Math.round(rng() * 8) / 4));
    values[0] = NaN;
    values[1] = -Infinity;
    const x = tf.tensor4d(values, shape as [number, number, number, number]);
    const f = (t: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(t as tf.Tensor4D, filter, stride, pad), tf.randomUniform(tf.maxPool(x, filter, stride, pad).shape, -1, 1, 'float32', 3)));
    const g = tf.grad(f)(x);
    return { shape: g.shape, values: Array.from(g.dataSync()) };
  };
  it.each(disjoint)('%s: the gradient of tfjs-cpu (ties, NaN and −∞ included)', async (_, shape, filter, stride, pad) => {
    const run = gradient(shape, filter, stride, pad);
    expect(await on('wasm', run)).toEqual(await on('cpu', run));
  });
  it.each(handedBack)('%s: handed to tfjs-wasm\'s own kernel', async (_, shape, filter, stride, pad) => {
    const run = gradient(shape, filter, stride, pad);
    expect(await on('wasm', run)).toEqual(await on('wasm-tfjs', run));
  });
});

describe('installation', () => {
  it('puts tfjs\'s SplitV and MaxPoolGrad back with replaceTfjsKernels: false', async () => {
    await useWasm('simd');
    for (const config of [splitVConfig, maxPoolGradConfig]) expect(tf.getKernel(config.kernelName, 'wasm')?.kernelFunc).toBe(config.kernelFunc);
    await setupWasmKernels({ replaceTfjsKernels: false });
    for (const config of [splitVConfig, maxPoolGradConfig]) expect(tf.getKernel(config.kernelName, 'wasm')?.kernelFunc).not.toBe(config.kernelFunc);
    await setupWasmKernels({ replaceTfjsKernels: true });
  });
});
