/**
 * The pixel losses (losses.binaryCrossEntropy, losses.focal, categoricalCrossEntropy with label
 * smoothing or probabilities) and the compounds (losses.diceCrossEntropy, losses.diceFocal) on every
 * path — fused SIMD and scalar builds, tfjs-op composite on 'cpu' — against the float64 references
 * of test/reference/pixel64.ts (values; gradients by central differences): activations, C = 1 to
 * 8, rank 3 to 5, label kinds, ignored pixels, every option and reduction. Plus clear errors.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { describe, expect, it } from 'vitest';
import { losses } from '../src/index.js';
import type { Activation } from '../src/losses/types.js';
import { evaluate, expectMatches, LOSS_OPS, makeCase, PATHS, usePath, type LabelKind, type Scenario } from './helpers/engine_cases.js';
import { expectClose } from './helpers/assert.js';
import { mulberry32 } from './helpers/random.js';
import { pixel64, type PixelOp, type PixelOptions64 } from './reference/pixel64.js';

type Case = Scenario<PixelOptions64> & { op: PixelOp };

const OPS = LOSS_OPS;

const SHAPES = (C: number) => [[2, 6, C], [2, 3, 4, C], [2, 2, 3, 2, C]];

function cases(): Case[] {
  const out: Case[] = [];
  /** One case per class count in `Cs`, cycling through ranks and label kinds. */
  const add = (op: PixelOp, activation: Activation, options: PixelOptions64, Cs: number[], kinds: LabelKind[]) => {
    Cs.forEach((C, k) => {
      out.push({ op, activation, shape: SHAPES(C)[(k + out.length) % 3], labelKind: kinds[(k + out.length) % kinds.length], options });
    });
  };
  const sigmoidKinds: LabelKind[] = ['multilabel', 'soft', 'index'];
  const softmaxKinds: LabelKind[] = ['index', 'onehot', 'soft'];
  add('binaryCrossEntropy', 'sigmoid', {}, [1, 2, 3, 5], sigmoidKinds);
  add('binaryCrossEntropy', 'sigmoid', { posWeight: undefined, labelSmoothing: 0.1, reduction: 'sum' }, [1, 4], sigmoidKinds);
  add('binaryCrossEntropy', 'sigmoid', { reduction: 'none' }, [2, 3], sigmoidKinds);
  add('binaryCrossEntropy', 'sigmoid', { ignoreIndex: 7 }, [1, 3], ['index']);
  add('binaryCrossEntropy', 'none', { activation: 'none', labelSmoothing: 0.2 }, [2, 3], ['multilabel']);
  add('focal', 'softmax', {}, [2, 3, 4, 8], softmaxKinds);
  add('focal', 'softmax', { gamma: 0.5, alpha: 0.25, ignoreIndex: 255 }, [2, 5], ['index']);
  add('focal', 'softmax', { gamma: 3, reduction: 'none' }, [3, 4], softmaxKinds);
  add('focal', 'sigmoid', { activation: 'sigmoid', gamma: 2, alpha: 0.25 }, [1, 2, 4], sigmoidKinds);
  add('focal', 'sigmoid', { activation: 'sigmoid', gamma: 1.5, reduction: 'sum', ignoreIndex: 9 }, [1, 3], ['index']);
  add('focal', 'sigmoid', { activation: 'sigmoid', gamma: 0, reduction: 'none' }, [2], ['multilabel']);
  add('focal', 'none', { activation: 'none', gamma: 2 }, [2, 3, 4], ['index', 'onehot']);
  add('categoricalCrossEntropy', 'softmax', { labelSmoothing: 0.1 }, [2, 3, 5, 8], softmaxKinds);
  add('categoricalCrossEntropy', 'softmax', { labelSmoothing: 0.2, ignoreIndex: -1, reduction: 'none' }, [3, 4], ['index']);
  add('categoricalCrossEntropy', 'none', { activation: 'none' }, [2, 3, 4], softmaxKinds);
  add('categoricalCrossEntropy', 'none', { activation: 'none', reduction: 'sum', ignoreIndex: 3 }, [3], ['index']);
  add('diceCrossEntropy', 'softmax', {}, [2, 3, 4, 5], softmaxKinds);
  add('diceCrossEntropy', 'softmax', { lambdaDice: 0.7, lambdaCe: 0.3, dice: { perImage: true, includeBackground: false, epsilon: 1e-5 }, ce: { labelSmoothing: 0.1 } }, [3, 4], softmaxKinds);
  add('diceCrossEntropy', 'softmax', { dice: { jaccard: true }, reduction: 'sum', ignoreIndex: 255 }, [2, 3], ['index']);
  add('diceCrossEntropy', 'sigmoid', { activation: 'sigmoid', ce: { labelSmoothing: 0.05 } }, [1, 2, 3], sigmoidKinds);
  add('diceFocal', 'softmax', { focal: { gamma: 2 } }, [2, 3, 4], softmaxKinds);
  add('diceFocal', 'softmax', { lambdaFocal: 2, dice: { square: true, perImage: true }, focal: { gamma: 1.5, alpha: 0.25, activation: 'sigmoid' } }, [3, 4], softmaxKinds);
  add('diceFocal', 'sigmoid', { activation: 'sigmoid', focal: { alpha: 0.75 }, ignoreIndex: 4 }, [1, 3], ['index']);
  // Per-class weights need C.
  for (const C of [2, 3, 5]) {
    const w = Array.from({ length: C }, (_, c) => 0.5 + 0.75 * c);
    out.push({ op: 'categoricalCrossEntropy', activation: 'softmax', shape: [2, 3, 4, C], labelKind: 'index', options: { classWeights: w, labelSmoothing: 0.15 } });
    out.push({ op: 'binaryCrossEntropy', activation: 'sigmoid', shape: [2, 5, C], labelKind: 'multilabel', options: { posWeight: w } });
    out.push({ op: 'focal', activation: 'softmax', shape: [2, 2, 3, 2, C], labelKind: 'soft', options: { alpha: w } });
    out.push({ op: 'diceCrossEntropy', activation: 'softmax', shape: [2, 3, 3, C], labelKind: 'onehot', options: { dice: { classWeights: w }, ce: { classWeights: w } } });
  }
  // Saturated logits.
  out.push({ op: 'binaryCrossEntropy', activation: 'sigmoid', shape: [2, 4, 3], labelKind: 'multilabel', options: {}, scale: 40 });
  out.push({ op: 'focal', activation: 'softmax', shape: [2, 4, 3], labelKind: 'index', options: { gamma: 2 }, scale: 40 });
  out.push({ op: 'focal', activation: 'sigmoid', shape: [2, 4, 3], labelKind: 'multilabel', options: { activation: 'sigmoid', gamma: 2 }, scale: 40 });
  return out;
}

