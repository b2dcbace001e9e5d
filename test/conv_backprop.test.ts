/**
 * segloss's wasm kernels for Conv2DBackpropFilter, Conv2DBackpropInput (which replaces
 * tfjs-backend-wasm's), DepthwiseConv2dNativeBackpropFilter and DepthwiseConv2dNativeBackpropInput
 * against tfjs-backend-cpu's kernels of the same names, over a
 * grid of odd sizes, strides, dilations, paddings ('same', 'valid', a number with rounding,
 * explicit) and channel counts that are not multiples of 4, in both builds.
 *
 * tfjs-cpu's depthwise backprop kernels ignore `dilations` (tfjs's depthwise gradient rejects
 * dilations > 1 before reaching them), so the depthwise cases are also checked against the
 * definition: the gradients are adjoints of the forward convolution, ∂/∂w_k Σ dy·conv(x, w) =
 * Σ dy·conv(x, e_k) for every basis filter e_k (likewise for x), with tfjs-cpu's forward
 * depthwiseConv2d, which does honour dilations, summed in float64.
 *
 * Tolerance: the sides sum products in float32 in different orders; with inputs in [−1, 1) each
 * output is a sum of at most N·OH·OW ≤ 2·32·32 terms: abs 1e-4 · max(1, largest |output|) + rel 1e-4.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { setupWasmKernels } from '../src/index.js';
import { useWasm } from './helpers/wasm.js';
import { mulberry32 } from './helpers/random.js';
import { expectClose } from './helpers/assert.js';

type Shape4 = [number, number, number, number];
type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];

interface ConvCase {
  name: string;
  x: Shape4;
  filter: Shape4;
  strides: number | [number, number];
  pad: Pad;
  dilations?: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

const CONV_CASES: ConvCase[] = [
  { name: 'seed layer 1', x: [2, 32, 32, 1], filter: [3, 3, 1, 4], strides: 1, pad: 'same' },
  { name: 'seed layer 2', x: [2, 32, 32, 4], filter: [3, 3, 4, 4], strides: 1, pad: 'same' },
  { name: 'seed 1×1 head', x: [2, 32, 32, 4], filter: [1, 1, 4, 2], strides: 1, pad: 'same' },
  { name: 'odd sizes, stride 2, valid', x: [1, 7, 9, 3], filter: [3, 3, 3, 5], strides: 2, pad: 'valid' },
  { name: 'stride [2,1], same, 7 out channels', x: [2, 8, 7, 6], filter: [2, 3, 6, 7], strides: [2, 1], pad: 'same' },
  { name: 'explicit padding', x: [1, 6, 6, 2], filter: [3, 3, 2, 3], strides: 1, pad: [[0, 0], [1, 2], [0, 1], [0, 0]] },
  { name: 'numeric pad, ceil rounding', x: [1, 9, 8, 2], filter: [3, 3, 2, 4], strides: 2, pad: 1, dimRoundingMode: 'ceil' },
  { name: 'filter larger than stride, 16 channels', x: [2, 11, 10, 5], filter: [5, 4, 5, 16], strides: [1, 2], pad: 'same' },
  // Unit strides take the gather path of Conv2DBackpropInput: a SIMD block and a scalar tail of
  // input channels, a 5×3 filter, padding on one side only per axis.
  { name: 'unit stride, 6 in channels, 5×3 filter, one-sided pads', x: [2, 9, 8, 6], filter: [5, 3, 6, 5], strides: 1,
    pad: [[0, 0], [3, 0], [0, 2], [0, 0]] },
  { name: 'unit stride, 16 channels, valid', x: [1, 7, 6, 16], filter: [3, 3, 16, 8], strides: 1, pad: 'valid' },
  // From 8 channels on, stride-1 'same' input gradients with odd kernels run as a forward conv on
  // the flipped filter (tfjs-wasm's XNNPACK Conv2D); the rest stay on segloss's kernel.
  { name: 'as a forward conv: 3×3 same, 16 → 16', x: [2, 12, 10, 16], filter: [3, 3, 16, 16], strides: 1, pad: 'same' },
  { name: 'as a forward conv: 5×5 same, 8 → 12', x: [1, 9, 11, 8], filter: [5, 5, 8, 12], strides: 1, pad: 'same' },
  { name: 'as a forward conv: 3×5 same, 10 → 9', x: [2, 7, 8, 10], filter: [3, 5, 10, 9], strides: 1, pad: 'same' },
  { name: 'as a forward conv: 1×1, 32 → 8', x: [2, 6, 6, 32], filter: [1, 1, 32, 8], strides: 1, pad: 'same' },
  { name: 'as a forward conv: numeric pad 1 = same for 3×3, 8 → 8', x: [1, 7, 7, 8], filter: [3, 3, 8, 8], strides: 1, pad: 1 },
  { name: 'even 2×2 same, 8 channels (segloss\'s kernel)', x: [1, 7, 6, 8], filter: [2, 2, 8, 8], strides: 1, pad: 'same' },
];

const DEPTHWISE_CASES: ConvCase[] = [
  { name: 'dilation 2, same', x: [1, 7, 9, 3], filter: [3, 3, 3, 1], strides: 1, pad: 'same', dilations: 2 },
  { name: 'one channel, unit stride (contiguous rows)', x: [2, 9, 11, 1], filter: [3, 3, 1, 1], strides: 1, pad: 'same', dilations: 1 },
  { name: 'multiplier 2, stride 2, valid', x: [2, 8, 8, 4], filter: [3, 3, 4, 2], strides: 2, pad: 'valid', dilations: 1 },
  { name: '5 channels, 2×2 filter', x: [1, 6, 5, 5], filter: [2, 2, 5, 1], strides: 1, pad: 'same', dilations: 1 },
  { name: '8 channels, stride 2 (SIMD lanes)', x: [2, 9, 9, 8], filter: [3, 3, 8, 1], strides: 2, pad: 'same', dilations: 1 },
  { name: '20 channels (16-lane blocks and a tail)', x: [1, 6, 7, 20], filter: [3, 3, 20, 1], strides: 1, pad: 'same', dilations: 1 },
  { name: 'dilation [2,1], explicit pad, multiplier 3', x: [1, 8, 7, 2], filter: [3, 2, 2, 3], strides: 1,
    pad: [[0, 0], [2, 1], [1, 0], [0, 0]], dilations: [2, 1] },
];

function random(seed: number, size: number): Float32Array {
  const rng = mulberry32(seed);
  return Float32Array.from({ length: size }, () => 2 * rng() - 1);
}

function outShape(c: ConvCase, depthwise: boolean): Shape4 {
  const info = tf.backend_util.computeConv2DInfo(c.x, c.filter, c.strides, c.dilations ?? 1, c.pad,
    c.dimRoundingMode, depthwise);
  return [info.batchSize, info.outHeight, info.outWidth, info.outChannels];
}

/** Runs one kernel on `backend` with fresh tensors, returns its output values. */
async function runOn(backend: 'cpu' | 'wasm', kernel: string, inputs: Record<string, readonly [Float32Array, Shape4]>,
  attrs: object): Promise<Float32Array> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const tensors = Object.fromEntries(Object.entries(inputs).map(([k, [v, s]]) => [k, tf.tensor(v, s)]));
    const out = tf.engine().runKernel(kernel, tensors, attrs as never) as tf.Tensor;
    return out.dataSync() as Float32Array;
  });
}

