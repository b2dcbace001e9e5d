/**
 * The public loss ops on the wasm backend, used the way training code uses them: inside tf.grad,
 * tf.variableGrads, optimizer.minimize, tf.tidy and tfjs-layers' model.fit, without leaking
 * tensors; gradients w.r.t. logits as the 'cpu' backend's composite gives them (w.r.t. labels: a
 * clear error on the fused path); and
 * every bad input rejected with an Error that names the argument, the expected and the actual.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { kernelVariant, losses, setupWasmKernels } from '../src/index.js';
import { LOSS_NAMES } from '../src/losses/types.js';
import type { BackendWasm } from '../src/wasm/backend.js';
import { expectClose } from './helpers/assert.js';
import { mulberry32, randomIndexLabels, randomLogits } from './helpers/random.js';
import { useWasm } from './helpers/wasm.js';

type Shape4 = [number, number, number, number];
type LossFn = (labels: tf.Tensor, logits: tf.Tensor) => tf.Scalar;

// Two float32 computations of the same loss in different orders (fused kernel vs tfjs ops):
// a few ulps apart on values of order 1 and gradients of order 1/P.
const F32_TOL = { abs: 2e-6, rel: 1e-4 };

const classWeightsFor = (logits: tf.Tensor) => Array.from({ length: logits.shape[3] ?? 0 }, (_, c) => 0.5 + c);

/** Weights 0.5 … 2 over the pixels, so a per-pixel loss is reduced with a non-uniform dy. */
const pixelWeights = (logits: tf.Tensor) => {
  const [N, H, W] = logits.shape;
  return tf.reshape(tf.linspace(0.5, 2, N * H * W), [N, H, W]);
};

/** Every public op and option family, as a scalar loss of (labels, logits). */
const OPS: { name: string; loss: LossFn }[] = [
  { name: 'cce', loss: (y, z) => losses.categoricalCrossEntropy(y, z) as tf.Scalar },
  { name: 'cce clip', loss: (y, z) => losses.categoricalCrossEntropy(y, z, { clip: true, epsilon: 1e-3 }) as tf.Scalar },
  { name: 'cce classWeights sum', loss: (y, z) =>
    losses.categoricalCrossEntropy(y, z, { classWeights: classWeightsFor(z), reduction: 'sum' }) as tf.Scalar },
  { name: 'cce none, pixel-weighted sum', loss: (y, z) =>
    tf.sum(tf.mul(losses.categoricalCrossEntropy(y, z, { reduction: 'none' }), pixelWeights(z))) },
  { name: 'dice', loss: (y, z) => losses.dice(y, z) },
  { name: 'dice square', loss: (y, z) => losses.dice(y, z, { square: true }) },
  { name: 'dice foreground per image', loss: (y, z) => losses.dice(y, z, { includeBackground: false, perImage: true }) },
  ...LOSS_NAMES.map((name) => ({
    name: `segmentationLosses.${name}`,
    loss: (y: tf.Tensor, z: tf.Tensor) => losses.segmentationLosses(y, z)[name],
  })),
  { name: 'segmentationLosses weighted sum', loss: (y, z) => {
    const all = losses.segmentationLosses(y, z);
    return LOSS_NAMES.map((name, i) => tf.mul(all[name], i - 1.5)).reduce((a, b) => tf.add(a, b)) as tf.Scalar;
  } },
];

/** Seeded inputs as plain arrays, so each backend builds its own tensors from the same numbers. */
interface Data {
  shape: Shape4;
  logits: Float32Array;
  oneHot: Float32Array;
  index: Int32Array;
}

function makeData(shape: Shape4, seed: number): Data {
  const [N, H, W, C] = shape;
  const P = N * H * W;
  const rng = mulberry32(seed);
  const logits = Float32Array.from(randomLogits(rng, P * C, 3));
  const index = randomIndexLabels(rng, P, C);
  const oneHot = new Float32Array(P * C);
  index.forEach((c, i) => (oneHot[i * C + c] = 1));
  return { shape, logits, oneHot, index };
}

