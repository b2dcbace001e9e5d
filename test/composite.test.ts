/**
 * The composite (tfjs-op) losses on the 'cpu' backend against the float64 references: values and
 * autodiff gradients with respect to the logits, and no tensor left behind by any call.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  cceComposite,
  diceComposite,
  resolveCceOptions,
  resolveDiceOptions,
  segmentationLossesComposite,
} from '../src/losses/composite.js';
import type { CategoricalCrossEntropyOptions, SeedDiceOptions, Reduction } from '../src/losses/types.js';
import { LOSS_NAMES } from '../src/losses/types.js';
import { expectClose } from './helpers/assert.js';
import { tensorsOf, withIgnored, type LossCase } from './helpers/cases.js';
import { mulberry32, randomIndexLabels, randomLogits, randomSoftLabels, type Rng } from './helpers/random.js';
import { cce64, dice64, segmentationLosses64, type Shape4 } from './reference/losses64.js';

// float32 ops against float64 math on the same float32 inputs: sums of ≤ 150 terms of size ≤ ~20
// lose a few ulps (~1e-7 relative each), and gradients of a mean are ~1/P, so abs 1e-5 + rel 1e-4
// leaves a wide margin while still catching any wrong term.
const F32_TOL = { abs: 1e-5, rel: 1e-4 };

const CLASS_COUNTS = [2, 3, 5];
const shapesFor = (C: number): Shape4[] => [
  [2, 3, 5, C],
  [1, 7, 3, C],
];
const LABEL_KINDS = ['onehot', 'index', 'soft'] as const;
type LabelKind = (typeof LABEL_KINDS)[number];
const REDUCTIONS: Reduction[] = ['mean', 'sum', 'none'];
const LOGIT_SCALE = 2; // p stays far from the clip thresholds (see reference.test.ts)

/** The same labels for the reference and as a tensor: float32 [N,H,W,C] or int32 [N,H,W]. */
type Case = LossCase;

function makeCase(rng: Rng, kind: LabelKind, shape: Shape4): Case {
  const C = shape[3];
  const P = shape[0] * shape[1] * shape[2];
  const logits = randomLogits(rng, P * C, LOGIT_SCALE);
  if (kind === 'soft') return { shape, logits, labels: { kind: 'onehot', data: randomSoftLabels(rng, P, C) } };
  const index = randomIndexLabels(rng, P, C);
  index[P - 1] = C - 1; // a class-0 weight of zero never empties the weighted mean
  if (kind === 'index') return { shape, logits, labels: { kind: 'index', data: index } };
  const oneHot = new Float32Array(P * C);
  index.forEach((c, i) => (oneHot[i * C + c] = 1));
  return { shape, logits, labels: { kind: 'onehot', data: oneHot } };
}

/**
 * Runs `f` on the logits for its value and its tfjs gradient (of the sum, for a non-scalar value),
 * checking that each of the two calls leaves exactly its result tensor behind.
 */
function valueAndGrad(f: (z: tf.Tensor) => tf.Tensor, logits: tf.Tensor): { value: Float32Array; grad: Float32Array } {
  const before = tf.memory().numTensors;
  const out = f(logits);
  expect(tf.memory().numTensors, 'tensors after the loss').toBe(before + 1);
  const value = out.dataSync() as Float32Array;
  out.dispose();
  const g = tf.grad((z: tf.Tensor) => tf.sum(f(z)))(logits);
  expect(tf.memory().numTensors, 'tensors after its gradient').toBe(before + 1);
  const grad = g.dataSync() as Float32Array;
  g.dispose();
  return { value, grad };
}

const toArray = (loss: number | Float64Array) => (typeof loss === 'number' ? [loss] : loss);

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('option resolution', () => {
  it('fills in the documented defaults and freezes the result', () => {
    expect(resolveCceOptions()).toEqual({
      clip: false,
      epsilon: 1e-7,
      classWeights: null,
      ignoreIndex: null,
      reduction: 'mean',
    });
    expect(resolveDiceOptions()).toEqual({ square: false, includeBackground: true, perImage: false, epsilon: 1e-7 });
    const weights = [1, 2];
    const resolved = resolveCceOptions({ classWeights: weights, ignoreIndex: 0, clip: true, epsilon: 1e-3, reduction: 'none' });
    weights[0] = 5;
    expect(resolved).toEqual({ clip: true, epsilon: 1e-3, classWeights: [1, 2], ignoreIndex: 0, reduction: 'none' });
    expect(Object.isFrozen(resolved) && Object.isFrozen(resolved.classWeights)).toBe(true);
  });
});