const CASES = cases();
const name = (c: Case) => `${c.op} ${JSON.stringify(c.options)} [${c.shape.join(',')}] ${c.labelKind}`;

describe('pixel losses and compounds against float64 references', () => {
  it('cover every op, rank and C', () => {
    expect(CASES.length).toBeGreaterThan(60);
    expect(new Set(CASES.map((c) => c.op))).toEqual(new Set<PixelOp>(['binaryCrossEntropy', 'focal', 'categoricalCrossEntropy', 'diceCrossEntropy', 'diceFocal']));
    expect(new Set(CASES.map((c) => c.shape.length))).toEqual(new Set([3, 4, 5]));
  });

  for (const path of PATHS) {
    it.each(CASES.map((c, k) => [name(c), c, k] as const))(`${path}: %s`, async (_, c, k) => {
      await usePath(path);
      const data = makeCase(c, mulberry32(5000 + k));
      const got = evaluate(OPS[c.op], c, data);
      const ref = pixel64(c.op, data, c.options);
      expectMatches(got, ref);
      if ((c.options as { reduction?: string }).reduction === 'none') {
        const perElement = c.op === 'binaryCrossEntropy' || (c.options as { activation?: string }).activation === 'sigmoid';
        expect(got.shape).toEqual(perElement ? c.shape : c.shape.slice(0, -1));
      }
    });
  }
});

