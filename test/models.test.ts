/**
 * segloss/models (src/models/unet.ts, synthetic.ts): unet2d's architecture and parameter count, seeded
 * initialisation, its gradients on wasm (segloss's kernels) against tfjs-cpu's, training on wasm
 * with flat tensor counts, probabilities with `activation`, and bad options.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { losses } from '../src/index.js';
import { syntheticSegmentation, unet2d } from '../src/models/index.js';
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

describe('syntheticSegmentation', () => {
  it('is seeded: the same options, the same bits; another seed, other images', () => {
    const a = syntheticSegmentation({ shape: [24, 20], count: 3, seed: 5 });
    expect(syntheticSegmentation({ shape: [24, 20], count: 3, seed: 5 })).toEqual(a);
    expect(syntheticSegmentation({ shape: [24, 20], count: 3, seed: 6 }).images).not.toEqual(a.images);
    expect(a.imageShape).toEqual([24, 20, 1]);
    expect(a.images).toHaveLength(3 * 24 * 20);
    expect(new Set(a.labels)).toEqual(new Set([0, 1]));
  });

  it.each([
    [[128, 128], 0.01], [[128, 128], 0.3], [[64, 48], 0.05], [[16, 24, 20], 0.02], [[32, 32, 32], 0.5],
  ])('%j at %f foreground: every image within ±10% of the target, foreground brighter', (shape, foreground) => {
    const data = syntheticSegmentation({ shape, count: 6, foreground, seed: 2 });
    const pixels = shape.reduce((a, b) => a * b, 1);
    data.foreground.forEach((f, n) => {
      expect(Math.abs(f / foreground - 1), `image ${n}: ${f}`).toBeLessThanOrEqual(0.1);
      const labels = data.labels.subarray(n * pixels, (n + 1) * pixels);
      expect(labels.reduce((s, v) => s + v, 0) / pixels).toBe(f);
      let fg = 0, bg = 0;
      labels.forEach((y, i) => { if (y) fg += data.images[n * pixels + i]; else bg += data.images[n * pixels + i]; });
      const counted = labels.reduce((s, v) => s + v, 0);
      expect(fg / counted - bg / (pixels - counted)).toBeGreaterThan(0.1);
    });
  });

  it('without blur, noise and drift: the background is one value per image, each object another', () => {
    const data = syntheticSegmentation({ shape: [32, 32], count: 2, foreground: 0.2, blur: 0, noise: 0, drift: 0, seed: 3 });
    for (let n = 0; n < 2; n++) {
      const bg = new Set<number>();
      const fg = new Set<number>();
      for (let i = 0; i < 1024; i++) (data.labels[n * 1024 + i] ? fg : bg).add(data.images[n * 1024 + i]);
      expect(bg.size).toBe(1);
      expect(Math.min(...fg)).toBeGreaterThan([...bg][0]);
    }
  });

  // Without batch norm: at 150 steps BN's moving averages (momentum 0.99) have not settled, and
  // inference uses them (measured: Dice 0.31 at 150 steps with BN, 0.80 at 300; 0.92 without BN).
  it('trains a U-Net on wasm to a validation Dice of the foreground above 0.85 in 150 steps', async () => {
    await useWasm('simd');
    const train = syntheticSegmentation({ shape: [32, 32], count: 64, foreground: 0.15, seed: 1 });
    const val = syntheticSegmentation({ shape: [32, 32], count: 16, foreground: 0.15, seed: 2 });
    const model = unet2d({ inputShape: [32, 32, 1], classes: 2, filters: [8, 16], seed: 1, batchNorm: false });
    const optimizer = tf.train.adam(3e-3);
    for (let step = 0; step < 150; step++) {
      const first = (step * 8) % 64;
      const x = tf.tensor4d(train.images.subarray(first * 1024, (first + 8) * 1024), [8, 32, 32, 1]);
      const y = tf.tensor3d(train.labels.subarray(first * 1024, (first + 8) * 1024), [8, 32, 32], 'int32');
      optimizer.minimize(() => losses.diceCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar);
      tf.dispose([x, y]);
    }
    const predicted = tf.tidy(() => tf.argMax(model.predict(tf.tensor4d(val.images, [16, 32, 32, 1])) as tf.Tensor, -1).dataSync());
    let inter = 0, pred = 0, truth = 0;
    predicted.forEach((p, i) => { inter += p & val.labels[i]; pred += p; truth += val.labels[i]; });
    expect(2 * inter / (pred + truth)).toBeGreaterThan(0.85);
    optimizer.dispose();
    model.dispose();
  });

  it.each([
    [{ shape: [32], count: 1 }, /shape must be \[height, width\] or \[depth, height, width\]/],
    [{ shape: [32, 2], count: 1 }, /integers from 4 to 4096/],
    [{ shape: [32, 32], count: 0 }, /count must be a positive integer, got 0/],
    [{ shape: [32, 32], count: 1, foreground: 0.001 }, /foreground must be in \[0.005, 0.6\], got 0.001/],
    [{ shape: [32, 32], count: 1, blur: 1.5 }, /blur must be an integer from 0 to 8/],
    [{ shape: [32, 32], count: 1, noise: -1 }, /noise must be in \[0, 1\]/],
  ])('refuses %j with a clear error', (options, message) => {
    expect(() => syntheticSegmentation(options as never)).toThrow(message);
  });
});

describe('a U-Net of your own, as a user trains one', () => {
  it('ending in softmax: segloss\'s losses take its probabilities with activation \'none\', and it trains on wasm', async () => {
    await useWasm('simd');
    const model = unet2d({ inputShape: [16, 16, 1], classes: 2, filters: [4, 8], activation: 'softmax', batchNorm: false, seed: 2 });
    const data = syntheticSegmentation({ shape: [16, 16], count: 4, foreground: 0.2, seed: 4 });
    const x = tf.tensor4d(data.images, [4, 16, 16, 1]);
    const y = tf.tensor3d(data.labels, [4, 16, 16], 'int32');
    const optimizer = tf.train.adam(1e-2);
    const loss = () => {
      const p = model.apply(x, { training: true }) as tf.Tensor;
      return tf.add(losses.dice(y, p, { activation: 'none' }), losses.categoricalCrossEntropy(y, p, { activation: 'none' })) as tf.Scalar;
    };
    const values: number[] = [];
    for (let step = 0; step < 30; step++) {
      const l = optimizer.minimize(loss, true)!;
      values.push(l.dataSync()[0]);
      l.dispose();
    }
    expect(values.at(-1)!).toBeLessThan(0.7 * values[0]);
    optimizer.dispose();
    model.dispose();
    tf.dispose([x, y]);
  });

  it('names the problem when the input shape or the class count does not fit', async () => {
    await useWasm('simd');
    const model = unet2d({ inputShape: [16, 16, 1], classes: 3, filters: [4, 8] });
    expect(() => model.predict(tf.zeros([1, 16, 16, 2]))).toThrow(/expected .*shape \[null,16,16,1\].*\[1,16,16,2\]/);
    const logits = model.predict(tf.zeros([1, 16, 16, 1])) as tf.Tensor;
    // Labels of 2 classes as one-hot against 3-class logits: a clear error naming both shapes.
    expect(() => losses.diceCrossEntropy(tf.zeros([1, 16, 16, 2]), logits)).toThrow(/\[1,16,16,2\].*\[1,16,16,3\]|\[1,16,16,3\].*\[1,16,16,2\]/);
    // Class indices beyond the logits' classes.
    expect(() => losses.diceCrossEntropy(tf.fill([1, 16, 16], 5, 'int32'), logits)).toThrow(/5/);
    model.dispose();
  });
});
