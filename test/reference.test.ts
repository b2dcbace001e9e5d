/**
 * The float64 references against themselves: analytic gradients against central finite
 * differences, values against hand computations, equivalences between options, and the seed's
 * check values (DESIGN.md §3).
 */
import { describe, expect, it } from 'vitest';
import type { CategoricalCrossEntropyOptions, SeedDiceOptions, Reduction } from '../src/losses/types.js';
import { expectClose } from './helpers/assert.js';
import {
  mulberry32,
  randomIndexLabels,
  randomLogits,
  randomOneHot,
  randomSoftLabels,
  type Rng,
} from './helpers/random.js';
import {
  cce64,
  dice64,
  finiteDifferenceGrad,
  segmentationLosses64,
  softmax64,
  type CceResult,
  type Labels64,
  type Shape4,
} from './reference/losses64.js';

// Central differences with h = 1e-6 in float64 err by ~h²·|f'''| + 1e-16·|f|/h ≈ 1e-10 here
// (|f| ≤ ~100), so abs 1e-6 + rel 1e-5 is loose for a correct gradient and tight for a wrong one
// (a wrong term is off by ≥ ~1e-3 on these sizes).
const FD_TOL = { abs: 1e-6, rel: 1e-5 };
// Two float64 computations of the same value by different routes.
const EXACT_TOL = { abs: 1e-12, rel: 1e-12 };

const CLASS_COUNTS = [2, 3, 5];
// Pixel counts 30, 21 and 3: none a multiple of 4, so SIMD tails get exercised by the same cases.
const shapesFor = (C: number): Shape4[] => [
  [2, 3, 5, C],
  [1, 7, 3, C],
  [3, 1, 1, C],
];
const LABEL_KINDS = ['onehot', 'index', 'soft'] as const;
type LabelKind = (typeof LABEL_KINDS)[number];
const REDUCTIONS: Reduction[] = ['mean', 'sum', 'none'];

/**
 * Logits in [−2, 2]: every p is ≥ e^−4/C ≈ 0.004 and ≤ 1 − 0.004, far from the clip thresholds,
 * so a finite-difference step never crosses a clip kink.
 */
const LOGIT_SCALE = 2;

/**
 * Random labels whose last pixel is of class C − 1 (all classes for soft labels), so that a
 * zero weight on class 0 never leaves a weighted mean with nothing to divide by.
 */
function makeLabels(rng: Rng, kind: LabelKind, P: number, C: number): Labels64 {
  if (kind === 'soft') return { kind: 'onehot', data: randomSoftLabels(rng, P, C) };
  const index = randomIndexLabels(rng, P, C);
  index[P - 1] = C - 1;
  if (kind === 'index') return { kind, data: index };
  const data = new Float32Array(P * C);
  index.forEach((c, i) => (data[i * C + c] = 1));
  return { kind: 'onehot', data };
}

const pixelsOf = (shape: Shape4) => shape[0] * shape[1] * shape[2];
const total = (loss: number | Float64Array) => (typeof loss === 'number' ? loss : loss.reduce((a, b) => a + b, 0));
const asNumber = (r: CceResult) => {
  if (typeof r.loss !== 'number') throw new Error('expected a scalar loss');
  return r.loss;
};

/** CCE option sets for a label kind: plain, weighted (one with a zero weight) and, for index labels, ignored pixels. */
function cceOptionSets(rng: Rng, kind: LabelKind, C: number): CategoricalCrossEntropyOptions[] {
  const positive = Array.from({ length: C }, () => 0.25 + 1.75 * rng());
  const withZero = positive.map((w, c) => (c === 0 ? 0 : w));
  const sets: CategoricalCrossEntropyOptions[] = [{}, { classWeights: positive }, { classWeights: withZero }];
  if (kind === 'index') {
    sets.push({ ignoreIndex: 1 }, { ignoreIndex: 255 }, { ignoreIndex: -1, classWeights: positive });
  }
  return sets;
}