describe('bad options', () => {
  const x = (C: number) => tf.zeros([2, 3, C]);
  const y = () => tf.zeros([2, 3], 'int32');
  it.each([
    ['binaryCrossEntropy', 3, { posWeight: [1, 2] }, /posWeight must have one value per class \(3\), got 2/],
    ['binaryCrossEntropy', 3, { labelSmoothing: 1 }, /labelSmoothing must be a number in \[0, 1\), got 1/],
    ['binaryCrossEntropy', 3, { activation: 'softmax' }, /activation must be 'sigmoid' or 'none', got softmax/],
    ['focal', 3, { gamma: -1 }, /gamma must be a finite number ≥ 0, got -1/],
    ['focal', 3, { alpha: -0.5 }, /alpha must be a finite number ≥ 0, got -0.5/],
    ['focal', 3, { activation: 'sigmoid', alpha: 1.5 }, /alpha must be a finite number in \[0, 1\], got 1.5/],
    ['focal', 3, { alpha: [1, 1] }, /alpha must have one value per class \(3\), got 2/],
    ['focal', 1, {}, /activation 'softmax' needs at least 2 classes/],
    ['categoricalCrossEntropy', 3, { clip: true, labelSmoothing: 0.1 }, /clip \(the seed's and Keras' form\) does not take labelSmoothing/],
    ['categoricalCrossEntropy', 3, { activation: 'sigmoid' }, /activation must be 'softmax' or 'none', got sigmoid/],
    ['diceCrossEntropy', 3, { ce: { posWeight: [1, 1, 1] } }, /ce.posWeight is for the binary cross-entropy/],
    ['diceCrossEntropy', 3, { activation: 'sigmoid', ce: { classWeights: [1, 1, 1] } }, /ce.classWeights is for the softmax cross-entropy/],
    ['diceCrossEntropy', 3, { reduction: 'none' }, /reduction must be 'mean' or 'sum', got none/],
    ['diceCrossEntropy', 3, { lambdaCe: -1 }, /lambdaCe must be a finite number ≥ 0, got -1/],
    ['diceCrossEntropy', 3, { dice: { perimage: true } }, /unknown option 'perimage'/],
    ['diceFocal', 3, { focal: { gamma: 2, beta: 1 } }, /unknown option 'beta'/],
    ['diceFocal', 3, { focal: { activation: 'none' } }, /focal.activation must be 'softmax' or 'sigmoid', got none/],
  ] as const)('%s (C = %i) with %j names the problem', async (op, C, opts, message) => {
    await tf.setBackend('cpu');
    expect(() => OPS[op as PixelOp](y(), x(C), opts as never)).toThrow(message);
  });
});

