/**
 * Lovász-softmax (losses.lovaszSoftmax) on every path — fused SIMD and scalar builds, tfjs-op
 * composite on 'cpu' — against the float64 reference (test/reference/lovasz64.ts), whose analytic
 * gradient is itself checked by central differences; ranks 3 to 5, C = 2 to 8, class indices,
 * one-hot and soft labels, ignored pixels, classes 'present' and 'all', per image; ties; errors.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { describe, expect, it } from 'vitest';
import { losses } from '../src/index.js';
import type { LovaszSoftmaxOptions } from '../src/losses/types.js';
import { expectClose } from './helpers/assert.js';
import { evaluate, expectMatches, makeCase, PATHS, regionTensors, usePath, type Scenario } from './helpers/engine_cases.js';
import { mulberry32 } from './helpers/random.js';
import { useWasm } from './helpers/wasm.js';
import { lovasz64 } from './reference/lovasz64.js';

type Case = Scenario<LovaszSoftmaxOptions>;
const op = (labels: tf.Tensor, input: tf.Tensor, o: LovaszSoftmaxOptions) => losses.lovaszSoftmax(labels, input, o);

const CASES: Case[] = [];
for (const [k, C] of [2, 3, 4, 5, 8].entries()) {
  const shape = [[2, 9, C], [2, 3, 5, C], [2, 2, 3, 3, C]][k % 3];
  CASES.push({ op: 'lovasz', activation: 'softmax', shape, labelKind: 'index', options: {} });
  CASES.push({ op: 'lovasz', activation: 'softmax', shape, labelKind: 'index', options: { perImage: true, ignoreIndex: 255 } });
  CASES.push({ op: 'lovasz', activation: 'softmax', shape, labelKind: (['onehot', 'soft'] as const)[k % 2], options: { classes: 'all', perImage: k % 2 === 0 } });
  CASES.push({ op: 'lovasz', activation: 'none', shape, labelKind: 'index', options: { activation: 'none', classes: 'all' } });
  CASES.push({ op: 'lovasz', activation: 'softmax', shape, labelKind: 'index', options: { classes: 'present' }, presentClasses: 2 });
}
const name = (c: Case) => `${JSON.stringify(c.options)} [${c.shape.join(',')}] ${c.labelKind}${c.presentClasses ? ' (classes ≥ 2 absent)' : ''}`;

describe('lovaszSoftmax against its float64 reference', () => {
  it('the reference\'s gradient is the central difference of its loss', () => {
    const c = makeCase(CASES[7], mulberry32(3));
    const ref = lovasz64(c, CASES[7].options);
    const x = Float64Array.from(c.input);
    for (const k of [0, 5, 11, 17]) {
      const h = 1e-7;
      const keep = x[k];
      x[k] = keep + h;
      const up = lovasz64({ ...c, input: x }, CASES[7].options).loss as number;
      x[k] = keep - h;
      const down = lovasz64({ ...c, input: x }, CASES[7].options).loss as number;
      x[k] = keep;
      expect(Math.abs((up - down) / (2 * h) - ref.grad[k])).toBeLessThan(1e-6);
    }
  });

  for (const path of PATHS) {
    it.each(CASES.map((c, k) => [name(c), c, k] as const))(`${path}: %s`, async (_, c, k) => {
      await usePath(path);
      const data = makeCase(c, mulberry32(300 + k));
      expectMatches(evaluate(op, c, data), lovasz64(data, c.options));
    });
  }

  // Groups past the kernel's four-pixel steps (probabilities, sort items, gradient by tiles), with
  // tails of 1–3 pixels: every label kind, ignored pixels (the scalar item path), C = 3 and 5
  // (tiles built lane by lane), probabilities given.
  const BIG: Case[] = [
    { op: 'lovasz', activation: 'softmax', shape: [2, 41, 23, 4], labelKind: 'index', options: {} },
    { op: 'lovasz', activation: 'softmax', shape: [2, 41, 23, 4], labelKind: 'index', options: { ignoreIndex: 7, perImage: true } },
    { op: 'lovasz', activation: 'softmax', shape: [2, 41, 23, 2], labelKind: 'index', options: { classes: 'all' } },
    { op: 'lovasz', activation: 'softmax', shape: [2, 9, 9, 9, 3], labelKind: 'soft', options: { perImage: true } },
    { op: 'lovasz', activation: 'softmax', shape: [3, 17, 5], labelKind: 'onehot', options: { classes: 'all' } },
    { op: 'lovasz', activation: 'none', shape: [2, 41, 23, 8], labelKind: 'index', options: { activation: 'none', ignoreIndex: 255 } },
  ];
  for (const path of ['simd', 'scalar'] as const) {
    it.each(BIG.map((c, k) => [name(c), c, k] as const))(`${path}, past the four-pixel steps: %s`, async (_, c, k) => {
      await usePath(path);
      const data = makeCase(c, mulberry32(700 + k));
      expectMatches(evaluate(op, c, data), lovasz64(data, c.options));
    });

    it(`${path}: probabilities given as input outside [0, 1] (errors ≥ 2 take the sort's fourth digit)`, async () => {
      await usePath(path);
      const c: Case = { op: 'lovasz', activation: 'none', shape: [2, 13, 11, 3], labelKind: 'index', options: { activation: 'none', classes: 'all' } };
      const data = makeCase(c, mulberry32(77));
      const input = Float64Array.from(data.input, (v, i) => Math.fround(i % 5 === 0 ? v * 8 - 1 : i % 7 === 0 ? -2 * v - 1 : v));
      expect(input.some((v) => v > 2) && input.some((v) => v < -1)).toBe(true);
      const stretched = { ...data, input };
      expectMatches(evaluate(op, c, stretched), lovasz64(stretched, c.options));
    });
  }

  it('breaks ties by pixel order on the fused path, and its loss does not depend on the order', async () => {
    await useWasm('simd');
    // Equal logits everywhere: every error of a class ties.
    const c: Case = { op: 'lovasz', activation: 'softmax', shape: [1, 6, 3], labelKind: 'index', options: {} };
    const data = { ...makeCase(c, mulberry32(1)), input: new Float64Array(18) };
    const got = evaluate(op, c, data);
    const ref = lovasz64(data, c.options);
    expectClose(got.value, [ref.loss as number], { abs: 1e-6, rel: 1e-5 }, 'value');
    expectClose(got.grad, ref.grad, { abs: 1e-6, rel: 1e-4 }, 'grad');
  });

  it('takes a batch of [8,64,64,4] in one call (radix sort over 32,768 errors per class)', async () => {
    await useWasm('simd');
    const c: Case = { op: 'lovasz', activation: 'softmax', shape: [8, 64, 64, 4], labelKind: 'index', options: {} };
    const data = makeCase(c, mulberry32(9));
    const { labels, input } = regionTensors(data);
    const value = losses.lovaszSoftmax(labels, input).dataSync()[0];
    expect(value).toBeCloseTo(lovasz64(data, c.options).loss as number, 5);
    tf.dispose([labels, input]);
  });

  it('names bad options', async () => {
    await tf.setBackend('cpu');
    const labels = tf.zeros([2, 3], 'int32');
    const x = tf.zeros([2, 3, 3]);
    expect(() => losses.lovaszSoftmax(labels, x, { classes: 'some' as never })).toThrow(/classes must be 'present' or 'all', got some/);
    expect(() => losses.lovaszSoftmax(labels, x, { activation: 'sigmoid' as never })).toThrow(/activation must be 'softmax' or 'none'/);
    expect(() => losses.lovaszSoftmax(labels, x, { reduction: 'sum' } as never)).toThrow(/unknown option 'reduction'/);
    expect(() => losses.lovaszSoftmax(labels, tf.zeros([2, 3, 1]))).toThrow(/needs at least 2 classes/);
  });
});
