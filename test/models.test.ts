/**
 * segloss/models (src/models/unet.ts): unet2d's architecture and parameter count, seeded
 * initialisation, its gradients on wasm (segloss's kernels) against tfjs-cpu's, training on wasm
 * with flat tensor counts, probabilities with `activation`, and bad options.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { losses } from '../src/index.js';
import { unet2d } from '../src/models/index.js';
import { mulberry32 } from './helpers/random.js';
import { useWasm } from './helpers/wasm.js';

beforeAll(async () => { await useWasm('simd'); });
afterAll(async () => { await useWasm('simd'); });

/** Trainable parameters of the architecture, counted from its definition (3×3 convs, BN γ β, 2×2 up-convs with bias, 1×1 head). */
function expectedTrainable(cin: number, classes: number, filters: number[], batchNorm: boolean): number {
  const conv = (i: number, o: number) => 9 * i * o + (batchNorm ? 2 * o : o);
  const block = (i: number, o: number) => conv(i, o) + conv(o, o);
  let total = 0;
  let c = cin;
  for (const f of filters.slice(0, -1)) { total += block(c, f); c = f; }
  total += block(c, filters[filters.length - 1]);
  c = filters[filters.length - 1];
  for (const f of filters.slice(0, -1).reverse()) {
    total += 4 * c * f + f; // 2×2 transposed conv
    total += block(2 * f, f); // after the skip concatenation
    c = f;
  }
  return total + c * classes + classes;
}

const trainableCount = (model: tfl.LayersModel) => model.trainableWeights.reduce((n, w) => n + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0);