describe('the SIMD build against the scalar build', () => {
  // Past several flush blocks, with tails that are not multiples of 4 pixels; every SIMD pixel path.
  const big: Case[] = [
    { op: 'binaryCrossEntropy', activation: 'sigmoid', shape: [2, 41, 23, 1], labelKind: 'index', options: { labelSmoothing: 0.1, ignoreIndex: 5 } },
    { op: 'binaryCrossEntropy', activation: 'sigmoid', shape: [2, 41, 23, 2], labelKind: 'multilabel', options: { posWeight: [2, 0.5] } },
    { op: 'binaryCrossEntropy', activation: 'sigmoid', shape: [2, 41, 23, 8], labelKind: 'soft', options: { reduction: 'none' } },
    { op: 'focal', activation: 'sigmoid', shape: [2, 41, 23, 4], labelKind: 'multilabel', options: { activation: 'sigmoid', gamma: 1.5, alpha: 0.25 } },
    { op: 'focal', activation: 'softmax', shape: [2, 41, 23, 4], labelKind: 'index', options: { gamma: 0.5, alpha: 0.75, ignoreIndex: 255 } },
    { op: 'focal', activation: 'softmax', shape: [2, 9, 9, 9, 8], labelKind: 'soft', options: { reduction: 'none' } },
    { op: 'categoricalCrossEntropy', activation: 'softmax', shape: [2, 41, 23, 4], labelKind: 'index', options: { labelSmoothing: 0.1, classWeights: [1, 2, 0.5, 3] } },
    { op: 'categoricalCrossEntropy', activation: 'softmax', shape: [2, 41, 23, 8], labelKind: 'onehot', options: { labelSmoothing: 0.2, reduction: 'none' } },
    { op: 'diceCrossEntropy', activation: 'softmax', shape: [2, 41, 23, 4], labelKind: 'index', options: { ignoreIndex: 9, dice: { perImage: true } } },
    { op: 'diceCrossEntropy', activation: 'sigmoid', shape: [2, 41, 23, 2], labelKind: 'multilabel', options: { activation: 'sigmoid' } },
    { op: 'diceFocal', activation: 'softmax', shape: [2, 41, 23, 4], labelKind: 'soft', options: { focal: { activation: 'sigmoid', gamma: 2 } } },
    { op: 'diceFocal', activation: 'softmax', shape: [2, 41, 23, 2], labelKind: 'index', options: { focal: { activation: 'sigmoid' } } },
    // Sigmoid pixel terms over C = 3, 5, 6 with float labels (periods of 3, 5, 3 vectors).
    { op: 'binaryCrossEntropy', activation: 'sigmoid', shape: [2, 41, 23, 3], labelKind: 'multilabel', options: { posWeight: [1, 2, 0.5] } },
    { op: 'focal', activation: 'sigmoid', shape: [2, 41, 23, 5], labelKind: 'soft', options: { activation: 'sigmoid', gamma: 2, alpha: 0.25, reduction: 'none' } },
    { op: 'diceCrossEntropy', activation: 'sigmoid', shape: [2, 9, 9, 9, 6], labelKind: 'multilabel', options: { activation: 'sigmoid' } },
    // Softmax pixel terms over C = 3 and 5 (channel vectors built lane by lane).
    { op: 'categoricalCrossEntropy', activation: 'softmax', shape: [2, 41, 23, 3], labelKind: 'index', options: { labelSmoothing: 0.1, classWeights: [0.5, 2, 1], ignoreIndex: 7 } },
    { op: 'focal', activation: 'softmax', shape: [2, 41, 23, 5], labelKind: 'soft', options: { gamma: 2, alpha: 0.25 } },
    { op: 'diceCrossEntropy', activation: 'softmax', shape: [2, 41, 23, 3], labelKind: 'index', options: { ce: { labelSmoothing: 0.1 } } },
    { op: 'diceFocal', activation: 'softmax', shape: [2, 9, 9, 9, 5], labelKind: 'onehot', options: { focal: { gamma: 1.5 } } },
    // Two-class softmax pixel terms (σ of the difference).
    { op: 'categoricalCrossEntropy', activation: 'softmax', shape: [2, 41, 23, 2], labelKind: 'index', options: { labelSmoothing: 0.1, classWeights: [0.5, 2], ignoreIndex: 7 } },
    { op: 'categoricalCrossEntropy', activation: 'softmax', shape: [2, 41, 23, 2], labelKind: 'soft', options: { labelSmoothing: 0.2, reduction: 'none' } },
    { op: 'focal', activation: 'softmax', shape: [2, 41, 23, 2], labelKind: 'index', options: { gamma: 2, alpha: 0.25 } },
    { op: 'focal', activation: 'softmax', shape: [2, 9, 9, 9, 2], labelKind: 'soft', options: { gamma: 0.5, reduction: 'sum' } },
    { op: 'diceCrossEntropy', activation: 'softmax', shape: [2, 41, 23, 2], labelKind: 'index', options: { dice: { perImage: true }, ce: { labelSmoothing: 0.1 }, ignoreIndex: 7 } },
    { op: 'diceFocal', activation: 'softmax', shape: [2, 41, 23, 2], labelKind: 'onehot', options: { focal: { gamma: 1.5 } } },
    // Sigmoid pixel terms with class indices where C ∤ 4 and 4 ∤ C (vectors spanning two pixels).
    { op: 'binaryCrossEntropy', activation: 'sigmoid', shape: [2, 41, 23, 3], labelKind: 'index', options: { ignoreIndex: 1, posWeight: [1, 2, 0.5] } },
    { op: 'focal', activation: 'sigmoid', shape: [2, 41, 23, 5], labelKind: 'index', options: { activation: 'sigmoid', gamma: 2, alpha: 0.25, reduction: 'none' } },
    { op: 'diceCrossEntropy', activation: 'sigmoid', shape: [2, 9, 9, 9, 6], labelKind: 'index', options: { activation: 'sigmoid', ignoreIndex: 2 } },
    { op: 'diceFocal', activation: 'sigmoid', shape: [2, 41, 23, 7], labelKind: 'index', options: { activation: 'sigmoid', focal: { gamma: 1.5 } } },
    // Sigmoid compounds in one pass each way (p = σ(z) shared; BCE's gradient from p).
    { op: 'diceCrossEntropy', activation: 'sigmoid', shape: [2, 41, 23, 1], labelKind: 'index', options: { activation: 'sigmoid', ignoreIndex: 5, ce: { posWeight: [3], labelSmoothing: 0.1 } } },
    { op: 'diceCrossEntropy', activation: 'sigmoid', shape: [2, 41, 23, 4], labelKind: 'soft', options: { activation: 'sigmoid', reduction: 'sum', dice: { perImage: true } } },
    { op: 'diceFocal', activation: 'sigmoid', shape: [2, 41, 23, 1], labelKind: 'multilabel', options: { activation: 'sigmoid', focal: { alpha: 0.25, gamma: 2 } } },
    { op: 'diceFocal', activation: 'sigmoid', shape: [2, 9, 9, 9, 3], labelKind: 'onehot', options: { activation: 'sigmoid', lambdaFocal: 0.5, focal: { gamma: 0.5 } } },
    // Probabilities given (activation 'none'): CE and softmax focal on channel tiles, BCE on vectors.
    { op: 'categoricalCrossEntropy', activation: 'none', shape: [2, 41, 23, 4], labelKind: 'index', options: { activation: 'none', ignoreIndex: 9, classWeights: [1, 2, 0.5, 3] } },
    { op: 'categoricalCrossEntropy', activation: 'none', shape: [2, 41, 23, 3], labelKind: 'soft', options: { activation: 'none', labelSmoothing: 0.1, reduction: 'none' } },
    { op: 'categoricalCrossEntropy', activation: 'none', shape: [2, 9, 9, 9, 2], labelKind: 'onehot', options: { activation: 'none', reduction: 'sum' } },
    { op: 'focal', activation: 'none', shape: [2, 41, 23, 2], labelKind: 'index', options: { activation: 'none', gamma: 2, reduction: 'none', ignoreIndex: 3 } },
    { op: 'focal', activation: 'none', shape: [2, 41, 23, 4], labelKind: 'index', options: { activation: 'none', gamma: 2, alpha: 0.25 } },
    { op: 'focal', activation: 'none', shape: [2, 41, 23, 5], labelKind: 'onehot', options: { activation: 'none', gamma: 0.5, reduction: 'none' } },
    { op: 'binaryCrossEntropy', activation: 'none', shape: [2, 41, 23, 1], labelKind: 'multilabel', options: { activation: 'none', labelSmoothing: 0.1 } },
    { op: 'binaryCrossEntropy', activation: 'none', shape: [2, 41, 23, 3], labelKind: 'multilabel', options: { activation: 'none', posWeight: [1, 2, 0.5], reduction: 'none' } },
    // The compounds whose softmax pixel term rides in the region part's softmax (one pass each way).
    { op: 'diceFocal', activation: 'softmax', shape: [2, 41, 23, 4], labelKind: 'index', options: { focal: { gamma: 2, alpha: 0.25 }, ignoreIndex: 9, reduction: 'sum' } },
    { op: 'diceFocal', activation: 'softmax', shape: [2, 41, 23, 2], labelKind: 'index', options: { lambdaFocal: 0.5, focal: { gamma: 0.5 }, ignoreIndex: 3 } },
    { op: 'diceFocal', activation: 'softmax', shape: [2, 9, 9, 9, 8], labelKind: 'soft', options: { dice: { perImage: true }, focal: { gamma: 3 } } },
    { op: 'diceCrossEntropy', activation: 'softmax', shape: [2, 41, 23, 8], labelKind: 'soft', options: { lambdaCe: 0.5, ce: { classWeights: [1, 2, 0.5, 3, 1, 1, 0.25, 2], labelSmoothing: 0.1 } } },
    { op: 'diceCrossEntropy', activation: 'softmax', shape: [2, 41, 23, 2], labelKind: 'onehot', options: { reduction: 'sum', ce: { classWeights: [0.5, 2] } } },
  ];
  it.each(big.map((c, k) => [name(c), c, k] as const))('%s: the same values and gradients, to float32 summation order', async (_, c, k) => {
    const data = makeCase(c, mulberry32(900 + k));
    const results = [];
    for (const variant of ['simd', 'scalar'] as const) {
      await usePath(variant);
      results.push(evaluate(OPS[c.op], c, data));
    }
    const [simd, scalar] = results;
    expectClose(simd.value, scalar.value, { abs: 1e-6, rel: 2e-5 }, 'value');
    const scale = scalar.grad.reduce((m, g) => Math.max(m, Math.abs(g)), 0);
    expectClose(simd.grad, scalar.grad, { abs: 1e-5 * scale, rel: 1e-4 }, 'grad');
  });
});

