/**
 * The fused wasm kernels behind `losses.categoricalCrossEntropy`, `losses.dice` and
 * `losses.segmentationLosses`, against the float64 references: values and tf.grad gradients with
 * respect to the logits, in both builds (SIMD and scalar), which must also agree with each other
 * and with the composite (tfjs-op) path on the 'cpu' backend — the "same numbers on every backend"
 * promise. Plus extreme logits, absent classes, the seed's stuck run and NaN propagation.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { describe, expect, it } from 'vitest';
import { kernelVariant, losses, LOSS_NAMES } from '../src/index.js';
import type { CategoricalCrossEntropyOptions, SeedDiceOptions, LossName } from '../src/losses/types.js';
import type { KernelVariant } from '../src/wasm/module.js';
import { expectClose, type Tolerance } from './helpers/assert.js';
import { tensorsOf, withIgnored, type LossCase } from './helpers/cases.js';
import { mulberry32, randomIndexLabels, randomLogits, randomSoftLabels, type Rng } from './helpers/random.js';
import { useWasm } from './helpers/wasm.js';
import { cce64, dice64, segmentationLosses64, type Labels64, type Shape4 } from './reference/losses64.js';

// Tolerances: |actual − expected| ≤ abs + rel·|expected|, element by element.
//
// Float32 kernels against float64 math on the same float32 inputs: each term carries a few ulps
// (exp/log ≤ 1 ulp, measured in math.test.ts) and sums are blocked into f64, so values are good to
// ~1e-6 relative; abs 1e-5 + rel 1e-4 catches any wrong term with a wide margin.
const VALUE_TOL: Tolerance = { abs: 1e-5, rel: 1e-4 };
// Gradients of a mean or of a Dice score shrink like 1/P (to ~1e-5 on the bigger shape), where a
// fixed abs 1e-5 would accept anything. So for gradients the absolute part is scaled by
// max(‖g‖∞, 1/P) (see gradScale): 1e-5 for an O(1) gradient ('sum'), 1e-5/P for a mean. The
// float32 kernels form each element from terms of that size (p_j·a − y_j scaled by 1/P, or
// p_j (g_j − Σ_c p_c g_c) with g ~ 1/(Σy + Σp)), and rounding leaves a few ulps of them, ~1e-6 of
// the scale: a 10× margin. The 1/P floor matters when saturated logits make every element tiny
// (|g| ~ 1e-15 with p = 1): then only rounding residues of the terms are left to compare.
const GRAD_TOL: Tolerance = { abs: 1e-5, rel: 1e-4 };
// SIMD against scalar build: the same exp/log (bit-identical, math.test.ts) and the same formulas,
// only the summation order differs, so ten times tighter; gradients again scaled by gradScale.
const BUILDS_TOL: Tolerance = { abs: 1e-6, rel: 1e-5 };

const VARIANTS: readonly KernelVariant[] = ['simd', 'scalar'];
const CLASS_COUNTS = [2, 3, 4, 5, 8, 16];
// Pixel counts 30 and 63 (not multiples of 4: SIMD tails) and 2046 (several SIMD flush blocks).
const shapesFor = (C: number): Shape4[] => [
  [2, 3, 5, C],
  [1, 7, 9, C],
  [2, 33, 31, C],
];
const LABEL_KINDS = ['onehot', 'index', 'soft'] as const;
type LabelKind = (typeof LABEL_KINDS)[number];
// Logits in [−2, 2]: every p lies in [1e-3, 1 − 1e-3] (C ≤ 16), far from the default clip
// thresholds ε, 1 − ε, so float32 and float64 agree on what is clipped; clipping is exercised by
// ε = 0.05 and by the confident, extreme and stuck-run logits below.
const LOGIT_SCALE = 2;

/** One input: logits and labels of an [N,H,W,C] batch, exactly representable in float32. */
type Case = LossCase;

interface Result {
  value: ArrayLike<number>;
  grad: ArrayLike<number>;
}

/** One op call: `loss` goes through the public ops. */
interface Op {
  name: string;
  data: Case;
  loss: (labels: tf.Tensor, logits: tf.Tensor) => tf.Tensor;
}

/** An op call with its float64 expectation. */
interface OpCase extends Op {
  reference: () => Result;
}

// ---------------------------------------------------------------------------------------------
// Inputs

function labelsOf(rng: Rng, kind: LabelKind, index: Int32Array, C: number): Labels64 {
  const P = index.length;
  if (kind === 'index') return { kind: 'index', data: index };
  if (kind === 'soft') return { kind: 'onehot', data: randomSoftLabels(rng, P, C) };
  const oneHot = new Float32Array(P * C);
  index.forEach((c, i) => (oneHot[i * C + c] = 1));
  return { kind: 'onehot', data: oneHot };
}