/**
 * The depthwise gradient by its definition: entry k of ∂/∂(w or x) Σ dy·y is Σ dy·y with that
 * operand replaced by the k-th basis tensor (the forward conv is linear in each operand).
 */
async function depthwiseAdjoint(c: ConvCase, wrt: 'filter' | 'x', other: Float32Array, dy: Float32Array): Promise<Float64Array> {
  await tf.setBackend('cpu');
  const shape = wrt === 'filter' ? c.filter : c.x;
  const out = new Float64Array(tf.util.sizeFromShape(shape));
  for (let k = 0; k < out.length; k++) {
    const basis = new Float32Array(out.length);
    basis[k] = 1;
    const y = tf.tidy(() => {
      const x = tf.tensor4d(wrt === 'x' ? basis : other, c.x);
      const w = tf.tensor4d(wrt === 'filter' ? basis : other, c.filter);
      return tf.depthwiseConv2d(x, w, c.strides, c.pad as never, 'NHWC', c.dilations ?? 1, c.dimRoundingMode).dataSync();
    });
    for (let i = 0; i < y.length; i++) out[k] += dy[i] * y[i];
  }
  return out;
}

function tolerance(expected: ArrayLike<number>) {
  const scale = Array.from(expected).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  return { abs: 1e-4 * Math.max(1, scale), rel: 1e-4 };
}

function dilated(c: ConvCase): boolean {
  const d = c.dilations ?? 1;
  return typeof d === 'number' ? d !== 1 : d.some((v) => v !== 1);
}

beforeAll(async () => { await useWasm('simd'); });