describe('probabilities given at the edges of [0, 1]', () => {
  // Exact 0s and 1s (a saturated softmax layer): the logs clamp at −100 and ∂/∂p divides by a
  // floored p (or p (1 − p)), on the SIMD paths as in the scalar twins.
  const edge: Case[] = [
    { op: 'categoricalCrossEntropy', activation: 'none', shape: [2, 13, 11, 4], labelKind: 'index', options: { activation: 'none', labelSmoothing: 0.1 } },
    { op: 'focal', activation: 'none', shape: [2, 13, 11, 3], labelKind: 'onehot', options: { activation: 'none', gamma: 2 } },
    { op: 'binaryCrossEntropy', activation: 'none', shape: [2, 13, 11, 2], labelKind: 'multilabel', options: { activation: 'none' } },
  ];
  it.each(edge.map((c, k) => [name(c), c, k] as const))('%s: SIMD = scalar, finite', async (_, c, k) => {
    const data = makeCase(c, mulberry32(950 + k));
    const C = c.shape[c.shape.length - 1];
    const input = Float64Array.from(data.input);
    for (let i = 0; i < input.length; i += 7 * C) {
      // One pixel in seven saturated: all its mass on one class (BCE: a 0 and a 1).
      for (let j = 0; j < C; j++) input[i + j] = j === (i / C) % C ? 1 : 0;
    }
    const edged = { ...data, input };
    const results = [];
    for (const variant of ['simd', 'scalar'] as const) {
      await usePath(variant);
      results.push(evaluate(OPS[c.op], c, edged));
    }
    const [simd, scalar] = results;
    expect(Array.from(simd.value).every(Number.isFinite) && Array.from(simd.grad).every(Number.isFinite)).toBe(true);
    expectClose(simd.value, scalar.value, { abs: 1e-5, rel: 2e-5 }, 'value');
    const scale = scalar.grad.reduce((m, g) => Math.max(m, Math.abs(g)), 0);
    expectClose(simd.grad, scalar.grad, { abs: 1e-5 * scale, rel: 1e-4 }, 'grad');
  });
});