/**
 * Index labels where about a quarter of the pixels carry `ignoreIndex`, whatever its value: always
 * the first pixel, never the last (a mean over no counted pixel is 0/0, tested on its own).
 */
function withIgnored(rng: Rng, labels: Labels64, ignoreIndex: number | undefined): Labels64 {
  if (labels.kind !== 'index' || ignoreIndex === undefined) return labels;
  const data = labels.data.map((v) => (rng() < 0.25 ? ignoreIndex : v));
  data[0] = ignoreIndex;
  if (data[data.length - 1] === ignoreIndex) data[data.length - 1] = ignoreIndex === 0 ? 1 : 0;
  return { kind: 'index', data };
}

describe('expectClose', () => {
  it('accepts values within tolerance and NaN only against NaN', () => {
    expectClose([1, NaN, Infinity], [1 + 1e-9, NaN, Infinity], { abs: 1e-8, rel: 0 }, 'ok');
    expect(() => expectClose([NaN], [0], { abs: 1, rel: 1 }, 'nan')).toThrow(/element 0/);
    expect(() => expectClose([0], [NaN], { abs: 1, rel: 1 }, 'nan')).toThrow(/element 0/);
    expect(() => expectClose([1, 2, 3], [1, 2, 4], { abs: 0.5, rel: 0 }, 'x')).toThrow(
      /x: element 2 differs: actual 3, expected 4, difference -1/,
    );
  });
});

describe('softmax64', () => {
  it('is stable for huge logits and sums to 1', () => {
    const p = softmax64([1000, 0, -1000, 3, 3, 3], 3);
    expectClose(p, [1, 0, 0, 1 / 3, 1 / 3, 1 / 3], EXACT_TOL, 'softmax');
  });
});

describe('cce64 gradient equals finite differences', () => {
  for (const C of CLASS_COUNTS) {
    for (const shape of shapesFor(C)) {
      for (const kind of LABEL_KINDS) {
        for (const clip of [false, true]) {
          for (const reduction of REDUCTIONS) {
            it(`C=${C} shape=[${shape}] ${kind} clip=${clip} ${reduction}`, () => {
              const rng = mulberry32(1000 * C + 100 * shape[0] + shape[1]);
              const P = pixelsOf(shape);
              const logits = randomLogits(rng, P * C, LOGIT_SCALE);
              const baseLabels = makeLabels(rng, kind, P, C);
              for (const set of cceOptionSets(rng, kind, C)) {
                const opts = { ...set, clip, reduction };
                const labels = withIgnored(rng, baseLabels, opts.ignoreIndex);
                const label = `${JSON.stringify(opts)}`;
                const r = cce64(labels, logits, shape, opts);
                const fd = finiteDifferenceGrad((z) => total(cce64(labels, z, shape, opts).loss), logits);
                expectClose(r.grad, fd, FD_TOL, label);
                if (opts.ignoreIndex !== undefined) {
                  // Pixel 0 is ignored: no gradient, and loss 0 under 'none'.
                  expectClose(r.grad.subarray(0, C), new Float64Array(C), EXACT_TOL, `${label} ignored grad`);
                  if (reduction === 'none') expect((r.loss as Float64Array)[0]).toBe(0);
                }
              }
            });
          }
        }
      }
    }
  }
});

describe('dice64 gradient equals finite differences', () => {
  for (const C of CLASS_COUNTS) {
    for (const shape of shapesFor(C)) {
      for (const kind of LABEL_KINDS) {
        it(`C=${C} shape=[${shape}] ${kind}`, () => {
          const rng = mulberry32(2000 * C + 100 * shape[0] + shape[1]);
          const P = pixelsOf(shape);
          const logits = randomLogits(rng, P * C, LOGIT_SCALE);
          const labels = makeLabels(rng, kind, P, C);
          for (const square of [false, true]) {
            for (const includeBackground of [true, false]) {
              for (const perImage of [false, true]) {
                const opts: SeedDiceOptions = { square, includeBackground, perImage };
                const r = dice64(labels, logits, shape, opts);
                const fd = finiteDifferenceGrad((z) => dice64(labels, z, shape, opts).loss, logits);
                expectClose(r.grad, fd, FD_TOL, JSON.stringify(opts));
              }
            }
          }
        });
      }
    }
  }
});

