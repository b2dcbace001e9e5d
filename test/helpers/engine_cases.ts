/**
 * Inputs and runners shared by the tests of the engine's losses (region_losses.test.ts,
 * pixel_losses.test.ts): seeded cases of any rank, activation and label kind, run on the fused
 * builds or the tfjs-op composite, compared with the float64 references.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { expect } from 'vitest';
import type { Activation } from '../../src/losses/types.js';
import type { KernelVariant } from '../../src/wasm/module.js';
import { expectClose, type Tolerance } from './assert.js';
import type { Rng } from './random.js';
import { useWasm } from './wasm.js';
import type { RegionCase64, RegionOp, RegionResult64 } from '../reference/region64.js';
import type { PixelOp } from '../reference/pixel64.js';
import { losses } from '../../src/index.js';

// Float32 kernels and tfjs ops against float64: sums are blocked into f64, each term carries a few
// ulps, so values are good to ~1e-6 relative. Gradients are compared with an absolute part scaled
// by the largest reference element (a mean's gradient shrinks like 1/P): float32 rounding leaves
// ~1e-6 of that scale, the finite differences ~1e-9; 1e-4 of it is a 100× margin that still
// catches any wrong coefficient or Jacobian term.
export const VALUE_TOL: Tolerance = { abs: 1e-5, rel: 1e-4 };
export const GRAD_REL = 1e-3;
export const GRAD_ABS_OF_SCALE = 1e-4;

export type Paths = KernelVariant | 'composite';

/** The engine's losses by name, as the tests call them: (labels, input, options). */
export const LOSS_OPS: Record<RegionOp | PixelOp, (labels: tf.Tensor, input: tf.Tensor, o: object) => tf.Tensor> = {
  dice: (l, x, o) => losses.dice(l, x, o as never),
  generalizedDice: (l, x, o) => losses.generalizedDice(l, x, o as never),
  tversky: (l, x, o) => losses.tversky(l, x, o as never),
  binaryCrossEntropy: (l, x, o) => losses.binaryCrossEntropy(l, x, o as never),
  focal: (l, x, o) => losses.focal(l, x, o as never),
  categoricalCrossEntropy: (l, x, o) => losses.categoricalCrossEntropy(l, x, o as never),
  diceCrossEntropy: (l, x, o) => losses.diceCrossEntropy(l, x, o as never),
  diceFocal: (l, x, o) => losses.diceFocal(l, x, o as never),
};
export const PATHS: readonly Paths[] = ['simd', 'scalar', 'composite'];

export async function usePath(path: Paths): Promise<void> {
  if (path === 'composite') await tf.setBackend('cpu');
  else await useWasm(path);
}

export type LabelKind = 'index' | 'onehot' | 'soft' | 'multilabel';

export interface Scenario<O extends object = object> {
  op: string;
  activation: Activation;
  shape: number[];
  labelKind: LabelKind;
  options: O;
  /** Classes ≥ this never appear in the labels (absent classes). */
  presentClasses?: number;
  scale?: number;
}

export function makeCase(s: Scenario, rng: Rng): RegionCase64 {
  const C = s.shape[s.shape.length - 1];
  const P = s.shape.reduce((a, b) => a * b, 1) / C;
  const present = s.presentClasses ?? C;
  const scale = s.scale ?? 3;
  const input = new Float64Array(P * C);
  for (let i = 0; i < P; i++) {
    let total = 0;
    for (let c = 0; c < C; c++) {
      const z = Math.fround((2 * rng() - 1) * scale);
      input[i * C + c] = s.activation === 'none' ? Math.exp(z) : z;
      total += Math.exp(z);
    }
    if (s.activation === 'none') {
      // Probabilities: a softmax row for exclusive labels, independent values in (0.02, 0.98) for multi-label.
      for (let c = 0; c < C; c++) {
        input[i * C + c] = Math.fround(s.labelKind === 'multilabel' ? 0.02 + 0.96 * rng() : input[i * C + c] / total);
      }
    }
  }
  const ignore = (s.options as { ignoreIndex?: number }).ignoreIndex;
  if (s.labelKind === 'index') {
    const data = Int32Array.from({ length: P }, () => (ignore !== undefined && rng() < 0.25 ? ignore : Math.floor(rng() * (C === 1 ? 2 : present))));
    return { shape: s.shape, labels: { kind: 'index', data }, input };
  }
  const data = new Float32Array(P * C);
  for (let i = 0; i < P; i++) {
    if (s.labelKind === 'multilabel') {
      for (let c = 0; c < present; c++) data[i * C + c] = rng() < 0.4 ? 1 : 0;
    } else if (s.labelKind === 'soft') {
      let total = 0;
      for (let c = 0; c < present; c++) total += (data[i * C + c] = rng() + 0.05);
      for (let c = 0; c < present; c++) data[i * C + c] = Math.fround(data[i * C + c] / total);
    } else {
      data[i * C + Math.floor(rng() * present)] = 1;
    }
  }
  return { shape: s.shape, labels: { kind: 'dense', data }, input };
}

export function regionTensors(c: RegionCase64): { labels: tf.Tensor; input: tf.Tensor } {
  const input = tf.tensor(Float32Array.from(c.input), c.shape as number[], 'float32');
  const labels = c.labels.kind === 'index'
    ? tf.tensor(c.labels.data, c.shape.slice(0, -1) as number[], 'int32')
    : tf.tensor(Float32Array.from(c.labels.data), c.shape as number[], 'float32');
  return { labels, input };
}

/** Value and d(Σ value)/d(input) on the current backend; checks that nothing leaks. */
export function evaluate<O extends object>(fn: (labels: tf.Tensor, input: tf.Tensor, options: O) => tf.Tensor, s: Scenario<O>, c: RegionCase64):
  { value: Float32Array; grad: Float32Array; shape: number[] } {
  const { labels, input } = regionTensors(c);
  const before = tf.memory().numTensors;
  const out = fn(labels, input, s.options);
  const value = out.dataSync() as Float32Array;
  const shape = out.shape;
  out.dispose();
  const g = tf.grad((x: tf.Tensor) => tf.sum(fn(labels, x, s.options)))(input);
  const grad = g.dataSync() as Float32Array;
  g.dispose();
  expect(tf.memory().numTensors, 'tensors leaked').toBe(before);
  labels.dispose();
  input.dispose();
  return { value, grad, shape };
}

/** Checks `got` against the reference: values within VALUE_TOL, gradients within the scaled tolerance. */
export function expectMatches(got: { value: ArrayLike<number>; grad: ArrayLike<number> }, ref: RegionResult64): void {
  expectClose(got.value, typeof ref.loss === 'number' ? [ref.loss] : ref.loss, VALUE_TOL, 'value');
  const scale = ref.grad.reduce((m, g) => Math.max(m, Math.abs(g)), 0);
  expectClose(got.grad, ref.grad, { abs: GRAD_ABS_OF_SCALE * scale + 1e-9, rel: GRAD_REL }, 'grad');
}