/** Tensors of `d` on the current backend. */
function tensorsOf(d: Data) {
  const [N, H, W] = d.shape;
  return {
    logits: tf.tensor4d(d.logits, d.shape),
    oneHot: tf.tensor4d(d.oneHot, d.shape),
    index: tf.tensor3d(d.index, [N, H, W], 'int32'),
  };
}

async function onBackend<T>(name: 'cpu' | 'wasm', body: () => T): Promise<T> {
  await tf.setBackend(name);
  try {
    return body();
  } finally {
    await tf.setBackend('wasm');
  }
}

/** The loss on one-hot labels and its gradient with respect to `wrt`, on the current backend. */
function valueAndGrad(loss: LossFn, d: Data, wrt: 'logits' | 'labels'): Float32Array[] {
  return tf.tidy(() => {
    const { oneHot, logits } = tensorsOf(d);
    const grad = wrt === 'logits'
      ? tf.grad((z: tf.Tensor) => loss(oneHot, z))(logits)
      : tf.grad((y: tf.Tensor) => loss(y, logits))(oneHot);
    return [loss(oneHot, logits), grad].map((t) => t.dataSync() as Float32Array);
  });
}

const memoryCounts = () => {
  const { numTensors, numDataBuffers, numBytes } = tf.memory();
  return { numTensors, numDataBuffers, numBytes };
};

beforeAll(async () => {
  await useWasm('simd');
});

describe('inside tfjs autodiff', () => {
  const opsByClasses = [2, 3].flatMap((C) => OPS.map((op) => ({ ...op, C })));

  it.each(opsByClasses)('tf.grad w.r.t. logits equals the cpu composite\'s: $name, C=$C', async ({ loss, C }) => {
    const d = makeData([2, 3, 5, C], 100 + C);
    const [value, grad] = valueAndGrad(loss, d, 'logits');
    const [cpuValue, cpuGrad] = await onBackend('cpu', () => valueAndGrad(loss, d, 'logits'));
    expectClose(value, cpuValue, F32_TOL, 'value');
    expectClose(grad, cpuGrad, F32_TOL, 'dLoss/dlogits');
  });

  // The fused path makes the ops differentiable in logits only (src/losses/fused.ts): a gradient
  // with respect to labels is tfjs's own clear error. (tfjs throws it before releasing what the
  // recorded ops saved for backprop, so that misuse leaves the saved gradient behind: tfjs's
  // behaviour for any tf.customGrad op, not checked here.)
  it.each(OPS)('tf.grad w.r.t. one-hot labels is a clear error on the fused path: $name', async ({ loss }) => {
    const d = makeData([2, 3, 5, 3], 200);
    const cpuGrad = (await onBackend('cpu', () => valueAndGrad(loss, d, 'labels')))[1];
    expect(cpuGrad.every(Number.isFinite)).toBe(true);
    expect(() => valueAndGrad(loss, d, 'labels')).toThrow(/Cannot compute gradient of y=f\(x\) with respect to x/);
  });

  it.each(OPS)('tf.variableGrads gives tf.grad\'s gradient: $name', ({ loss }) => {
    const d = makeData([2, 3, 5, 3], 7);
    tf.tidy(() => {
      const { index, logits } = tensorsOf(d);
      const v = tf.variable(logits);
      const { value, grads } = tf.variableGrads(() => loss(index, v));
      expect(value.dataSync()).toEqual(loss(index, logits).dataSync());
      expect(grads[v.name].dataSync()).toEqual(tf.grad((z: tf.Tensor) => loss(index, z))(logits).dataSync());
      v.dispose();
    });
  });

  // Labels made inside the differentiated function (a cast in a tfjs-layers loss, say) are disposed
  // after the forward pass unless the op saves them for its backward pass.
  const ZOO: { name: string; loss: LossFn }[] = [
    ...OPS,
    { name: 'dice jaccard, sum', loss: (y, z) => losses.dice(y, z, { jaccard: true, reduction: 'sum' }) as tf.Scalar },
    { name: 'generalizedDice', loss: (y, z) => losses.generalizedDice(y, z) as tf.Scalar },
    { name: 'tversky', loss: (y, z) => losses.tversky(y, z, { alpha: 0.3, beta: 0.7 }) as tf.Scalar },
    { name: 'focal', loss: (y, z) => losses.focal(y, z) as tf.Scalar },
    { name: 'cce label smoothing', loss: (y, z) => losses.categoricalCrossEntropy(y, z, { labelSmoothing: 0.1 }) as tf.Scalar },
    { name: 'diceCrossEntropy', loss: (y, z) => losses.diceCrossEntropy(y, z) as tf.Scalar },
    { name: 'diceFocal', loss: (y, z) => losses.diceFocal(y, z) as tf.Scalar },
    { name: 'lovaszSoftmax', loss: (y, z) => losses.lovaszSoftmax(y, z) as tf.Scalar },
  ];
  it.each(ZOO)('labels made inside tf.grad\'s function: $name', ({ loss }) => {
    const d = makeData([2, 3, 5, 3], 31);
    tf.tidy(() => {
      const { index, logits } = tensorsOf(d);
      const asFloat = tf.cast(index, 'float32');
      const inside = tf.grad((z: tf.Tensor) => loss(tf.cast(asFloat, 'int32'), z))(logits);
      const outside = tf.grad((z: tf.Tensor) => loss(index, z))(logits);
      expect(inside.dataSync()).toEqual(outside.dataSync());
    });
  });

  it.each(OPS)('sgd minimize lowers the loss over 20 steps: $name', ({ loss }) => {
    const d = makeData([1, 4, 4, 3], 21);
    const { index, logits } = tensorsOf(d);
    const v = tf.variable(logits);
    const optimizer = tf.train.sgd(0.5);
    const cost = () => loss(index, v);
    const first = tf.tidy(() => cost().dataSync()[0]);
    for (let step = 0; step < 20; step++) optimizer.minimize(cost);
    const last = tf.tidy(() => cost().dataSync()[0]);
    expect(Number.isFinite(last)).toBe(true);
    expect(last).toBeLessThan(first);
    tf.dispose([index, logits, v]);
    optimizer.dispose();
  });
});

