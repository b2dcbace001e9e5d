/**
 * The region losses (losses.dice beyond the seed's forms, losses.generalizedDice, losses.tversky) on
 * every path — fused SIMD build, fused scalar build, tfjs-op composite on 'cpu' — against the
 * float64 references of test/reference/region64.ts (values, and gradients by central differences),
 * over activations (softmax, sigmoid, none), C = 1 to 8, rank 3 to 5, index / one-hot / soft /
 * multi-label labels, ignored pixels, absent classes and every option. Plus the shape of
 * reduction 'none', tensor leaks, the seed's Dice forms' mean and sum, and clear errors for bad options.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { describe, expect, it } from 'vitest';
import { losses } from '../src/index.js';
import type { Activation, DiceOptions, GeneralizedDiceOptions, TverskyOptions } from '../src/losses/types.js';
import {
  evaluate, expectMatches, makeCase, PATHS, regionTensors, usePath, type LabelKind, type Scenario as EngineScenario,
} from './helpers/engine_cases.js';
import { expectClose } from './helpers/assert.js';
import { mulberry32 } from './helpers/random.js';
import { useWasm } from './helpers/wasm.js';
import { region64, type RegionOp, type RegionOptions64 } from './reference/region64.js';

function lossFn(op: RegionOp): (labels: tf.Tensor, input: tf.Tensor, o: RegionOptions64) => tf.Tensor {
  if (op === 'dice') return (l, x, o) => losses.dice(l, x, o as DiceOptions);
  if (op === 'tversky') return (l, x, o) => losses.tversky(l, x, o as TverskyOptions);
  return (l, x, o) => losses.generalizedDice(l, x, o as GeneralizedDiceOptions);
}

type Scenario = EngineScenario<RegionOptions64>;

// --- the scenarios -----------------------------------------------------------------------------

const SHAPES = (C: number) => [[2, 7, C], [2, 3, 4, C], [2, 2, 3, 2, C]];

function scenarios(): Scenario[] {
  const out: Scenario[] = [];
  const add = (op: RegionOp, options: RegionOptions64, extra: Partial<Scenario> = {}) => {
    const activation = (options.activation ?? 'softmax') as Activation;
    const Cs = activation === 'softmax' ? [2, 3, 4, 5, 8] : activation === 'sigmoid' ? [1, 2, 3, 4, 5, 8] : [2, 3, 4];
    // One rank per class count, cycling, so every rank meets several C and options.
    Cs.forEach((C, k) => {
      const shape = SHAPES(C)[(k + out.length) % 3];
      const labelKind: LabelKind = extra.labelKind
        ?? (options.ignoreIndex !== undefined ? 'index'
          : activation === 'sigmoid' ? (['multilabel', 'onehot', 'soft'] as const)[k % 3]
            : (['index', 'onehot', 'soft'] as const)[k % 3]);
      if (options.includeBackground === false && C < 2) return;
      out.push({ op, activation, shape, labelKind, options, ...extra, ...(extra.presentClasses ? { presentClasses: Math.min(extra.presentClasses, C - 1) || 1 } : {}) });
    });
  };
  for (const activation of ['softmax', 'sigmoid', 'none'] as const) {
    add('dice', { activation, perImage: true });
    add('dice', { activation, square: true, epsilon: { numerator: 1e-5, denominator: 1e-3 } });
    add('dice', { activation, jaccard: true, reduction: 'none' });
    add('tversky', { activation, alpha: 0.3, beta: 0.7 });
    add('tversky', { activation, gamma: 2, perImage: true, reduction: 'none' });
    add('generalizedDice', { activation, weightType: 'square', epsilon: 1e-5 });
  }
  add('dice', { log: true, includeBackground: false, epsilon: 1e-3 });
  add('dice', { reduction: 'sum', includeBackground: false });
  add('dice', { ignoreIndex: 255, perImage: true });
  add('dice', { ignoreIndex: 0, square: true, jaccard: true });
  add('dice', { activation: 'sigmoid', epsilon: 0.5 }, { presentClasses: 1 });
  add('tversky', { gamma: 0.75, alpha: 0.7, beta: 0.3, includeBackground: false, epsilon: 1e-2 });
  add('tversky', { ignoreIndex: -1, reduction: 'sum' });
  add('generalizedDice', { weightType: 'simple', perImage: true, epsilon: 1e-5 }, { presentClasses: 2 });
  add('generalizedDice', { weightType: 'square', epsilon: 1e-5 }, { presentClasses: 1 });
  add('generalizedDice', { weightType: 'uniform', includeBackground: false, reduction: 'none', perImage: true });
  add('generalizedDice', { activation: 'sigmoid', ignoreIndex: 1, epsilon: 1e-5 });
  // classWeights need C: one per class count.
  for (const C of [2, 3, 5]) {
    out.push({ op: 'dice', activation: 'softmax', shape: [2, 3, 4, C], labelKind: 'onehot',
      options: { classWeights: Array.from({ length: C }, (_, c) => 0.5 + c), reduction: 'none', perImage: true } });
  }
  // Saturated logits: p within float32's reach of 0 and 1.
  out.push({ op: 'dice', activation: 'softmax', shape: [2, 3, 4, 4], labelKind: 'index', options: { jaccard: true }, scale: 30 });
  out.push({ op: 'tversky', activation: 'sigmoid', shape: [2, 9, 2], labelKind: 'multilabel', options: { alpha: 0.2, beta: 0.8 }, scale: 30 });
  return out;
}

const SCENARIOS = scenarios();
const name = (s: Scenario) => `${s.op} ${JSON.stringify(s.options)} ${s.activation} [${s.shape.join(',')}] ${s.labelKind}${s.presentClasses ? ` (classes ≥ ${s.presentClasses} absent)` : ''}`;

describe('region losses against float64 references', () => {
  it('has scenarios over every op, activation, rank and C', () => {
    expect(SCENARIOS.length).toBeGreaterThan(80);
    expect(new Set(SCENARIOS.map((s) => s.shape.length))).toEqual(new Set([3, 4, 5]));
    expect(new Set(SCENARIOS.map((s) => s.shape[s.shape.length - 1]))).toEqual(new Set([1, 2, 3, 4, 5, 8]));
  });

  for (const path of PATHS) {
    it.each(SCENARIOS.map((s, k) => [name(s), s, k] as const))(`${path}: %s`, async (_, s, k) => {
      await usePath(path);
      const c = makeCase(s, mulberry32(1000 + k));
      const ref = region64(s.op as RegionOp, c, s.options);
      const got = evaluate(lossFn(s.op as RegionOp), s, c);
      expectMatches(got, ref);
      if (typeof ref.loss !== 'number') {
        const groups = s.options.perImage ? s.shape[0] : 1;
        expect(got.shape).toEqual(s.options.perImage ? [groups, ref.loss.length / groups] : [ref.loss.length]);
      } else {
        expect(got.shape).toEqual([]);
      }
    });
  }
});

describe('the seed\'s Dice forms on the engine', () => {
  it('give the same mean through reduction \'mean\' and \'sum\'', async () => {
    await useWasm('simd');
    const c = makeCase({ op: 'dice', activation: 'softmax', shape: [2, 5, 6, 3], labelKind: 'index', options: {} }, mulberry32(7));
    const { labels, input } = regionTensors(c);
    for (const opts of [{}, { square: true }, { includeBackground: false, perImage: true }] as DiceOptions[]) {
      const seed = losses.dice(labels, input, opts).dataSync()[0];
      // The mean is the sum over the groups' class values divided by their count.
      const engine = losses.dice(labels, input, { ...opts, reduction: 'sum' }).dataSync()[0] / (opts.perImage ? 2 * (opts.includeBackground === false ? 2 : 3) : 3);
      expect(engine).toBeCloseTo(seed, 6);
    }
  });
});

describe('bad input', () => {
  // [labels, input] as dtype and shape, made on the cpu backend inside each test.
  const x: [string, number[]] = ['float32', [2, 3, 4, 3]];
  const xi: [string, number[]] = ['int32', [2, 3, 4]];
  const x1: [string, number[]] = ['float32', [2, 3, 4, 1]];
  it.each([
    ['dice', xi, x1, {}, /activation 'softmax' needs at least 2 classes .* use activation 'sigmoid'/],
    ['dice', xi, x, { activation: 'relu' }, /activation must be 'softmax', 'sigmoid' or 'none', got relu/],
    ['dice', xi, x, { classWeights: [1, 2] }, /classWeights must have one weight per class \(3\), got 2/],
    ['dice', xi, x, { classWeights: [1, -2, 1] }, /classWeights\[1\] must be a finite number ≥ 0, got -2/],
    ['dice', xi, x, { epsilon: -1 }, /epsilon must be a finite number ≥ 0, got -1/],
    ['dice', xi, x, { epsilon: { numerator: 1e-5 } }, /epsilon.denominator must be a finite number ≥ 0, got NaN/],
    ['dice', xi, x, { jaccard: 1 }, /jaccard must be a boolean/],
    ['dice', x, x, { ignoreIndex: 0 }, /ignoreIndex applies to int32 class-index labels only/],
    ['tversky', xi, x, { alpha: -0.1 }, /alpha must be a finite number ≥ 0, got -0.1/],
    ['tversky', xi, x, { gamma: 0 }, /gamma must be a finite number > 0, got 0/],
    ['tversky', xi, x, { delta: 1 }, /unknown option 'delta'/],
    ['generalizedDice', xi, x, { weightType: 'cubic' }, /weightType must be 'square', 'simple' or 'uniform', got cubic/],
    ['generalizedDice', xi, x, { classWeights: [1, 1, 1] }, /unknown option 'classWeights'/],
    ['dice', xi, ['float32', [2, 3, 4, 5, 6, 3]], {}, /rank 3 to 5/],
    ['dice', ['int32', [2, 3]], x, {}, /labels must be float32 \[2,3,4,3\] .* or int32 class indices \[2,3,4\]/],
  ] as const)('%s, labels %j, input %j, options %j: names the problem', async (op, [ld, ls], [xd, xs], opts, message) => {
    await tf.setBackend('cpu');
    const labels = tf.zeros(ls as number[], ld as 'int32' | 'float32');
    const input = tf.zeros(xs as number[], xd as 'float32');
    expect(() => lossFn(op as RegionOp)(labels, input, opts as RegionOptions64)).toThrow(message);
  });

  it('rejects an index label outside [0, C) that is not ignored, naming it', async () => {
    for (const path of ['simd', 'composite'] as const) {
      await usePath(path);
      const labels = tf.tensor([[0, 1, 7]], [1, 3], 'int32');
      expect(() => losses.tversky(labels, tf.zeros([1, 3, 3]), {})).toThrow(/labels\[0, 2\] = 7 is outside the class range \[0, 3\)/);
      expect(() => losses.dice(labels, tf.zeros([1, 3, 3]), { ignoreIndex: 7, jaccard: true })).not.toThrow();
    }
  });
});

describe('the SIMD build against the scalar build', () => {
  // Shapes past several flush blocks (256 pixels) with tails that are not multiples of 4 pixels.
  const cases: Scenario[] = [];
  for (const [activation, C, labelKind] of [
    ['softmax', 2, 'index'], ['softmax', 2, 'soft'], ['softmax', 3, 'index'], ['softmax', 5, 'onehot'], ['softmax', 4, 'index'], ['softmax', 8, 'soft'], ['sigmoid', 1, 'index'], ['sigmoid', 2, 'multilabel'],
    ['sigmoid', 4, 'onehot'], ['sigmoid', 8, 'multilabel'], ['none', 4, 'onehot'], ['sigmoid', 3, 'multilabel'], ['sigmoid', 5, 'soft'], ['none', 6, 'multilabel'],
    // Class indices with C ∤ 4 and 4 ∤ C: the four-element vectors span two pixels.
    ['sigmoid', 3, 'index'], ['sigmoid', 5, 'index'], ['sigmoid', 7, 'index'], ['none', 6, 'index'],
  ] as const) {
    cases.push({ op: 'dice', activation, shape: [2, 37, 29, C], labelKind, options: { activation, perImage: true, square: true } });
    cases.push({ op: 'tversky', activation, shape: [3, 11, 13, 7, C], labelKind: labelKind === 'soft' ? 'soft' : 'index', options: { activation, alpha: 0.2, beta: 0.8, ignoreIndex: labelKind === 'soft' ? undefined : 1 } });
  }
  it.each(cases.map((s, k) => [name(s), s, k] as const))('%s: the same values and gradients, to float32 summation order', async (_, s, k) => {
    const data = makeCase(s, mulberry32(77 + k));
    const results = [];
    for (const variant of ['simd', 'scalar'] as const) {
      await useWasm(variant);
      results.push(evaluate(lossFn(s.op as RegionOp), s, data));
    }
    const [simd, scalar] = results;
    expectClose(simd.value, scalar.value, { abs: 1e-6, rel: 1e-5 }, 'value');
    const scale = scalar.grad.reduce((m, g) => Math.max(m, Math.abs(g)), 0);
    expectClose(simd.grad, scalar.grad, { abs: 1e-5 * scale, rel: 1e-4 }, 'grad');
  });
});