/** Random logits in [−scale, scale] and labels; the last pixel is of class C − 1 (see cceOps). */
function makeCase(seed: number, kind: LabelKind, shape: Shape4, scale = LOGIT_SCALE): Case {
  const rng = mulberry32(seed);
  const C = shape[3];
  const P = shape[0] * shape[1] * shape[2];
  const logits = randomLogits(rng, P * C, scale);
  const index = randomIndexLabels(rng, P, C);
  index[P - 1] = C - 1;
  return { shape, logits, labels: labelsOf(rng, kind, index, C) };
}

const describeCase = (c: Case) =>
  `[${c.shape}] ${c.labels.kind === 'index' ? 'index' : 'float'} labels`;

// ---------------------------------------------------------------------------------------------
// Op cases

/** Per-call CCE options on top of clip × reduction; ignoreIndex variants only for index labels. */
function cceVariants(c: Case, extended: boolean): [CategoricalCrossEntropyOptions, Case][] {
  const C = c.shape[3];
  const rng = mulberry32(C);
  const weights = Array.from({ length: C }, () => Math.fround(0.25 + 1.75 * rng()));
  const variants: [CategoricalCrossEntropyOptions, Case][] = [
    [{}, c],
    [{ classWeights: weights }, c],
  ];
  if (extended) {
    variants.push(
      // A zero weight on class 0 (the last pixel, of class C − 1, keeps the denominator > 0).
      [{ classWeights: weights.map((w, k) => (k === 0 ? 0 : w)) }, c],
      // A large ε: with clip, many p of these logits fall below it or above 1 − ε.
      [{ epsilon: 0.05 }, c],
    );
  }
  if (c.labels.kind === 'index') {
    // Outside [0, C) on both sides, and inside, where the label would otherwise select a class.
    variants.push([{ ignoreIndex: 255 }, withIgnored(mulberry32(255 + 7), c, 255)]);
    if (extended) {
      variants.push(
        [{ ignoreIndex: -1, classWeights: weights }, withIgnored(mulberry32(-1 + 7), c, -1)],
        [{ ignoreIndex: 0 }, withIgnored(mulberry32(0 + 7), c, 0)],
      );
    }
  }
  return variants;
}

function cceOps(base: Case, extended = true): OpCase[] {
  const ops: OpCase[] = [];
  for (const clip of [false, true]) {
    for (const reduction of ['mean', 'sum', 'none'] as const) {
      for (const [set, data] of cceVariants(base, extended)) {
        const opts: CategoricalCrossEntropyOptions = { ...set, clip, reduction };
        ops.push({
          name: `categoricalCrossEntropy ${JSON.stringify(opts)} ${describeCase(data)}`,
          data,
          loss: (labels, logits) => losses.categoricalCrossEntropy(labels, logits, opts),
          reference: () => {
            const r = cce64(data.labels, data.logits, data.shape, opts);
            return { value: typeof r.loss === 'number' ? [r.loss] : r.loss, grad: r.grad };
          },
        });
      }
    }
  }
  return ops;
}

function diceOps(data: Case): OpCase[] {
  const ops: OpCase[] = [];
  for (const square of [false, true]) {
    for (const includeBackground of [true, false]) {
      for (const perImage of [false, true]) {
        // The default ε, and the smoothing of 1 common in practice (visible in value and gradient).
        for (const opts of [{ square, includeBackground, perImage }, { square, includeBackground, perImage, epsilon: 1 }]) {
          ops.push(diceOp(data, opts));
        }
      }
    }
  }
  return ops;
}

function diceOp(data: Case, opts: SeedDiceOptions): OpCase {
  return {
    name: `dice ${JSON.stringify(opts)} ${describeCase(data)}`,
    data,
    loss: (labels, logits) => losses.dice(labels, logits, opts),
    reference: () => {
      const r = dice64(data.labels, data.logits, data.shape, opts);
      return { value: [r.loss], grad: r.grad };
    },
  };
}

/**
 * Each of the five outputs alone, and weighted sums of them, whose gradients go through one fused
 * backward pass; the last one also with a large ε (clip and Dice terms).
 */
const ALL_FIVE: Partial<Record<LossName, number>> = { cce: 0.7, dice: -0.4, dice_square: 1.3, dicefg: 0.25, dicefg_square: -2 };
const WEIGHTINGS: [Partial<Record<LossName, number>>, number | undefined][] = [
  ...LOSS_NAMES.map((name): [Partial<Record<LossName, number>>, undefined] => [{ [name]: 1 }, undefined]),
  [{ cce: 0.3, dicefg: 2, dice: -1 }, undefined],
  [ALL_FIVE, undefined],
  [ALL_FIVE, 0.05],
];

