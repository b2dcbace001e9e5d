/**
 * Losses of probabilities (activation 'none', a model that ends in a softmax), issue #25 §4:
 * - `categoricalCrossEntropy(y, p, { activation: 'none', clip: true })` is tfjs-layers' own
 *   `categoricalCrossentropy` (Keras' from_logits=False): p over its sum, clipped to [ε, 1 − ε];
 *   checked against tfjs-layers' code and a float64 reference, its gradient by finite differences;
 *   a labelled class at probability exactly 0 costs −log ε and no gradient.
 * - Without clip, probabilities of exactly 0 and 1 give the fused kernels' numbers on the
 *   composite path too (log clamped at −100; ∂/∂p over max(p, 1e-30), BCE's over max(p(1 − p),
 *   1e-12)): finite, where the composite gave NaN before.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, describe, expect, it } from 'vitest';
import { binaryCrossEntropy, categoricalCrossEntropy, focal } from '../src/losses/index.js';
import { useWasm } from './helpers/wasm.js';

const BACKENDS = ['wasm (fused)', 'cpu (composite)'] as const;
async function use(backend: (typeof BACKENDS)[number]) {
  if (backend === 'cpu (composite)') await tf.setBackend('cpu');
  else await useWasm('simd');
}
afterAll(() => tf.setBackend('cpu'));

/** 2 × 3 × 2 pixels of 3 classes: softmax-like rows, rows with exact 0 and 1, and rows that do not sum to 1. */
const P = [
  0.7, 0.2, 0.1, 0, 1, 0, 0.5, 0.5, 0, 0.2, 0.2, 0.2, 1e-9, 0.3, 0.6999999, 0.9, 0.05, 0.05,
  0.1, 0.1, 0.8, 0, 0, 1, 0.33, 0.33, 0.34, 2, 1, 1, 0.25, 0.5, 0.25, 1, 0, 0,
];
const LABELS = [0, 0, 2, 1, 2, 0, 2, 1, 1, 0, 1, 1]; // class 0 at p = 0 (pixel 1), class 2 at p = 0 (pixel 2)
const SHAPE: [number, number, number, number] = [2, 3, 2, 3];

/** Keras' categorical_crossentropy(from_logits=False) in float64: per pixel. */
function kerasReference(p: number[], labels: number[], C: number, epsilon = 1e-7): number[] {
  return labels.map((label, i) => {
    const row = p.slice(i * C, (i + 1) * C);
    const sum = row.reduce((a, b) => a + b, 0);
    return -Math.log(Math.min(Math.max(row[label] / sum, epsilon), 1 - epsilon));
  });
}