describe('segmentationLosses64', () => {
  it('gradients equal finite differences and match cce64/dice64', () => {
    for (const C of CLASS_COUNTS) {
      const shape: Shape4 = [2, 3, 5, C];
      const rng = mulberry32(3000 + C);
      const logits = randomLogits(rng, pixelsOf(shape) * C, LOGIT_SCALE);
      const labels = makeLabels(rng, 'onehot', pixelsOf(shape), C);
      const all = segmentationLosses64(labels, logits, shape);
      for (const [name, r] of Object.entries(all)) {
        const fd = finiteDifferenceGrad(
          (z) => segmentationLosses64(labels, z, shape)[name as keyof typeof all].loss,
          logits,
        );
        expectClose(r.grad, fd, FD_TOL, `C=${C} ${name}`);
      }
      const cce = cce64(labels, logits, shape, { clip: true });
      expect(all.cce.loss).toBe(cce.loss);
      expect(all.dicefg_square.loss).toBe(dice64(labels, logits, shape, { square: true, includeBackground: false }).loss);
    }
  });
});

describe('cce64 values', () => {
  // Two pixels, C = 2, both with p = [0.25, 0.75]; pixel 0 is class 1, pixel 1 class 0.
  const z = [0, Math.log(3), 0, Math.log(3)];
  const shape: Shape4 = [1, 1, 2, 2];
  const labels: Labels64 = { kind: 'index', data: Int32Array.from([1, 0]) };

  it('match a hand computation', () => {
    const [l0, l1] = [Math.log(4 / 3), Math.log(4)];
    expectClose([asNumber(cce64(labels, z, shape))], [(l0 + l1) / 2], EXACT_TOL, 'mean');
    expectClose([asNumber(cce64(labels, z, shape, { reduction: 'sum' }))], [l0 + l1], EXACT_TOL, 'sum');
    expectClose(cce64(labels, z, shape, { reduction: 'none' }).loss as Float64Array, [l0, l1], EXACT_TOL, 'none');
    // Weighted mean: (w1·ℓ0 + w0·ℓ1) / (w1 + w0).
    const weighted = cce64(labels, z, shape, { classWeights: [1, 3] });
    expectClose([asNumber(weighted)], [(3 * l0 + l1) / 4], EXACT_TOL, 'weighted mean');
    // Ignoring class 0 leaves pixel 0 alone as the mean.
    expectClose([asNumber(cce64(labels, z, shape, { ignoreIndex: 0 }))], [l0], EXACT_TOL, 'ignored');
  });

  it('clip and exact forms agree where nothing is clipped', () => {
    for (const C of CLASS_COUNTS) {
      const shape: Shape4 = [2, 3, 5, C];
      const rng = mulberry32(4000 + C);
      const logits = randomLogits(rng, pixelsOf(shape) * C, LOGIT_SCALE);
      const labels = makeLabels(rng, 'soft', pixelsOf(shape), C);
      const exact = cce64(labels, logits, shape, { reduction: 'none' });
      const clipped = cce64(labels, logits, shape, { reduction: 'none', clip: true });
      expectClose(clipped.loss as Float64Array, exact.loss as Float64Array, EXACT_TOL, `C=${C} loss`);
      expectClose(clipped.grad, exact.grad, EXACT_TOL, `C=${C} grad`);
    }
  });

  it('reductions, weights, index labels and ignoreIndex are consistent', () => {
    const C = 3;
    const shape: Shape4 = [2, 3, 5, C];
    const P = pixelsOf(shape);
    const rng = mulberry32(5000);
    const logits = randomLogits(rng, P * C, LOGIT_SCALE);
    const index = randomIndexLabels(rng, P, C);
    const oneHot = new Float64Array(P * C);
    index.forEach((c, i) => (oneHot[i * C + c] = 1));
    const asIndex: Labels64 = { kind: 'index', data: index };
    const asOneHot: Labels64 = { kind: 'onehot', data: oneHot };
    const weights = [0.5, 2, 1.25];

    for (const clip of [false, true]) {
      for (const classWeights of [undefined, weights]) {
        const opts = { clip, classWeights };
        const tag = JSON.stringify(opts);
        const none = cce64(asIndex, logits, shape, { ...opts, reduction: 'none' });
        const sum = cce64(asIndex, logits, shape, { ...opts, reduction: 'sum' });
        const mean = cce64(asIndex, logits, shape, opts);
        const denominator = classWeights ? Array.from(index, (c) => classWeights[c]).reduce((a, b) => a + b) : P;
        expectClose([total(none.loss)], [asNumber(sum)], EXACT_TOL, `${tag} none sums to sum`);
        expectClose([asNumber(mean)], [asNumber(sum) / denominator], EXACT_TOL, `${tag} mean = sum / denominator`);
        expectClose(none.grad, sum.grad, EXACT_TOL, `${tag} 'none' gradient is that of the sum`);
        const fromOneHot = cce64(asOneHot, logits, shape, opts);
        expectClose([asNumber(fromOneHot)], [asNumber(mean)], EXACT_TOL, `${tag} index = one-hot`);
        expectClose(fromOneHot.grad, mean.grad, EXACT_TOL, `${tag} index = one-hot grad`);
      }
    }

    // Uniform weights change the sum by their factor, and the mean not at all.
    const uniform = { classWeights: [2.5, 2.5, 2.5] };
    expectClose([asNumber(cce64(asIndex, logits, shape, uniform))], [asNumber(cce64(asIndex, logits, shape))], EXACT_TOL, 'uniform mean');
    expectClose(
      [asNumber(cce64(asIndex, logits, shape, { ...uniform, reduction: 'sum' }))],
      [2.5 * asNumber(cce64(asIndex, logits, shape, { reduction: 'sum' }))],
      EXACT_TOL,
      'uniform sum',
    );

    // Ignoring pixels is the same as leaving them out of the batch.
    for (const classWeights of [undefined, weights]) {
      const ignored = Int32Array.from(index, (c, i) => (i % 4 === 1 ? 255 : c));
      const keep = Array.from({ length: P }, (_, i) => i).filter((i) => i % 4 !== 1);
      const keptLogits = Float64Array.from(keep.flatMap((i) => Array.from(logits.subarray(i * C, i * C + C))));
      const keptLabels: Labels64 = { kind: 'index', data: Int32Array.from(keep, (i) => index[i]) };
      const keptShape: Shape4 = [1, 1, keep.length, C];
      for (const clip of [false, true]) {
        const opts = { clip, classWeights };
        const full = cce64({ kind: 'index', data: ignored }, logits, shape, { ...opts, ignoreIndex: 255 });
        const kept = cce64(keptLabels, keptLogits, keptShape, opts);
        expectClose([asNumber(full)], [asNumber(kept)], EXACT_TOL, `ignored = left out ${JSON.stringify(opts)}`);
        const keptGradOfFull = Float64Array.from(keep.flatMap((i) => Array.from(full.grad.subarray(i * C, i * C + C))));
        expectClose(keptGradOfFull, kept.grad, EXACT_TOL, 'ignored = left out grad');
      }
    }
  });

  it('clip form: a clipped term has exactly zero gradient and is capped at −log ε', () => {
    const C = 3;
    const eps = 1e-7;
    // Pixel 0: p_0 ≈ 1 − 4e-9 > 1 − ε, label 0 → clipped. Pixel 1: p_2 ≈ 1e-9 < ε, label 2 →
    // clipped at ε. Pixel 2: same logits, label 0 → p_0 ≈ 0.5 unclipped, gradient flows.
    // Pixel 3: random. The FD step 1e-6 does not move any p across a threshold.
    const logits = Float64Array.from([20, 0, 0, 0, 0, -20, 0, 0, -20, 0.3, -0.7, 1.1]);
    const shape: Shape4 = [1, 1, 4, C];
    const labels: Labels64 = { kind: 'index', data: Int32Array.from([0, 2, 0, 1]) };
    for (const reduction of REDUCTIONS) {
      const r = cce64(labels, logits, shape, { clip: true, epsilon: eps, reduction });
      expect(Array.from(r.grad.subarray(0, 2 * C))).toEqual(new Array(2 * C).fill(0));
      expect(r.grad[2 * C]).not.toBe(0);
      const fd = finiteDifferenceGrad((z) => total(cce64(labels, z, shape, { clip: true, epsilon: eps, reduction }).loss), logits);
      expectClose(r.grad, fd, FD_TOL, `clip mask ${reduction}`);
      if (reduction === 'none') {
        const perPixel = r.loss as Float64Array;
        expectClose([perPixel[0], perPixel[1]], [-Math.log(1 - eps), -Math.log(eps)], EXACT_TOL, 'clipped values');
      }
    }
  });

  it('a mean over no counted weight is 0/0 = NaN (PyTorch’s convention; DESIGN.md leaves it open)', () => {
    const z = [0.5, -0.5, 1, 2];
    const shape: Shape4 = [1, 1, 2, 2];
    const allIgnored = cce64({ kind: 'index', data: Int32Array.from([1, 1]) }, z, shape, { ignoreIndex: 1 });
    expect(allIgnored.loss).toBeNaN();
    expect(cce64({ kind: 'index', data: Int32Array.from([1, 1]) }, z, shape, { ignoreIndex: 1, reduction: 'sum' }).loss).toBe(0);
    const zeroWeight = cce64({ kind: 'index', data: Int32Array.from([0, 0]) }, z, shape, { classWeights: [0, 1] });
    expect(zeroWeight.loss).toBeNaN();
  });
});