function segOps(data: Case): OpCase[] {
  return WEIGHTINGS.map(([weights, epsilon]) => {
    const terms = Object.entries(weights) as [LossName, number][];
    const opts = epsilon === undefined ? {} : { epsilon };
    return {
      name: `segmentationLosses ${terms.map(([n, w]) => `${w}·${n}`).join(' + ')} ${JSON.stringify(opts)} ${describeCase(data)}`,
      data,
      loss: (labels: tf.Tensor, logits: tf.Tensor) => {
        const out = losses.segmentationLosses(labels, logits, opts);
        return tf.addN(terms.map(([name, w]) => (w === 1 ? out[name] : tf.mul(out[name], w))));
      },
      reference: () => {
        const r = segmentationLosses64(data.labels, data.logits, data.shape, epsilon);
        const grad = new Float64Array(data.logits.length);
        let value = 0;
        for (const [name, w] of terms) {
          value += w * r[name].loss;
          r[name].grad.forEach((g, k) => (grad[k] += w * g));
        }
        return { value: [value], grad };
      },
    };
  });
}

// ---------------------------------------------------------------------------------------------
// Running and comparing

/** Value and gradient of one op case on the current backend (for a vector loss, d sum/d logits). */
function evaluate(op: Op): Result {
  const { labels, logits } = tensorsOf(op.data);
  try {
    const value = tf.tidy(() => op.loss(labels, logits));
    const grad = tf.grad((z: tf.Tensor) => tf.sum(op.loss(labels, z)))(logits);
    const result = { value: value.dataSync().slice(), grad: grad.dataSync().slice() };
    tf.dispose([value, grad]);
    return result;
  } finally {
    tf.dispose([labels, logits]);
  }
}

function maxAbs(values: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) m = Math.max(m, Math.abs(values[i]));
  return m;
}

/** The size of the terms a gradient element is made of: max(‖g‖∞, 1/P) (see GRAD_TOL). */
function gradScale(op: Op, grad: ArrayLike<number>): number {
  const [N, H, W] = op.data.shape;
  return Math.max(maxAbs(grad), 1 / (N * H * W));
}

/** Compares value and gradient; the gradient's absolute tolerance is scaled by `gradScale`. */
function expectResultClose(op: Op, actual: Result, expected: Result, valueTol: Tolerance, gradTol: Tolerance, label: string): void {
  expectClose(actual.value, expected.value, valueTol, `${label}: value`);
  const scaled = { abs: gradTol.abs * gradScale(op, expected.grad), rel: gradTol.rel };
  expectClose(actual.grad, expected.grad, scaled, `${label}: gradient`);
}

async function evaluateOn(variant: KernelVariant | 'cpu', ops: Op[]): Promise<Result[]> {
  if (variant === 'cpu') await tf.setBackend('cpu');
  else await useWasm(variant);
  return ops.map(evaluate);
}

/**
 * The four checks every op case goes through: each build against the reference, the builds
 * against each other, and the composite path on 'cpu' against the fused one.
 */
function checkOps(ops: () => OpCase[]): void {
  for (const variant of VARIANTS) {
    it(`matches the float64 reference (${variant} build)`, async () => {
      const cases = ops();
      const results = await evaluateOn(variant, cases);
      cases.forEach((op, i) => expectResultClose(op, results[i], op.reference(), VALUE_TOL, GRAD_TOL, `${variant}: ${op.name}`));
    });
  }
  it('gives the same numbers in the SIMD and scalar builds', async () => {
    const cases = ops();
    const simd = await evaluateOn('simd', cases);
    const scalar = await evaluateOn('scalar', cases);
    cases.forEach((op, i) => expectResultClose(op, scalar[i], simd[i], BUILDS_TOL, BUILDS_TOL, `scalar vs simd: ${op.name}`));
  });
  it('gives the same numbers as the composite path on the cpu backend', async () => {
    const cases = ops();
    const fused = await evaluateOn('simd', cases);
    const composite = await evaluateOn('cpu', cases);
    cases.forEach((op, i) => expectResultClose(op, composite[i], fused[i], VALUE_TOL, GRAD_TOL, `cpu composite vs wasm fused: ${op.name}`));
  });
}

// ---------------------------------------------------------------------------------------------
// Tests