describe('every pixel ignored', () => {
  // No pixel counts: region losses score ε_n / ε_d = 1 (loss 0) with a zero gradient; the pixel
  // losses' means are 0 with a zero gradient too, on every path (PyTorch's cross-entropy gives
  // 0/0 = NaN, which segloss's trainers would take for divergence), and their sums are 0.
  const all: [string, (y: tf.Tensor, z: tf.Tensor) => tf.Tensor, number][] = [
    ['dice', (y, z) => losses.dice(y, z, { ignoreIndex: 9, jaccard: true }), 0],
    ['generalizedDice', (y, z) => losses.generalizedDice(y, z, { ignoreIndex: 9 }), 0],
    ['tversky', (y, z) => losses.tversky(y, z, { ignoreIndex: 9, gamma: 2 }), 0],
    ['lovaszSoftmax', (y, z) => losses.lovaszSoftmax(y, z, { ignoreIndex: 9 }), 0],
    ['focal, sum', (y, z) => losses.focal(y, z, { ignoreIndex: 9, reduction: 'sum' }), 0],
    ['binaryCrossEntropy, sum', (y, z) => losses.binaryCrossEntropy(y, z, { ignoreIndex: 9, reduction: 'sum' }), 0],
    ['categoricalCrossEntropy, label smoothing', (y, z) => losses.categoricalCrossEntropy(y, z, { ignoreIndex: 9, labelSmoothing: 0.1 }), 0],
    ['focal', (y, z) => losses.focal(y, z, { ignoreIndex: 9 }), 0],
    ['binaryCrossEntropy', (y, z) => losses.binaryCrossEntropy(y, z, { ignoreIndex: 9 }), 0],
    ['diceCrossEntropy', (y, z) => losses.diceCrossEntropy(y, z, { ignoreIndex: 9 }), 0],
    ['categoricalCrossEntropy', (y, z) => losses.categoricalCrossEntropy(y, z, { ignoreIndex: 9 }), 0],
    ['categoricalCrossEntropy, class weights', (y, z) => losses.categoricalCrossEntropy(y, z, { ignoreIndex: 9, classWeights: [1, 2, 3, 4] }), 0],
  ];
  for (const path of ['simd', 'scalar', 'composite'] as const) {
    it.each(all)(`${path}: %s gives %s`, async (_, loss, expected) => {
      await usePath(path);
      const y = tf.fill([2, 3, 5], 9, 'int32');
      const z = tf.randomNormal([2, 3, 5, 4], 0, 2, 'float32', 3);
      const value = tf.tidy(() => loss(y, z).dataSync()[0]);
      if (Number.isNaN(expected)) expect(value).toBeNaN();
      else expect(value).toBe(expected);
      if (!Number.isNaN(expected)) {
        const grad = tf.tidy(() => Array.from(tf.grad((x: tf.Tensor) => loss(y, x))(z).dataSync()));
        expect(grad.every((g) => g === 0)).toBe(true);
      }
      tf.dispose([y, z]);
    });
  }
});