describe('no tensor leaks', () => {
  it.each(OPS)('a forward call and a tf.grad call inside tf.tidy leave nothing: $name', ({ loss }) => {
    const { index, oneHot, logits } = tensorsOf(makeData([2, 3, 5, 2], 3));
    for (const labels of [index, oneHot]) {
      const before = memoryCounts();
      tf.tidy(() => {
        loss(labels, logits);
      });
      expect(memoryCounts(), 'forward').toEqual(before);
      tf.tidy(() => {
        tf.grad((z: tf.Tensor) => loss(labels, z))(logits);
      });
      expect(memoryCounts(), 'tf.grad').toEqual(before);
    }
    tf.dispose([index, oneHot, logits]);
  });

  it.each(OPS)('50 optimizer.minimize steps hold the tensor count flat after the first: $name', ({ loss }) => {
    const { index, logits } = tensorsOf(makeData([1, 4, 4, 2], 5));
    const v = tf.variable(logits);
    const optimizer = tf.train.adam(0.01); // adam: its state tensors appear on step 1
    const step = () => optimizer.minimize(() => loss(index, v));
    step();
    const afterFirst = memoryCounts();
    for (let i = 1; i < 50; i++) step();
    expect(memoryCounts()).toEqual(afterFirst);
    tf.dispose([index, logits, v]);
    optimizer.dispose();
  });
});

describe('setupWasmKernels', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('is idempotent: same result, same numbers, no re-registration', async () => {
    const d = makeData([2, 3, 5, 3], 9);
    const results = () => OPS.flatMap(({ loss }) => valueAndGrad(loss, d, 'logits').map((a) => Array.from(a)));
    const before = results();
    const warn = vi.spyOn(console, 'warn');
    const first = await setupWasmKernels();
    const second = await setupWasmKernels();
    expect(first).toEqual({ variant: 'simd' });
    expect(second).toEqual(first);
    expect(kernelVariant()).toBe('simd');
    expect(warn).not.toHaveBeenCalled(); // tfjs warns when a kernel or gradient is registered twice
    expect(results()).toEqual(before);
  });
});

