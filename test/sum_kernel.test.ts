/**
 * segloss's Sum on the wasm backend (src/kernels/Sum.ts, replacing tfjs-backend-wasm's): float32
 * sums over every axis but the last, against tfjs-cpu and a float64 sum; every other reduction
 * handed to tfjs's own kernel; `replaceTfjsKernels: false` puts tfjs's back.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, describe, expect, it } from 'vitest';
import { setupWasmKernels } from '../src/index.js';
import { sumConfig } from '../src/kernels/Sum.js';
import { expectClose } from './helpers/assert.js';
import { mulberry32 } from './helpers/random.js';
import { useWasm } from './helpers/wasm.js';

function values(seed: number, n: number): Float32Array {
  const rng = mulberry32(seed);
  return Float32Array.from({ length: n }, () => Math.fround((2 * rng() - 1) * 3));
}

async function sumOn(backend: 'cpu' | 'wasm', data: Float32Array | Int32Array, shape: number[], axis: number | number[] | null, keepDims: boolean) {
  if (backend === 'cpu') await tf.setBackend('cpu');
  else await useWasm('simd');
  return tf.tidy(() => {
    const x = tf.tensor(data, shape);
    const y = axis == null ? tf.sum(x, undefined, keepDims) : tf.sum(x, axis, keepDims);
    return { shape: y.shape, values: Array.from(y.dataSync()) };
  });
}

afterAll(async () => { await useWasm('simd'); });

describe('Sum over every axis but the last (segloss)', () => {
  const cases: [number[], number[], boolean][] = [
    [[2, 32, 32, 4], [0, 1, 2], false], // a bias gradient of the seed's net
    [[2, 32, 32, 2], [2, 1, 0], true], // axes in any order, keepDims
    [[3, 5, 7], [0, 1], false], // 3 columns: the scalar loop
    [[257, 9], [0], false], // a flush block and a tail; 8 + 1 columns
    [[4, 6, 6, 6, 17], [0, 1, 2, 3], false], // rank 5
    [[1, 1, 1, 5], [-4, -3, -2], true],
    [[1, 6, 5, 4], [1, 2], false], // a [1, 1, 1, C] bias's gradient for one image: axis 0 (size 1) left out
    [[1, 6, 5, 4], [1, 2], true],
    [[3, 1, 5, 4], [0, 2], false], // a size-1 axis between
  ];
  it.each(cases)('%j over %j (keepDims %s) matches tfjs-cpu', async (shape, axes, keepDims) => {
    const data = values(shape.reduce((a, b) => a * b, 1), shape.reduce((a, b) => a * b, 1));
    const expected = await sumOn('cpu', data, shape, axes, keepDims);
    const actual = await sumOn('wasm', data, shape, axes, keepDims);
    expect(actual.shape).toEqual(expected.shape);
    expectClose(actual.values, expected.values, { abs: 1e-4, rel: 1e-5 }, 'sum');
  });

  it('stays accurate over 2^20 rows (f32 blocks, f64 totals)', async () => {
    const rows = 1 << 20;
    const data = new Float32Array(rows * 4);
    for (let i = 0; i < data.length; i++) data[i] = Math.fround(0.1 + (i % 7) * 1e-3);
    const exact = [0, 1, 2, 3].map((c) => { let s = 0; for (let r = 0; r < rows; r++) s += data[r * 4 + c]; return s; });
    const actual = await sumOn('wasm', data, [rows, 4], [0], false);
    expectClose(actual.values, exact, { abs: 0, rel: 2e-7 }, 'sum of 2^20 rows');
  });

  it('leaves other reductions to tfjs: the same numbers as tfjs-cpu', async () => {
    const data = values(3, 2 * 3 * 4 * 5);
    for (const [axis, keepDims] of [[[1, 2], false], [[3], true], [null, false], [[0, 1, 2, 3], false], [[1, 2, 3], true]] as const) {
      const expected = await sumOn('cpu', data, [2, 3, 4, 5], axis as number[] | null, keepDims);
      const actual = await sumOn('wasm', data, [2, 3, 4, 5], axis as number[] | null, keepDims);
      expect(actual.shape).toEqual(expected.shape);
      expectClose(actual.values, expected.values, { abs: 1e-4, rel: 1e-5 }, `axis ${JSON.stringify(axis)}`);
    }
    const ints = Int32Array.from({ length: 24 }, (_, i) => i - 7);
    expect(await sumOn('wasm', ints, [2, 3, 4], [0, 1], false)).toEqual(await sumOn('cpu', ints, [2, 3, 4], [0, 1], false));
  });

  it('is installed by setupWasmKernels and removed with replaceTfjsKernels: false', async () => {
    await useWasm('simd');
    expect(tf.getKernel('Sum', 'wasm')?.kernelFunc).toBe(sumConfig.kernelFunc);
    await setupWasmKernels({ replaceTfjsKernels: false });
    expect(tf.getKernel('Sum', 'wasm')?.kernelFunc).not.toBe(sumConfig.kernelFunc);
    await setupWasmKernels({ replaceTfjsKernels: true });
    expect(tf.getKernel('Sum', 'wasm')?.kernelFunc).toBe(sumConfig.kernelFunc);
  });
});
