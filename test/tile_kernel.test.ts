/**
 * segloss's Tile on the wasm backend (src/kernels/Tile.ts, replacing tfjs-backend-wasm's): memory
 * copies only, against tfjs-cpu for every fixed-width dtype, ranks 1–6, merged and unmerged axes,
 * empty outputs, and through batch norm's gradient; `replaceTfjsKernels: false` puts tfjs's back.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, describe, expect, it } from 'vitest';
import { setupWasmKernels } from '../src/index.js';
import { mergeTileAxes, tileConfig } from '../src/kernels/Tile.js';
import { mulberry32 } from './helpers/random.js';
import { useWasm } from './helpers/wasm.js';

async function tileOn(backend: 'cpu' | 'wasm', values: number[], shape: number[], dtype: 'float32' | 'int32' | 'bool', reps: number[]) {
  if (backend === 'cpu') await tf.setBackend('cpu');
  else await useWasm('simd');
  return tf.tidy(() => {
    const y = tf.tile(tf.tensor(values, shape, dtype), reps);
    return { shape: y.shape, dtype: y.dtype, values: Array.from(y.dataSync()) };
  });
}

afterAll(async () => { await useWasm('simd'); });

describe('Tile (segloss)', () => {
  const cases: [number[], number[]][] = [
    [[1, 1, 1, 16], [4, 128, 128, 1]], // batch norm's gradient in a U-Net
    [[5], [3]],
    [[2, 3], [1, 1]], // a copy
    [[2, 3], [3, 1]],
    [[2, 3], [1, 4]],
    [[3, 1, 2], [2, 5, 3]],
    [[1, 2, 1, 3], [2, 1, 3, 2]],
    [[2, 1, 3, 1, 2, 1], [1, 2, 1, 3, 2, 2]], // rank 6
    [[2, 3], [0, 2]], // empty output
  ];
  for (const dtype of ['float32', 'int32', 'bool'] as const) {
    it.each(cases)(`${dtype} %j by %j matches tfjs-cpu`, async (shape, reps) => {
      const rng = mulberry32(shape.length * 31 + reps.reduce((a, b) => a + b, 0));
      const size = shape.reduce((a, b) => a * b, 1);
      const values = Array.from({ length: size }, () => (dtype === 'float32' ? Math.fround(rng() * 10 - 5) : dtype === 'int32' ? Math.floor(rng() * 2000 - 1000) : rng() < 0.5 ? 1 : 0));
      const expected = await tileOn('cpu', values, shape, dtype, reps);
      const actual = await tileOn('wasm', values, shape, dtype, reps);
      expect(actual).toEqual(expected);
    });
  }

  it('merges axes so that the innermost copy is as long as it can be', () => {
    expect(mergeTileAxes([1, 1, 1, 16], [4, 128, 128, 1])).toEqual([[1, 4], [1, 128], [16, 128]]);
    expect(mergeTileAxes([2, 3, 4], [1, 1, 1])).toEqual([[24, 1]]);
    expect(mergeTileAxes([1, 1], [1, 1])).toEqual([[1, 1]]);
    expect(mergeTileAxes([2, 3, 4], [2, 1, 3])).toEqual([[6, 2], [4, 3]]);
  });

  it('gives tfjs-cpu\'s batch norm gradient (which tiles) on wasm', async () => {
    const grads = async (backend: 'cpu' | 'wasm') => {
      if (backend === 'cpu') await tf.setBackend('cpu');
      else await useWasm('simd');
      return tf.tidy(() => {
        const rng = mulberry32(9);
        const x = tf.tensor4d(Array.from({ length: 2 * 4 * 4 * 3 }, () => rng() * 4 - 2), [2, 4, 4, 3]);
        const f = (xx: tf.Tensor) => {
          const { mean, variance } = tf.moments(xx, [0, 1, 2]);
          return tf.sum(tf.mul(tf.batchNorm(xx, mean, variance, tf.tensor1d([0.1, 0.2, 0.3]), tf.tensor1d([1, 2, 3]), 1e-3), tf.reshape(tf.range(0, 96), [2, 4, 4, 3])));
        };
        return Array.from(tf.grad(f)(x).dataSync());
      });
    };
    const cpu = await grads('cpu');
    const wasm = await grads('wasm');
    wasm.forEach((v, i) => expect(Math.abs(v - cpu[i])).toBeLessThanOrEqual(1e-3 * Math.max(1, Math.abs(cpu[i]))));
  });

  it('is installed by setupWasmKernels and removed with replaceTfjsKernels: false', async () => {
    await useWasm('simd');
    expect(tf.getKernel('Tile', 'wasm')?.kernelFunc).toBe(tileConfig.kernelFunc);
    await setupWasmKernels({ replaceTfjsKernels: false });
    expect(tf.getKernel('Tile', 'wasm')?.kernelFunc).not.toBe(tileConfig.kernelFunc);
    await setupWasmKernels({ replaceTfjsKernels: true });
    expect(tf.getKernel('Tile', 'wasm')?.kernelFunc).toBe(tileConfig.kernelFunc);
  });
});
