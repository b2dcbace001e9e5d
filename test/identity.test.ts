/**
 * The zero-copy Identity that setupWasmKernels installs on 'wasm' (src/kernels/Identity.ts): a
 * clone shares its source's bytes, outlives it, and frees them with the last owner; the option
 * `zeroCopyClone: false` puts tfjs's copying kernel back.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupWasmKernels } from '../src/index.js';
import { useWasm, type BackendWasm } from './helpers/wasm.js';

let backend: BackendWasm;
beforeAll(async () => { backend = await useWasm('simd'); });
afterAll(async () => { await setupWasmKernels({ variant: 'simd' }); });

describe('zero-copy Identity on wasm', () => {
  it('a clone shares the bytes, survives its source and frees them with the last owner', () => {
    const buffersBefore = backend.numDataIds();
    const x = tf.tensor2d([[1, 2], [3, 4]]);
    const y = tf.clone(x);
    expect(backend.numDataIds()).toBe(buffersBefore + 1);
    expect(backend.getMemoryOffset(y.dataId)).toBe(backend.getMemoryOffset(x.dataId));
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3, 4]);
    y.dispose();
    expect(backend.numDataIds()).toBe(buffersBefore);
  });

  it('keeps gradients right where tfjs saves tensors for backprop', () => {
    const x = tf.tensor1d([0.5, -1, 2]);
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(v, v)))(x);
    expect(Array.from(g.dataSync())).toEqual([1, -2, 4]);
    tf.dispose([x, g]);
  });

  it('clones string tensors with tfjs\'s own kernel', () => {
    const s = tf.tensor1d(['a', 'bc'], 'string');
    const c = tf.clone(s);
    s.dispose();
    expect(c.dataSync()).toEqual(['a', 'bc']);
    c.dispose();
  });

  it('zeroCopyClone: false restores the copying kernel, and true installs the shared one again', async () => {
    await setupWasmKernels({ variant: 'simd', zeroCopyClone: false });
    const x = tf.tensor1d([7, 8]);
    const copy = tf.clone(x);
    expect(backend.getMemoryOffset(copy.dataId)).not.toBe(backend.getMemoryOffset(x.dataId));
    expect(Array.from(copy.dataSync())).toEqual([7, 8]);
    await setupWasmKernels({ variant: 'simd' });
    const shared = tf.clone(x);
    expect(backend.getMemoryOffset(shared.dataId)).toBe(backend.getMemoryOffset(x.dataId));
    tf.dispose([x, copy, shared]);
  });
});