describe.each(['simd', 'scalar'] as const)('%s build', (variant) => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
    await setupWasmKernels({ variant });
  });

  it.each(CONV_CASES)('Conv2DBackpropFilter matches tfjs-cpu: $name', async (c) => {
    const dyShape = outShape(c, false);
    const inputs = { x: [random(1, tf.util.sizeFromShape(c.x)), c.x], dy: [random(2, tf.util.sizeFromShape(dyShape)), dyShape] } as const;
    const attrs = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: c.dimRoundingMode, filterShape: c.filter };
    const expected = await runOn('cpu', 'Conv2DBackpropFilter', { ...inputs }, attrs);
    const actual = await runOn('wasm', 'Conv2DBackpropFilter', { ...inputs }, attrs);
    expectClose(actual, expected, tolerance(expected), `${variant} ${c.name}: dW`);
  });

  it.each(CONV_CASES)('Conv2DBackpropInput (replacing tfjs-wasm\'s) matches tfjs-cpu: $name', async (c) => {
    const dyShape = outShape(c, false);
    const inputs = { dy: [random(7, tf.util.sizeFromShape(dyShape)), dyShape], filter: [random(8, tf.util.sizeFromShape(c.filter)), c.filter] } as const;
    const attrs = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: c.dimRoundingMode, inputShape: c.x };
    const expected = await runOn('cpu', 'Conv2DBackpropInput', { ...inputs }, attrs);
    const actual = await runOn('wasm', 'Conv2DBackpropInput', { ...inputs }, attrs);
    expectClose(actual, expected, tolerance(expected), `${variant} ${c.name}: dx`);
  });

  it.each(DEPTHWISE_CASES)('DepthwiseConv2dNativeBackpropFilter matches its definition and tfjs-cpu: $name', async (c) => {
    const dyShape = outShape(c, true);
    const x = random(3, tf.util.sizeFromShape(c.x));
    const dy = random(4, tf.util.sizeFromShape(dyShape));
    const attrs = { strides: c.strides, dilations: c.dilations, pad: c.pad, dimRoundingMode: c.dimRoundingMode, filterShape: c.filter };
    const actual = await runOn('wasm', 'DepthwiseConv2dNativeBackpropFilter', { x: [x, c.x], dy: [dy, dyShape] }, attrs);
    const definition = await depthwiseAdjoint(c, 'filter', x, dy);
    expectClose(actual, definition, tolerance(definition), `${variant} ${c.name}: dW vs definition`);
    if (!dilated(c)) {
      const cpu = await runOn('cpu', 'DepthwiseConv2dNativeBackpropFilter', { x: [x, c.x], dy: [dy, dyShape] }, attrs);
      expectClose(actual, cpu, tolerance(cpu), `${variant} ${c.name}: dW vs tfjs-cpu`);
    }
  });

  it.each(DEPTHWISE_CASES)('DepthwiseConv2dNativeBackpropInput matches its definition and tfjs-cpu: $name', async (c) => {
    const dyShape = outShape(c, true);
    const filter = random(6, tf.util.sizeFromShape(c.filter));
    const dy = random(5, tf.util.sizeFromShape(dyShape));
    const attrs = { strides: c.strides, dilations: c.dilations, pad: c.pad, dimRoundingMode: c.dimRoundingMode, inputShape: c.x };
    const actual = await runOn('wasm', 'DepthwiseConv2dNativeBackpropInput', { dy: [dy, dyShape], filter: [filter, c.filter] }, attrs);
    const definition = await depthwiseAdjoint(c, 'x', filter, dy);
    expectClose(actual, definition, tolerance(definition), `${variant} ${c.name}: dx vs definition`);
    if (!dilated(c)) {
      const cpu = await runOn('cpu', 'DepthwiseConv2dNativeBackpropInput', { dy: [dy, dyShape], filter: [filter, c.filter] }, attrs);
      expectClose(actual, cpu, tolerance(cpu), `${variant} ${c.name}: dx vs tfjs-cpu`);
    }
  });
});

describe('Conv2DBackpropInput as a forward conv', () => {
  it('leaves no data behind in the backend (its flipped filter is released)', async () => {
    const backend = await useWasm('simd');
    const dy = tf.tensor4d(random(3, 2 * 12 * 10 * 16), [2, 12, 10, 16]);
    const w = tf.tensor4d(random(4, 3 * 3 * 16 * 16), [3, 3, 16, 16]);
    const attrs = { strides: 1, pad: 'same', dataFormat: 'NHWC', inputShape: [2, 12, 10, 16] };
    const before = backend.numDataIds();
    for (let i = 0; i < 20; i++) (tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, attrs as never) as tf.Tensor).dispose();
    expect(backend.numDataIds()).toBe(before);
    tf.dispose([dy, w]);
  });
});

describe('unsupported attributes', () => {
  it('NCHW is a clear error naming the kernel and the format', async () => {
    await tf.setBackend('wasm');
    const x = tf.zeros([1, 4, 4, 2]);
    const dy = tf.zeros([1, 4, 4, 3]);
    const before = tf.memory().numTensors;
    expect(() => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy },
      { strides: 1, pad: 'same', dataFormat: 'NCHW', filterShape: [3, 3, 2, 3] } as never))
      .toThrow(/Conv2DBackpropFilter.*'NHWC' only, got 'NCHW'/);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, dy]);
  });
});