describe('dice64 values', () => {
  // Two pixels, C = 2, both p = [0.25, 0.75]; pixel 0 is class 0, pixel 1 class 1.
  const z = [0, Math.log(3), 0, Math.log(3)];
  const labels: Labels64 = { kind: 'index', data: Int32Array.from([0, 1]) };
  const shape: Shape4 = [1, 1, 2, 2];
  const eps = 1e-7;
  const score = (i: number, sy: number, sp: number) => (2 * i + eps) / (sy + sp + eps);

  it('match a hand computation', () => {
    // Class 0: Σyp = 0.25, Σy = 1, Σp = 0.5. Class 1: Σyp = 0.75, Σy = 1, Σp = 1.5.
    const plain = [score(0.25, 1, 0.5), score(0.75, 1, 1.5)];
    const squared = [score(0.25, 1, 2 * 0.0625), score(0.75, 1, 2 * 0.5625)];
    const loss = (o: SeedDiceOptions) => dice64(labels, z, shape, o).loss;
    expectClose([loss({})], [1 - (plain[0] + plain[1]) / 2], EXACT_TOL, 'dice');
    expectClose([loss({ square: true })], [1 - (squared[0] + squared[1]) / 2], EXACT_TOL, 'dice_square');
    expectClose([loss({ includeBackground: false })], [1 - plain[1]], EXACT_TOL, 'dicefg');
    expectClose([loss({ includeBackground: false, square: true })], [1 - squared[1]], EXACT_TOL, 'dicefg_square');
  });

  it('perImage is the mean over images of each image’s own Dice', () => {
    const C = 3;
    const shape: Shape4 = [3, 2, 5, C];
    const perImagePixels = shape[1] * shape[2];
    const rng = mulberry32(6000);
    const logits = randomLogits(rng, pixelsOf(shape) * C, LOGIT_SCALE);
    const oneHot = randomOneHot(rng, pixelsOf(shape), C);
    for (const square of [false, true]) {
      for (const includeBackground of [true, false]) {
        const opts = { square, includeBackground };
        let mean = 0;
        for (let n = 0; n < shape[0]; n++) {
          const range = [n * perImagePixels * C, (n + 1) * perImagePixels * C] as const;
          const image: Shape4 = [1, shape[1], shape[2], C];
          mean += dice64({ kind: 'onehot', data: oneHot.subarray(...range) }, logits.subarray(...range), image, opts).loss;
        }
        const perImage = dice64({ kind: 'onehot', data: oneHot }, logits, shape, { ...opts, perImage: true }).loss;
        expectClose([perImage], [mean / shape[0]], EXACT_TOL, JSON.stringify(opts));
      }
    }
  });

  it('is ~0 for a confident correct prediction and index labels equal one-hot', () => {
    const C = 3;
    const shape: Shape4 = [2, 3, 5, C];
    const P = pixelsOf(shape);
    const index = randomIndexLabels(mulberry32(7000), P, C);
    index[0] = 0;
    index[1] = 1;
    index[2] = 2; // every class present, so no class scores ε/ε
    const oneHot = new Float64Array(P * C);
    index.forEach((c, i) => (oneHot[i * C + c] = 1));
    const logits = oneHot.map((v) => 50 * v);
    const fromIndex = dice64({ kind: 'index', data: index }, logits, shape, { square: true });
    const fromOneHot = dice64({ kind: 'onehot', data: oneHot }, logits, shape, { square: true });
    expect(Math.abs(fromIndex.loss)).toBeLessThan(1e-12);
    expect(fromIndex.loss).toBe(fromOneHot.loss);
    expectClose(fromIndex.grad, fromOneHot.grad, EXACT_TOL, 'index = one-hot grad');
  });
});