// The ops fall back to the composite silently, so first make sure the wasm runs below are fused.
describe('on the wasm backend the ops run the fused kernels', () => {
  // Dice runs on the region engine at every C (the seed's own Dice kernel was folded into it).
  const kernelOf: [string, number, (labels: tf.Tensor, logits: tf.Tensor) => tf.Tensor][] = [
    ['SeglossSoftmaxCrossEntropy', 3, (labels, logits) => losses.categoricalCrossEntropy(labels, logits)],
    ['SeglossRegionStats', 2, (labels, logits) => losses.dice(labels, logits)],
    ['SeglossRegionStats', 4, (labels, logits) => losses.dice(labels, logits, { square: true })],
    ['SeglossSegmentationLossesGrad', 3, (labels, logits) => losses.segmentationLosses(labels, logits).dice],
  ];
  for (const variant of VARIANTS) {
    it(`${variant} build`, async () => {
      await useWasm(variant);
      expect(kernelVariant()).toBe(variant);
      for (const [kernel, C, f] of kernelOf) {
        const { labels, logits } = tensorsOf(makeCase(1, 'index', [1, 7, 9, C]));
        const info = await tf.profile(() => tf.grad((z: tf.Tensor) => f(labels, z))(logits));
        tf.dispose(info.result as tf.Tensor);
        expect(info.kernelNames, `kernels run by value and gradient of ${kernel}`).toContain(kernel);
        expect(info.kernelNames, `kernels run by value and gradient of ${kernel}`).not.toContain('Softmax');
        tf.dispose([labels, logits]);
      }
    });
  }
});

describe.each(CLASS_COUNTS)('C = %i', (C) => {
  shapesFor(C).forEach((shape, s) => {
    LABEL_KINDS.forEach((kind, k) => {
      const seed = 1000 * C + 10 * s + k;
      describe(`[${shape}] ${kind} labels`, () => {
        describe('categoricalCrossEntropy', () => checkOps(() => cceOps(makeCase(seed, kind, shape))));
        describe('dice', () => checkOps(() => diceOps(makeCase(seed, kind, shape))));
        describe('segmentationLosses', () => checkOps(() => segOps(makeCase(seed, kind, shape))));
      });
    });
  });
});

/** Every op on one case, with the CCE options that keep a weighted mean's denominator positive. */
const allOps = (c: Case): OpCase[] => [...cceOps(c, false), ...diceOps(c), ...segOps(c)];

describe('extreme logits (uniform in ±1e4)', () => {
  for (const C of [2, 3, 4, 8]) {
    for (const kind of ['onehot', 'index'] as const) {
      describe(`C = ${C}, ${kind} labels`, () => {
        checkOps(() => allOps(makeCase(77 * C, kind, [1, 7, 9, C], 1e4)));
      });
      it(`C = ${C}, ${kind} labels: every loss and gradient is finite`, async () => {
        const cases = allOps(makeCase(77 * C, kind, [1, 7, 9, C], 1e4));
        for (const variant of VARIANTS) {
          const results = await evaluateOn(variant, cases);
          cases.forEach((op, i) => {
            const bad = [...Array.from(results[i].value), ...Array.from(results[i].grad)].findIndex((v) => !Number.isFinite(v));
            expect(bad, `${variant}: ${op.name}: first non-finite output`).toBe(-1);
          });
        }
      });
    }
  }
});

describe('confident logits (uniform in ±20: some p clipped, some not)', () => {
  for (const C of [2, 5]) {
    describe(`C = ${C}`, () => checkOps(() => allOps(makeCase(31 * C, 'index', [2, 3, 5, C], 20))));
  }
});

/** Index labels drawn from `classes` only. */
function caseWithClasses(seed: number, shape: Shape4, classes: number[]): Case {
  const rng = mulberry32(seed);
  const P = shape[0] * shape[1] * shape[2];
  const logits = randomLogits(rng, P * shape[3], LOGIT_SCALE);
  const data = Int32Array.from({ length: P }, () => classes[Math.floor(rng() * classes.length)]);
  return { shape, logits, labels: { kind: 'index', data } };
}

describe('a class absent from the batch (class 1 never appears)', () => {
  for (const C of [3, 5, 8]) {
    const present = Array.from({ length: C }, (_, c) => c).filter((c) => c !== 1);
    describe(`C = ${C}`, () => checkOps(() => allOps(caseWithClasses(5 * C, [2, 3, 5, C], present))));
  }
});

describe('all-background labels', () => {
  for (const C of [2, 3, 5]) {
    describe(`C = ${C}`, () => checkOps(() => allOps(caseWithClasses(9 * C, [1, 7, 9, C], [0]))));
  }
});