describe('unet2d', () => {
  it('builds the issue\'s U-Net: 4 levels, 128² → 128² × classes, its parameter count', () => {
    const model = unet2d({ inputShape: [128, 128, 1], classes: 2 });
    expect(model.outputs[0].shape).toEqual([null, 128, 128, 2]);
    expect(trainableCount(model)).toBe(expectedTrainable(1, 2, [16, 32, 64, 128], true));
    expect(model.countParams()).toBeGreaterThan(480_000);
    const plain = unet2d({ inputShape: [32, 48, 3], classes: 5, filters: [8, 16, 32], batchNorm: false });
    expect(plain.outputs[0].shape).toEqual([null, 32, 48, 5]);
    expect(trainableCount(plain)).toBe(expectedTrainable(3, 5, [8, 16, 32], false));
    expect(plain.layers.some((l) => l.getClassName() === 'BatchNormalization')).toBe(false);
    model.dispose();
    plain.dispose();
  });

  it('initialises from its seed: the same seed, the same weights', () => {
    const weights = (seed: number) => {
      const m = unet2d({ inputShape: [16, 16, 1], classes: 2, filters: [4, 8], seed });
      const w = m.getWeights().map((t) => Array.from(t.dataSync()));
      m.dispose();
      return w;
    };
    expect(weights(3)).toEqual(weights(3));
    expect(weights(3)).not.toEqual(weights(4));
  });

  it('gives tfjs-cpu\'s gradients on wasm with segloss\'s kernels (BN in training, Dice + CE)', async () => {
    const rng = mulberry32(5);
    const xv = Array.from({ length: 2 * 16 * 16 }, () => rng());
    const yv = xv.map((v) => (v > 0.6 ? 1 : 0));
    const grads = async (backend: 'cpu' | 'wasm') => {
      if (backend === 'cpu') await tf.setBackend('cpu');
      else await useWasm('simd');
      const model = unet2d({ inputShape: [16, 16, 1], classes: 2, filters: [8, 16], seed: 7 });
      const x = tf.tensor4d(xv, [2, 16, 16, 1]);
      const y = tf.tensor3d(yv, [2, 16, 16], 'int32');
      const { grads: g } = tf.variableGrads(() => losses.diceCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar);
      const out = Object.fromEntries(Object.entries(g).map(([k, t]) => [k.replace(/_\d+$/, ''), Array.from(t.dataSync())]));
      tf.dispose([x, y, ...Object.values(g)]);
      model.dispose();
      return out;
    };
    const cpu = await grads('cpu');
    const wasm = await grads('wasm');
    expect(Object.keys(wasm).length).toBe(Object.keys(cpu).length);
    for (const [name, want] of Object.entries(cpu)) {
      const got = Object.values(wasm)[Object.keys(cpu).indexOf(name)];
      const scale = Math.max(...want.map(Math.abs));
      const worst = Math.max(...want.map((v, i) => Math.abs(got[i] - v)));
      // float32, other summation orders (XNNPACK's convs, segloss's, tfjs-cpu's): 1e-3 of the largest entry.
      expect(worst, `${name}: max |Δ| ${worst} of ${scale}`).toBeLessThanOrEqual(1e-3 * scale + 1e-7);
    }
  });

  it('trains on wasm: the loss falls, tensor counts stay flat', async () => {
    await useWasm('simd');
    const model = unet2d({ inputShape: [32, 32, 1], classes: 2, filters: [8, 16], seed: 1 });
    const x = tf.randomUniform([4, 32, 32, 1], 0, 1, 'float32', 2);
    const y = tf.tidy(() => tf.cast(tf.greater(tf.squeeze(x, [3]), 0.7), 'int32'));
    const optimizer = tf.train.adam(1e-2);
    const values: number[] = [];
    const counts: number[] = [];
    for (let step = 0; step < 40; step++) {
      const loss = optimizer.minimize(() => losses.diceCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, true)!;
      values.push(loss.dataSync()[0]);
      loss.dispose();
      counts.push(tf.memory().numTensors);
    }
    expect(values.at(-1)!).toBeLessThan(0.5 * values[0]);
    expect(new Set(counts.slice(2)).size, `tensor counts ${Math.min(...counts)}–${Math.max(...counts)}`).toBe(1);
    optimizer.dispose();
    model.dispose();
    tf.dispose([x, y]);
  });

  it('ends in probabilities with activation softmax or sigmoid', () => {
    const x = tf.randomUniform([1, 8, 8, 1], 0, 1, 'float32', 3);
    const soft = unet2d({ inputShape: [8, 8, 1], classes: 3, filters: [4, 8], activation: 'softmax' });
    const sums = tf.tidy(() => Array.from(tf.sum(soft.predict(x) as tf.Tensor, -1).dataSync()));
    sums.forEach((s) => expect(s).toBeCloseTo(1, 5));
    const sig = unet2d({ inputShape: [8, 8, 1], classes: 2, filters: [4, 8], activation: 'sigmoid' });
    const p = tf.tidy(() => Array.from((sig.predict(x) as tf.Tensor).dataSync()));
    expect(p.every((v) => v > 0 && v < 1)).toBe(true);
    tf.dispose(x);
    soft.dispose();
    sig.dispose();
  });

  it.each([
    [{ inputShape: [100, 128, 1], classes: 2 }, /divisible by 2\^3 = 8 for 4 levels/],
    [{ inputShape: [64, 64], classes: 2 }, /inputShape must be \[height, width, channels\]/],
    [{ inputShape: [64, 64, 1], classes: 0 }, /classes must be a positive integer, got 0/],
    [{ inputShape: [64, 64, 1], classes: 2, filters: [] }, /filters must be a non-empty list/],
    [{ inputShape: [64, 64, 1], classes: 2, filters: [16, 0] }, /filters must be a non-empty list of positive integers, got \[16,0\]/],
    [{ inputShape: [64, 64, 1], classes: 2, activation: 'relu' }, /activation must be 'none', 'softmax' or 'sigmoid', got 'relu'/],
  ])('refuses %j with a clear error', (options, message) => {
    expect(() => unet2d(options as never)).toThrow(message);
  });
});
