/**
 * 3D convolutions on the wasm backend (src/kernels/Conv3DBackprop.ts, replacing tfjs-wasm 4.22's
 * Conv3DBackpropInputV2 and Conv3DBackpropFilterV2, which give wrong values, and its slow Conv3D
 * for stride-1 'same' odd kernels) against tfjs-cpu;
 * the gradient of conv3dTranspose that tfjs-core lacks (src/tfjs/core_gradients.ts) against tfjs-cpu
 * and against its definition; and a 3D U-Net's gradients on wasm equal to tfjs-cpu's.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, describe, expect, it } from 'vitest';
import { losses } from '../src/index.js';
import { unet3d } from '../src/models/index.js';
import { mulberry32 } from './helpers/random.js';
import { useWasm } from './helpers/wasm.js';

type Shape5 = [number, number, number, number, number];

async function on<T>(backend: 'cpu' | 'wasm', body: () => T): Promise<T> {
  if (backend === 'cpu') await tf.setBackend('cpu');
  else await useWasm('simd');
  let out: T | undefined;
  tf.tidy(() => { out = body(); });
  return out!;
}

function values(seed: number, n: number): Float32Array {
  const rng = mulberry32(seed);
  return Float32Array.from({ length: n }, () => 2 * rng() - 1);
}

function expectNear(actual: ArrayLike<number>, expected: ArrayLike<number>, label: string): void {
  expect(actual.length, label).toBe(expected.length);
  const scale = Math.max(1, ...Array.from(expected, Math.abs));
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  expect(worst, `${label}: max |Δ| ${worst} at scale ${scale}`).toBeLessThanOrEqual(1e-5 * scale);
}

afterAll(async () => { await useWasm('simd'); });

const CASES: [string, Shape5, Shape5, number | [number, number, number], 'same' | 'valid'][] = [
  ['3×3×3 same, stride 1', [1, 6, 5, 7, 3], [3, 3, 3, 3, 5], 1, 'same'],
  ['2×2×2 / stride 2 (a 3D U-Net\'s transposed conv)', [1, 8, 8, 8, 4], [2, 2, 2, 4, 8], 2, 'same'],
  ['3×2×3 / stride 2, valid, batch 2', [2, 7, 6, 5, 2], [3, 2, 3, 2, 4], 2, 'valid'],
  ['3×3×3 / stride (2, 1, 2), same, odd sizes, 5 channels', [1, 5, 6, 5, 5], [3, 3, 3, 5, 3], [2, 1, 2], 'same'],
  // Output channels past 16 (the filter gradient's four-vector blocks, then a vector, then lanes).
  ['3×3×3 same, 3 → 20 channels', [1, 4, 5, 4, 3], [3, 3, 3, 3, 20], 1, 'same'],
  ['2×2×2 / stride 2, 18 → 19 channels', [1, 4, 6, 4, 18], [2, 2, 2, 18, 19], 2, 'same'],
];

describe.each(CASES)('%s', (_, xShape, fShape, strides, pad) => {
  const info = tf.backend_util.computeConv3DInfo(xShape, fShape, strides, 1, pad);
  const dyShape: Shape5 = [info.batchSize, info.outDepth, info.outHeight, info.outWidth, info.outChannels];
  const x = values(1, tf.util.sizeFromShape(xShape));
  const w = values(2, tf.util.sizeFromShape(fShape));
  const dy = values(3, tf.util.sizeFromShape(dyShape));

  it('Conv3DBackpropInputV2 matches tfjs-cpu', async () => {
    const run = () => Array.from((tf.engine().runKernel('Conv3DBackpropInputV2', { dy: tf.tensor(dy, dyShape), filter: tf.tensor(w, fShape) },
      { strides, pad, inputShape: xShape } as never) as tf.Tensor).dataSync());
    expectNear(await on('wasm', run), await on('cpu', run), 'dx');
  });

  it('Conv3DBackpropFilterV2 matches tfjs-cpu', async () => {
    const run = () => Array.from((tf.engine().runKernel('Conv3DBackpropFilterV2', { x: tf.tensor(x, xShape), dy: tf.tensor(dy, dyShape) },
      { strides, pad, filterShape: fShape } as never) as tf.Tensor).dataSync());
    expectNear(await on('wasm', run), await on('cpu', run), 'dw');
  });
});

describe('Conv3D forward', () => {
  it.each([
    ['3×3×3 same (segloss\'s path)', [2, 5, 6, 4, 3], [3, 3, 3, 3, 5], 1, 'same'],
    ['1×1×1, 8 → 2 (a head)', [1, 4, 4, 4, 8], [1, 1, 1, 8, 2], 1, 'same'],
    ['3×3×3 same, 2 → 21 (sixteen-channel blocks, then four, then lanes)', [1, 4, 5, 4, 2], [3, 3, 3, 2, 21], 1, 'same'],
    ['5×3×1 same (segloss\'s path)', [1, 7, 5, 4, 2], [5, 3, 1, 2, 4], 1, 'same'],
    ['3×3×3 valid (tfjs\'s kernel)', [1, 6, 6, 6, 2], [3, 3, 3, 2, 3], 1, 'valid'],
    ['3×3×3 / stride 2, same (tfjs\'s kernel)', [1, 7, 6, 6, 2], [3, 3, 3, 2, 3], 2, 'same'],
    ['2×2×2 same, even (tfjs\'s kernel)', [1, 5, 5, 5, 2], [2, 2, 2, 2, 3], 1, 'same'],
  ] as [string, Shape5, Shape5, number, 'same' | 'valid'][])('%s matches tfjs-cpu', async (_, xShape, fShape, strides, pad) => {
    const x = values(7, tf.util.sizeFromShape(xShape));
    const w = values(8, tf.util.sizeFromShape(fShape));
    const run = () => Array.from(tf.conv3d(tf.tensor5d(x, xShape), tf.tensor5d(w, fShape), strides, pad).dataSync());
    expectNear(await on('wasm', run), await on('cpu', run), 'y');
  });
});

describe('conv3dTranspose\'s gradient (registered by segloss)', () => {
  it('equals tfjs-cpu\'s on wasm, and its definition: ⟨g, convT(a; w)⟩ is linear in a and in w', async () => {
    const a = values(4, 1 * 4 * 3 * 4 * 6);
    const w = values(5, 2 * 2 * 2 * 3 * 6);
    const g = values(6, 1 * 8 * 6 * 8 * 3);
    const grads = () => {
      const at = tf.tensor5d(a, [1, 4, 3, 4, 6]);
      const wt = tf.tensor5d(w, [2, 2, 2, 3, 6]);
      const f = (p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.mul(tf.conv3dTranspose(p as tf.Tensor5D, q as tf.Tensor5D, [1, 8, 6, 8, 3], 2, 'same'), tf.tensor5d(g, [1, 8, 6, 8, 3])));
      const [ga, gw] = tf.grads(f)([at, wt]);
      return { ga: Array.from(ga.dataSync()), gw: Array.from(gw.dataSync()), value: f(at, wt).dataSync()[0] };
    };
    const cpu = await on('cpu', grads);
    const wasm = await on('wasm', grads);
    expectNear(wasm.ga, cpu.ga, '∂/∂input');
    expectNear(wasm.gw, cpu.gw, '∂/∂filter');
    // Linearity: ⟨∂/∂a, a⟩ = f(a, w) = ⟨∂/∂w, w⟩.
    const dot = (p: number[], q: Float32Array) => p.reduce((s, v, i) => s + v * q[i], 0);
    expect(dot(cpu.ga, a)).toBeCloseTo(cpu.value, 3);
    expect(dot(cpu.gw, w)).toBeCloseTo(cpu.value, 3);
  });
});

describe('unet3d', () => {
  it('builds the issue\'s 3D U-Net and gives tfjs-cpu\'s gradients on wasm (BN at rank 5 through reshapes, conv3dTranspose)', async () => {
    const big = unet3d({ inputShape: [64, 64, 64, 1], classes: 2 });
    expect(big.outputs[0].shape).toEqual([null, 64, 64, 64, 2]);
    big.dispose();
    const rng = mulberry32(8);
    const xv = Array.from({ length: 8 * 8 * 8 }, () => rng());
    const grads = async (backend: 'cpu' | 'wasm') => {
      if (backend === 'cpu') await tf.setBackend('cpu');
      else await useWasm('simd');
      const model = unet3d({ inputShape: [8, 8, 8, 1], classes: 2, filters: [4, 8], seed: 1 });
      const x = tf.tensor5d(xv, [1, 8, 8, 8, 1]);
      const y = tf.tensor4d(xv.map((v) => (v > 0.6 ? 1 : 0)), [1, 8, 8, 8], 'int32');
      const { value, grads: g } = tf.variableGrads(() => losses.diceCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar);
      const out = { loss: value.dataSync()[0], grads: Object.values(g).map((t) => Array.from(t.dataSync())) };
      tf.dispose([x, y, value, ...Object.values(g)]);
      model.dispose();
      return out;
    };
    const cpu = await grads('cpu');
    const wasm = await grads('wasm');
    expect(Math.abs(wasm.loss - cpu.loss)).toBeLessThan(1e-5);
    expect(wasm.grads).toHaveLength(cpu.grads.length);
    cpu.grads.forEach((want, k) => {
      const scale = Math.max(...want.map(Math.abs));
      const worst = Math.max(...want.map((v, i) => Math.abs(wasm.grads[k][i] - v)));
      expect(worst, `variable ${k}`).toBeLessThanOrEqual(1e-4 * scale + 1e-8);
    });
  });

  it.each([
    [{ inputShape: [8, 8, 8], classes: 2 }, /inputShape must be \[depth, height, width, channels\]/],
    [{ inputShape: [12, 16, 16, 1], classes: 2 }, /depth, height and width \(12×16×16\) must be divisible by 2\^3 = 8/],
  ])('refuses %j with a clear error', (options, message) => {
    expect(() => unet3d(options as never)).toThrow(message);
  });
});