describe("categorical cross-entropy of probabilities, Keras' and tfjs-layers' form (clip: true)", () => {
  for (const backend of BACKENDS) {
    it(`is tfjs-layers' categoricalCrossentropy and the float64 reference, per pixel and on average (${backend})`, async () => {
      await use(backend);
      const before = tf.memory().numTensors;
      const p = tf.tensor4d(P, SHAPE);
      const y = tf.tensor3d(LABELS, SHAPE.slice(0, 3) as [number, number, number], 'int32');
      const perPixel = categoricalCrossEntropy(y, p, { activation: 'none', clip: true, reduction: 'none' });
      const oneHot = tf.tidy(() => tf.cast(tf.oneHot(y, 3), 'float32'));
      const peer = tfl.metrics.categoricalCrossentropy(oneHot, p);
      const reference = kerasReference(P, LABELS, 3);
      const ours = Array.from(perPixel.dataSync());
      const theirs = Array.from(peer.dataSync());
      for (let i = 0; i < reference.length; i++) {
        expect(ours[i], `pixel ${i}`).toBeCloseTo(reference[i], 5);
        expect(ours[i], `pixel ${i} against tfjs-layers`).toBeCloseTo(theirs[i], 5);
      }
      expect(ours[1]).toBeCloseTo(-Math.log(1e-7), 5); // class 0 at probability 0: −log ε, not 100
      const meanT = categoricalCrossEntropy(y, p, { activation: 'none', clip: true });
      const mean = meanT.dataSync()[0];
      meanT.dispose();
      expect(mean).toBeCloseTo(reference.reduce((a, b) => a + b, 0) / reference.length, 5);
      tf.dispose([p, y, perPixel, oneHot, peer]);
      expect(tf.memory().numTensors).toBe(before);
    });

    it(`has the gradient finite differences give, and none where p was clipped (${backend})`, async () => {
      await use(backend);
      const y = tf.tensor3d(LABELS, SHAPE.slice(0, 3) as [number, number, number], 'int32');
      const loss = (q: tf.Tensor) => categoricalCrossEntropy(y, q, { activation: 'none', clip: true, reduction: 'sum' });
      const p = tf.tensor4d(P, SHAPE);
      const before = tf.memory().numTensors;
      const grad = tf.grad(loss)(p);
      const g = Array.from(grad.dataSync());
      grad.dispose();
      p.dispose();
      expect(tf.memory().numTensors).toBe(before - 1);
      expect(g.every(Number.isFinite)).toBe(true);
      // Pixel 1 (p = [0, 1, 0], label 0): both labelled entries clipped, no gradient at all.
      expect(g.slice(3, 6)).toEqual([0, 0, 0]);
      // Central differences in float64 on the reference, at entries no clip is near.
      const value = (p: number[]) => kerasReference(p, LABELS, 3).reduce((a, b) => a + b, 0);
      for (const k of [0, 1, 2, 6, 7, 16, 18, 20, 24, 26, 27, 28, 30, 31]) {
        const h = 1e-4;
        const up = [...P];
        const down = [...P];
        up[k] += h;
        down[k] -= h;
        const fd = (value(up) - value(down)) / (2 * h);
        expect(g[k], `∂/∂p[${k}]`).toBeCloseTo(fd, 2);
      }
      y.dispose();
    });
  }

  it('refuses clip with label smoothing, naming both', () => {
    const p = tf.tensor4d(P, SHAPE);
    const y = tf.tensor3d(LABELS, SHAPE.slice(0, 3) as [number, number, number], 'int32');
    expect(() => categoricalCrossEntropy(y, p, { activation: 'none', clip: true, labelSmoothing: 0.1 })).toThrow(/clip .* does not take labelSmoothing/);
    tf.dispose([p, y]);
  });
});

describe('probabilities of exactly 0 and 1 without clip: the fused and composite paths agree, finitely', () => {
  const cases = {
    cce: () => {
      const p = tf.tensor4d([1, 0, 0.3, 0.7], [1, 1, 2, 2]);
      const y = tf.tensor3d([[[1, 1]]], [1, 1, 2], 'int32');
      return { p, f: (q: tf.Tensor) => categoricalCrossEntropy(y, q, { activation: 'none' }), dispose: () => tf.dispose([p, y]) };
    },
    focal: () => {
      const p = tf.tensor4d([1, 0, 0.3, 0.7], [1, 1, 2, 2]);
      const y = tf.tensor3d([[[1, 1]]], [1, 1, 2], 'int32');
      return { p, f: (q: tf.Tensor) => focal(y, q, { activation: 'none' }), dispose: () => tf.dispose([p, y]) };
    },
    bce: () => {
      const p = tf.tensor4d([0, 1, 1, 0, 0.5, 1e-30], [1, 1, 3, 2]);
      const y = tf.tensor4d([1, 1, 0, 0, 1, 1], [1, 1, 3, 2]);
      return { p, f: (q: tf.Tensor) => binaryCrossEntropy(y, q, { activation: 'none' }), dispose: () => tf.dispose([p, y]) };
    },
  };
  for (const [name, make] of Object.entries(cases)) {
    it(`${name}: the same value and gradient on both paths, every number finite`, async () => {
      const results: { value: number; grad: number[] }[] = [];
      for (const backend of BACKENDS) {
        await use(backend);
        const { p, f, dispose } = make();
        const before = tf.memory().numTensors;
        const value = f(p);
        const grad = tf.grad(f)(p);
        results.push({ value: value.dataSync()[0], grad: Array.from(grad.dataSync()) });
        tf.dispose([value, grad]);
        expect(tf.memory().numTensors, `${backend}: no tensor left behind`).toBe(before);
        dispose();
      }
      const [fused, composite] = results;
      expect(fused.grad.every(Number.isFinite) && Number.isFinite(fused.value)).toBe(true);
      expect(composite.value).toBeCloseTo(fused.value, 4);
      composite.grad.forEach((g, k) => expect(Math.abs(g - fused.grad[k]), `∂/∂p[${k}]: ${g} vs ${fused.grad[k]}`).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(fused.grad[k]))));
    });
  }
});