describe('seed check values (DESIGN.md §3): 95% foreground, everything predicted foreground', () => {
  // 1000 pixels, 950 foreground (class 1); z_fg − z_bg = 1000, so p_fg = 1 and p_bg = 0 exactly.
  const shape: Shape4 = [2, 20, 25, 2];
  const P = pixelsOf(shape);
  const labels: Labels64 = { kind: 'index', data: Int32Array.from({ length: P }, (_, i) => (i < 950 ? 1 : 0)) };
  const logits = Float64Array.from({ length: P * 2 }, (_, k) => (k % 2 === 1 ? 1000 : 0));
  const all = segmentationLosses64(labels, logits, shape);

  it('DICEFG ≈ 0.0256, DICE ≈ 0.513, CCE (clip) ≈ 0.806', () => {
    expectClose([all.dicefg.loss], [0.0256], { abs: 1e-3, rel: 0 }, 'dicefg'); // 1 − 1900/1950
    expectClose([all.dice.loss], [0.513], { abs: 1e-3, rel: 0 }, 'dice'); // background scores ~0
    expectClose([all.cce.loss], [0.806], { abs: 1e-3, rel: 0 }, 'cce clip'); // 0.05 · −log ε
  });

  it('the clipped CCE is stuck: every p is clipped, so its gradient is exactly zero', () => {
    expect(all.cce.grad.every((g) => g === 0)).toBe(true);
  });

  it('the exact CCE is very large (0.05 · 1000) and its gradient is not zero', () => {
    const exact = cce64(labels, logits, shape);
    expectClose([asNumber(exact)], [50], { abs: 1e-9, rel: 0 }, 'exact cce');
    expect(exact.grad.some((g) => g !== 0)).toBe(true);
  });
});