// ---------------------------------------------------------------------------------------------
// Bad input.

const SHAPE: Shape4 = [2, 4, 4, 2];
const DATA = makeData(SHAPE, 1);
const LABELS_EXPECTED = 'float32 one-hot [2,4,4,2] or int32 class indices [2,4,4]';
/** dice and categoricalCrossEntropy take any rank (the region losses' input checks): what they say instead. */
const DICE_LABELS_EXPECTED = 'float32 [2,4,4,2] (one-hot, soft or multi-label) or int32 class indices [2,4,4]';

type OpName = 'categoricalCrossEntropy' | 'dice' | 'segmentationLosses';
const OP_NAMES: OpName[] = ['categoricalCrossEntropy', 'dice', 'segmentationLosses'];
const callOp = (op: OpName, labels: unknown, logits: unknown, opts?: unknown) =>
  (losses[op] as (...args: unknown[]) => unknown)(labels, logits, opts);

/**
 * Calls `run` with fresh arguments and checks that it throws an Error containing every part of
 * `message`, and that the failed call left no tensor behind.
 */
function expectRejected(make: () => unknown[], run: (args: unknown[]) => unknown, message: string[]): void {
  const args = make();
  const before = tf.memory().numTensors;
  let error: unknown;
  try {
    run(args);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(Error);
  for (const part of message) expect((error as Error).message).toContain(part);
  expect(tf.memory().numTensors, 'tensors left by the failed call').toBe(before);
  tf.dispose(args.filter((a): a is tf.Tensor => a instanceof tf.Tensor));
}

const logits = () => tf.tensor4d(DATA.logits, SHAPE);
const oneHot = () => tf.tensor4d(DATA.oneHot, SHAPE);
const index = () => tf.tensor3d(DATA.index, [2, 4, 4], 'int32');

/** Bad (labels, logits) pairs: every op must reject them the same way. */
/** `message`: segmentationLosses (rank 4 only); `dice`: the ops of any rank. */
const INPUT_CASES: { name: string; make: () => unknown[]; message: string[]; dice?: string[] }[] = [
  { name: 'one-hot labels of another shape', make: () => [tf.zeros([2, 4, 4, 3]), logits()],
    message: ['labels must be', LABELS_EXPECTED, 'got float32 [2,4,4,3]'], dice: ['labels must be', DICE_LABELS_EXPECTED, 'got float32 [2,4,4,3]'] },
  { name: 'index labels of another shape', make: () => [tf.zeros([2, 4, 5], 'int32'), logits()],
    message: ['labels must be', LABELS_EXPECTED, 'got int32 [2,4,5]'], dice: ['labels must be', DICE_LABELS_EXPECTED, 'got int32 [2,4,5]'] },
  { name: 'int32 labels of rank 4', make: () => [tf.zeros(SHAPE, 'int32'), logits()],
    message: ['labels must be', LABELS_EXPECTED, 'got int32 [2,4,4,2]'], dice: ['labels must be', DICE_LABELS_EXPECTED, 'got int32 [2,4,4,2]'] },
  { name: 'float32 labels of rank 3', make: () => [tf.zeros([2, 4, 4]), logits()],
    message: ['labels must be', LABELS_EXPECTED, 'got float32 [2,4,4]'], dice: ['labels must be', DICE_LABELS_EXPECTED, 'got float32 [2,4,4]'] },
  { name: 'bool labels', make: () => [tf.zeros([2, 4, 4], 'bool'), logits()],
    message: ['labels must be', LABELS_EXPECTED, 'got bool [2,4,4]'], dice: ['labels must be', DICE_LABELS_EXPECTED, 'got bool [2,4,4]'] },
  { name: 'int32 logits', make: () => [index(), tf.zeros(SHAPE, 'int32')],
    message: ['logits must be float32 [N,H,W,C]', 'got int32 [2,4,4,2]'],
    dice: ['logits must be float32 [N, ...spatial, C] with 1, 2 or 3 spatial axes (rank 3 to 5)', 'got int32 [2,4,4,2]'] },
  { name: 'logits of rank 2', make: () => [tf.zeros([2], 'int32'), tf.zeros([2, 4])],
    message: ['logits must be float32 [N,H,W,C]', 'got float32 [2,4]'],
    dice: ['logits must be float32 [N, ...spatial, C] with 1, 2 or 3 spatial axes (rank 3 to 5)', 'got float32 [2,4]'] },
  { name: 'empty tensors', make: () => [tf.zeros([0, 4, 4, 2]), tf.zeros([0, 4, 4, 2])],
    message: ['logits must not be empty', '[0,4,4,2]'] },
  { name: 'an array as labels', make: () => [[[[[1, 0]]]], logits()],
    message: ['labels must be a tf.Tensor', 'got object'] },
  { name: 'no logits', make: () => [oneHot(), undefined],
    message: ['logits must be a tf.Tensor', 'got undefined'] },
  { name: 'a number as logits', make: () => [index(), 3],
    message: ['logits must be a tf.Tensor', 'got number'] },
];

const ONE_CLASS = () => [tf.zeros([2, 4, 4, 1]), tf.zeros([2, 4, 4, 1])];

/** Bad options, or inputs bad only for one op: [op, labels and logits, options, message]. */
const OPTION_CASES: { op: OpName; name: string; make: () => unknown[]; opts: unknown; message: string[] }[] = [
  ...OP_NAMES.filter((op) => op !== 'dice').flatMap((op) => [NaN, -1, 0, Infinity].map((epsilon) => ({
    op, name: `epsilon ${epsilon}`, make: () => [oneHot(), logits()], opts: { epsilon },
    message: ['epsilon must be a finite number in (0, ', `got ${epsilon}`] }))),
  // Dice's ε may be 0 (every class known present), as MONAI's smooth_nr / smooth_dr.
  ...[NaN, -1, Infinity].map((epsilon) => ({
    op: 'dice' as const, name: `epsilon ${epsilon}`, make: () => [oneHot(), logits()], opts: { epsilon },
    message: ['epsilon must be a finite number ≥ 0', `got ${epsilon}`] })),
  ...OP_NAMES.map((op) => ({ op, name: 'null options', make: () => [oneHot(), logits()], opts: null,
    message: ['options must be an object', 'got null'] })),
  ...OP_NAMES.map((op) => ({ op, name: 'an unknown option', make: () => [oneHot(), logits()], opts: { weights: [1, 1] },
    message: ["unknown option 'weights'", 'known: '] })),
  { op: 'categoricalCrossEntropy', name: 'epsilon 0.5', make: () => [oneHot(), logits()], opts: { epsilon: 0.5 },
    message: ['epsilon must be a finite number in (0, 0.5)', 'got 0.5'] },
  { op: 'categoricalCrossEntropy', name: 'too few classWeights', make: () => [oneHot(), logits()], opts: { classWeights: [1] },
    message: ['classWeights must have one weight per class (2)', 'got 1'] },
  { op: 'categoricalCrossEntropy', name: 'too many classWeights', make: () => [index(), logits()], opts: { classWeights: [1, 1, 1] },
    message: ['classWeights must have one weight per class (2)', 'got 3'] },
  { op: 'categoricalCrossEntropy', name: 'a NaN class weight', make: () => [oneHot(), logits()], opts: { classWeights: [1, NaN] },
    message: ['classWeights[1] must be a finite number ≥ 0', 'got NaN'] },
  { op: 'categoricalCrossEntropy', name: 'a negative class weight', make: () => [oneHot(), logits()], opts: { classWeights: [-0.5, 1] },
    message: ['classWeights[0] must be a finite number ≥ 0', 'got -0.5'] },
  { op: 'categoricalCrossEntropy', name: 'an infinite class weight', make: () => [oneHot(), logits()], opts: { classWeights: [1, Infinity] },
    message: ['classWeights[1] must be a finite number ≥ 0', 'got Infinity'] },
  { op: 'categoricalCrossEntropy', name: 'classWeights not an array', make: () => [oneHot(), logits()], opts: { classWeights: 2 },
    message: ['classWeights must be an array of 2 numbers', 'got 2'] },
  { op: 'categoricalCrossEntropy', name: "reduction 'avg'", make: () => [oneHot(), logits()], opts: { reduction: 'avg' },
    message: ["reduction must be 'mean', 'sum' or 'none'", 'got avg'] },
  { op: 'categoricalCrossEntropy', name: 'ignoreIndex with one-hot labels', make: () => [oneHot(), logits()], opts: { ignoreIndex: 0 },
    message: ['ignoreIndex applies to int32 class-index labels only', 'got labels float32 [2,4,4,2]'] },
  { op: 'categoricalCrossEntropy', name: 'a fractional ignoreIndex', make: () => [index(), logits()], opts: { ignoreIndex: 0.5 },
    message: ['ignoreIndex must be an int32 integer', 'got 0.5'] },
  { op: 'categoricalCrossEntropy', name: 'a non-boolean clip', make: () => [oneHot(), logits()], opts: { clip: 'yes' },
    message: ['clip must be a boolean', 'got yes'] },
  { op: 'dice', name: 'a non-boolean square', make: () => [oneHot(), logits()], opts: { square: 1 },
    message: ['square must be a boolean', 'got 1'] },
  { op: 'dice', name: 'includeBackground false with C = 1', make: ONE_CLASS, opts: { includeBackground: false },
    message: ["activation 'softmax' needs at least 2 classes", 'got C = 1'] },
  { op: 'dice', name: 'includeBackground false with C = 1, sigmoid', make: ONE_CLASS, opts: { includeBackground: false, activation: 'sigmoid' },
    message: ['includeBackground: false needs at least 2 classes', 'got C = 1'] },
  { op: 'segmentationLosses', name: 'C = 1', make: ONE_CLASS, opts: {},
    message: ['logits must have at least 2 classes', 'got C = 1'] },
];

/** Index labels with `value` at pixel [1, 2, 3] (flat pixel 27). */
const indexWith = (value: number) => () => {
  const values = DATA.index.slice();
  values[1 * 16 + 2 * 4 + 3] = value;
  return [tf.tensor3d(values, [2, 4, 4], 'int32'), logits()];
};

describe('bad input is rejected with a precise Error and leaks nothing', () => {
  const inputCases = INPUT_CASES.flatMap((c) => OP_NAMES.map((op) => ({ ...c, op })));

  it.each(inputCases)('$op: $name', ({ op, make, message, dice }) => {
    expectRejected(make, ([y, z]) => callOp(op, y, z), [`segloss.losses.${op}: `, ...(op !== 'segmentationLosses' && dice ? dice : message)]);
  });

  it.each(OPTION_CASES)('$op: $name', ({ op, make, opts, message }) => {
    expectRejected(make, ([y, z]) => callOp(op, y, z, opts), [`segloss.losses.${op}: `, ...message]);
  });

  const rangeCases = (['wasm', 'cpu'] as const).flatMap((backend) => OP_NAMES.flatMap((op) =>
    [2, -3].map((value) => ({ backend, op, value }))));

  it.each(rangeCases)('$op on $backend: class index $value out of [0, 2) names the pixel', async ({ backend, op, value }) => {
    await onBackend(backend, () => expectRejected(indexWith(value), ([y, z]) => callOp(op, y, z),
      [`labels[1, 2, 3] = ${value}`, 'outside the class range [0, 2)']));
  });

  it('names the first bad label of several, past the four-label steps of the scan and in its tail', async () => {
    // 3 × 7 × 5 = 105 pixels: 26 steps of four, then a tail of one.
    for (const [first, second] of [[37, 90], [104, 104], [3, 104]]) {
      await onBackend('wasm', () => {
        const values = new Int32Array(105).map((_, i) => i % 2);
        values[first] = 5;
        values[second] = -1;
        const at = `labels[${Math.floor(first / 35)}, ${Math.floor((first % 35) / 5)}, ${first % 5}]`;
        const message = `${at} = ${values[first]} is outside`;
        expectRejected(() => [tf.tensor3d(values, [3, 7, 5], 'int32'), tf.zeros([3, 7, 5, 2])],
          ([y, z]) => callOp('categoricalCrossEntropy', y, z), [message, 'outside the class range [0, 2)']);
      });
    }
  });

  it.each(['wasm', 'cpu'] as const)('categoricalCrossEntropy on %s: ignoreIndex exempts only its own value', async (backend) => {
    await onBackend(backend, () => {
      expectRejected(indexWith(-3), ([y, z]) => callOp('categoricalCrossEntropy', y, z, { ignoreIndex: 255 }),
        ['labels[1, 2, 3] = -3', 'outside the class range [0, 2)', 'is not ignoreIndex (255)']);
      const [labels, z] = indexWith(-3)() as tf.Tensor[];
      const loss = losses.categoricalCrossEntropy(labels, z, { ignoreIndex: -3 });
      expect(Number.isFinite(loss.dataSync()[0])).toBe(true);
      tf.dispose([labels, z, loss]);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// tfjs-layers.

/** Pixels of 3 features uniform in [0, 1); the label is foreground where feature 0 > 0.5. */
function toyProblem(samples: number): { x: tf.Tensor; y: tf.Tensor } {
  const rng = mulberry32(42);
  const shape: Shape4 = [samples, 4, 4, 3];
  const x = Float32Array.from({ length: samples * 16 * 3 }, () => rng());
  const y = new Float32Array(samples * 16 * 2);
  for (let i = 0; i < samples * 16; i++) y[i * 2 + (x[i * 3] > 0.5 ? 1 : 0)] = 1;
  return { x: tf.tensor4d(x, shape), y: tf.tensor4d(y, [samples, 4, 4, 2]) };
}

describe('tfjs-layers', () => {
  it('shares the engine, backend and Tensor class of the tfjs-core the tests import', () => {
    const before = tf.memory().numTensors;
    const layer = tfl.layers.dense({ units: 1, kernelInitializer: 'ones' });
    const input = tf.ones([1, 2]);
    const out = layer.apply(input) as tf.Tensor;
    expect(Object.getPrototypeOf(out)).toBe(tf.Tensor.prototype);
    expect((tf.backend() as BackendWasm).dataIdMap.has(out.dataId)).toBe(true);
    expect(Array.from(out.dataSync())).toEqual([2]);
    layer.dispose();
    tf.dispose([input, out]);
    expect(tf.memory().numTensors).toBe(before);
  });

  const LAYERS_LOSSES: { name: string; loss: (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor }[] = [
    { name: 'dice', loss: (yTrue, yPred) => losses.dice(yTrue, yPred) },
    { name: 'categoricalCrossEntropy', loss: (yTrue, yPred) => losses.categoricalCrossEntropy(yTrue, yPred) },
    { name: 'segmentationLosses.dicefg', loss: (yTrue, yPred) => losses.segmentationLosses(yTrue, yPred).dicefg },
  ];

  it.each(LAYERS_LOSSES)('model.fit with $name: the loss falls and stays finite', async ({ loss }) => {
    const { x, y } = toyProblem(16);
    // A per-pixel dense layer: rank-4 input, [N,H,W,2] logits (conv layers cannot train on wasm).
    const model = tfl.sequential({ layers: [tfl.layers.dense({ units: 2, inputShape: [4, 4, 3] })] });
    model.compile({ optimizer: 'adam', loss });
    const history = await model.fit(x, y, { epochs: 5, batchSize: 2, shuffle: false, verbose: 0 });
    const perEpoch = history.history.loss as number[];
    expect(perEpoch.every(Number.isFinite)).toBe(true);
    expect(perEpoch[perEpoch.length - 1]).toBeLessThan(perEpoch[0]);
    model.dispose();
    tf.dispose([x, y]);
  });
});