describe('cceComposite equals cce64', () => {
  for (const C of CLASS_COUNTS) {
    for (const shape of shapesFor(C)) {
      for (const kind of LABEL_KINDS) {
        for (const clip of [false, true]) {
          for (const reduction of REDUCTIONS) {
            it(`C=${C} shape=[${shape}] ${kind} clip=${clip} ${reduction}`, () => {
              const rng = mulberry32(10_000 * C + 100 * shape[0] + shape[1]);
              const base = makeCase(rng, kind, shape);
              const positive = Array.from({ length: C }, () => 0.25 + 1.75 * rng());
              const variants: [CategoricalCrossEntropyOptions, Case][] = [
                [{}, base],
                [{ classWeights: positive }, base],
                [{ classWeights: positive.map((w, c) => (c === 0 ? 0 : w)) }, base],
              ];
              if (kind === 'index') {
                // In range (its one-hot row is non-zero) and out of range on both sides.
                variants.push(
                  [{ ignoreIndex: 1 }, withIgnored(rng, base, 1)],
                  [{ ignoreIndex: 255 }, withIgnored(rng, base, 255)],
                  [{ ignoreIndex: -1, classWeights: positive }, withIgnored(rng, base, -1)],
                );
              }
              for (const [set, c] of variants) {
                const opts = { ...set, clip, reduction };
                const tag = JSON.stringify(opts);
                const expected = cce64(c.labels, c.logits, c.shape, opts);
                const { labels, logits } = tensorsOf(c);
                const actual = valueAndGrad((z) => cceComposite(labels, z, opts), logits);
                tf.dispose([labels, logits]);
                expectClose(actual.value, toArray(expected.loss), F32_TOL, `${tag} value`);
                expectClose(actual.grad, expected.grad, F32_TOL, `${tag} grad`);
              }
            });
          }
        }
      }
    }
  }

  it('clip form: zero gradient where p was clipped, as the reference', () => {
    const c: Case = {
      shape: [1, 1, 4, 3],
      logits: Float64Array.from([20, 0, 0, 0, 0, -20, 0, 0, -20, 0.3, -0.7, 1.1]),
      labels: { kind: 'index', data: Int32Array.from([0, 2, 0, 1]) },
    };
    const { labels, logits } = tensorsOf(c);
    const actual = valueAndGrad((z) => cceComposite(labels, z, { clip: true, reduction: 'none' }), logits);
    tf.dispose([labels, logits]);
    const expected = cce64(c.labels, c.logits, c.shape, { clip: true, reduction: 'none' });
    expect(actual.grad.subarray(0, 6).every((g) => g === 0)).toBe(true); // ±0 both fine
    expectClose(actual.value, toArray(expected.loss), F32_TOL, 'value');
    expectClose(actual.grad, expected.grad, F32_TOL, 'grad');
  });
});

describe('diceComposite equals dice64', () => {
  for (const C of CLASS_COUNTS) {
    for (const shape of shapesFor(C)) {
      for (const kind of LABEL_KINDS) {
        it(`C=${C} shape=[${shape}] ${kind}`, () => {
          const c = makeCase(mulberry32(20_000 * C + 100 * shape[0] + shape[1]), kind, shape);
          const { labels, logits } = tensorsOf(c);
          for (const square of [false, true]) {
            for (const includeBackground of [true, false]) {
              for (const perImage of [false, true]) {
                const opts: SeedDiceOptions = { square, includeBackground, perImage };
                const tag = JSON.stringify(opts);
                const expected = dice64(c.labels, c.logits, c.shape, opts);
                const actual = valueAndGrad((z) => diceComposite(labels, z, opts), logits);
                expectClose(actual.value, [expected.loss], F32_TOL, `${tag} value`);
                expectClose(actual.grad, expected.grad, F32_TOL, `${tag} grad`);
              }
            }
          }
          tf.dispose([labels, logits]);
        });
      }
    }
  }
});

describe('segmentationLossesComposite equals segmentationLosses64', () => {
  for (const C of CLASS_COUNTS) {
    for (const kind of ['onehot', 'index'] as const) {
      it(`C=${C} ${kind}`, () => {
        const c = makeCase(mulberry32(30_000 + C), kind, [2, 3, 5, C]);
        const expected = segmentationLosses64(c.labels, c.logits, c.shape);
        const { labels, logits } = tensorsOf(c);
        const before = tf.memory().numTensors;
        const all = segmentationLossesComposite(labels, logits);
        expect(tf.memory().numTensors).toBe(before + LOSS_NAMES.length);
        for (const name of LOSS_NAMES) {
          expectClose(all[name].dataSync(), [expected[name].loss], F32_TOL, `${name} value`);
          // tidy drops the four other losses of each call.
          const { grad } = valueAndGrad((z) => tf.tidy(() => segmentationLossesComposite(labels, z)[name]), logits);
          expectClose(grad, expected[name].grad, F32_TOL, `${name} grad`);
        }
        tf.dispose([labels, logits, ...Object.values(all)]);
        expect(tf.memory().numTensors).toBe(before - 2);
      });
    }
  }

  it('gives the seed check values (DESIGN.md §3) in float32', () => {
    // 1000 pixels, 950 foreground, everything predicted foreground with p = 1.
    const labels = tf.tensor3d(Int32Array.from({ length: 1000 }, (_, i) => (i < 950 ? 1 : 0)), [2, 20, 25], 'int32');
    const logits = tf.tensor4d(Float32Array.from({ length: 2000 }, (_, k) => (k % 2 === 1 ? 1000 : 0)), [2, 20, 25, 2]);
    const all = segmentationLossesComposite(labels, logits);
    const value = (name: (typeof LOSS_NAMES)[number]) => [all[name].dataSync()[0]];
    expectClose(value('dicefg'), [0.0256], { abs: 1e-3, rel: 0 }, 'dicefg');
    expectClose(value('dice'), [0.513], { abs: 1e-3, rel: 0 }, 'dice');
    expectClose(value('cce'), [0.806], { abs: 1e-3, rel: 0 }, 'cce clip');
    const exact = cceComposite(labels, logits);
    expectClose(exact.dataSync(), [50], { abs: 1e-3, rel: 0 }, 'exact cce');
    tf.dispose([labels, logits, exact, ...Object.values(all)]);
  });
});