/**
 * DESIGN.md §3: 95% foreground, every pixel predicted foreground with p = 1 (z_fg − z_bg = 50).
 * 400 pixels, every 20th background.
 */
function stuckRun(kind: 'onehot' | 'index'): Case {
  const shape: Shape4 = [4, 10, 10, 2];
  const P = 400;
  const index = Int32Array.from({ length: P }, (_, i) => (i % 20 === 7 ? 0 : 1));
  const logits = new Float64Array(2 * P);
  for (let i = 0; i < P; i++) logits[2 * i + 1] = 50;
  return { shape, logits, labels: labelsOf(mulberry32(0), kind, index, 2) };
}

describe("the seed's stuck run", () => {
  for (const kind of ['onehot', 'index'] as const) {
    describe(`${kind} labels`, () => checkOps(() => allOps(stuckRun(kind))));

    for (const variant of VARIANTS) {
      it(`${kind} labels, ${variant} build: dicefg ≈ 0.0256, dice ≈ 0.513, cce ≈ 0.806, and cce's gradient is exactly 0`, async () => {
        await useWasm(variant);
        const { labels, logits } = tensorsOf(stuckRun(kind));
        const out = losses.segmentationLosses(labels, logits);
        const values = Object.fromEntries(LOSS_NAMES.map((n) => [n, out[n].dataSync()[0]]));
        tf.dispose(Object.values(out));
        expectClose([values.dicefg, values.dice, values.cce], [0.0256, 0.513, 0.806], { abs: 1e-3, rel: 0 },
          `${variant} ${kind}: [dicefg, dice, cce]`);
        // Every p is clipped (p_fg = 1 > 1 − ε, p_bg = e^−50 < ε): no gradient flows at all.
        const zeroGrads: [string, (z: tf.Tensor) => tf.Tensor][] = [
          ['segmentationLosses cce', (z) => losses.segmentationLosses(labels, z).cce],
          ['categoricalCrossEntropy clip', (z) => losses.categoricalCrossEntropy(labels, z, { clip: true })],
        ];
        for (const [name, f] of zeroGrads) {
          const g = tf.grad(f)(logits);
          const grad = g.dataSync();
          g.dispose();
          const nonZero = grad.findIndex((v) => v !== 0);
          expect(nonZero, `${variant} ${kind}: ${name}: first non-zero gradient element (value ${grad[nonZero]})`).toBe(-1);
        }
        tf.dispose([labels, logits]);
      });
    }
  }
});

describe('NaN in one logit gives a NaN loss, never a silent number', () => {
  const nanOps = (c: Case): Op[] => [
    ...[{}, { clip: true }, { classWeights: Array(c.shape[3]).fill(0.5) }, { reduction: 'sum' as const },
      { reduction: 'none' as const }].map((opts) => ({
      name: `categoricalCrossEntropy ${JSON.stringify(opts)}`,
      data: c,
      loss: (labels: tf.Tensor, logits: tf.Tensor) => losses.categoricalCrossEntropy(labels, logits, opts),
    })),
    ...diceOps(c),
    ...LOSS_NAMES.map((name) => ({
      name: `segmentationLosses ${name}`,
      data: c,
      loss: (labels: tf.Tensor, logits: tf.Tensor) => losses.segmentationLosses(labels, logits)[name],
    })),
  ];

  // C = 2 (the f32x4 two-class paths), 4 (4×4-transposed channel tiles), 3 (tiles built lane by lane); the NaN in
  // the first logit, a middle one, and the last (in the SIMD build's scalar tail).
  for (const C of [2, 3, 4]) {
    for (const kind of ['onehot', 'index'] as const) {
      for (const variant of [...VARIANTS, 'cpu'] as const) {
        it(`C = ${C}, ${kind} labels, ${variant === 'cpu' ? 'composite on cpu' : `${variant} build`}`, async () => {
          const shape: Shape4 = [1, 7, 9, C];
          const base = makeCase(3 * C, kind, shape);
          const P = shape[1] * shape[2];
          for (const at of [0, Math.floor(P / 2) * C + 1, P * C - 1]) {
            const logits = Float64Array.from(base.logits);
            logits[at] = NaN;
            const c = { ...base, logits };
            const cases = nanOps(c);
            const results = await evaluateOn(variant, cases);
            const pixel = Math.floor(at / C);
            cases.forEach((op, i) => {
              const v = results[i].value;
              // Reduction 'none': the NaN pixel's own loss.
              const loss = v.length === 1 ? v[0] : v[pixel];
              expect(loss, `${variant}: ${op.name}, NaN at logit ${at}: loss`).toBeNaN();
            });
          }
        });
      }
    }
  }
});
