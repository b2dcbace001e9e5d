/**
 * The kernel binaries are safe to run in place on tfjs's heap: statically (no data segment, no
 * start function, nothing imported but `env.memory`, exactly the kernels exported) and at run
 * time (a kernel call writes into the blocks allocated for it and nowhere else, and the kernels
 * keep working after the backend's memory grows).
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { losses } from '../src/index.js';
import {
  SeglossRegionGrad, SeglossRegionStats, SeglossSegmentationLosses, SeglossSegmentationLossesGrad, SeglossSoftmaxCrossEntropy,
  type RegionGradAttrs, type RegionStatsAttrs, type SegmentationLossesAttrs, type SoftmaxCrossEntropyAttrs,
} from '../src/kernels/kernel_names.js';
import { LOSS_NAMES } from '../src/losses/types.js';
import type { BackendWasm } from '../src/wasm/backend.js';
import { kernelBinary, type KernelExports, type KernelVariant } from '../src/wasm/module.js';
import { engineBinary } from '../src/engine/lanes.js';
import { decodeBase64 } from '../src/base64.js';
import { engineBenchWasm } from '../src/wasm/binaries.generated';
import { mulberry32, randomIndexLabels, randomLogits, randomOneHot } from './helpers/random.js';
import { backendMemory, useWasm } from './helpers/wasm.js';

const VARIANTS: KernelVariant[] = ['simd', 'scalar'];

/** Every function of assembly/index.ts, i.e. the keys of `KernelExports`. */
const KERNEL_NAMES: (keyof KernelExports)[] = [
  'softmax_cce_fwd_bwd', 'index_labels_scan', 'one_hot_weight_sum', 'region_stats', 'region_grad', 'lovasz_softmax',
  'seg_losses_fwd', 'seg_losses_bwd', 'exp_f32_array', 'log_f32_array', 'exp_neg_f32_array',
  'log1p_unit_f32_array',
  'conv2d_backprop_filter', 'conv2d_backprop_input', 'depthwise_conv2d_backprop_filter',
  'depthwise_conv2d_backprop_input', 'batch_norm_train_fwd', 'batch_norm_train_bwd', 'sum_squares_f32',
  'batch_norm_sums', 'batch_norm_mean', 'batch_norm_centered_sums', 'batch_norm_variance', 'batch_norm_normalize',
  'batch_norm_grad_sums', 'batch_norm_grad_finish', 'batch_norm_grad_apply', 'fold_f32', 'fold_f64',
  'adam_update', 'sum_leading_axes_f32', 'tile_bytes', 'copy_rows', 'maxpool_grad_disjoint', 'conv3d_backprop_input', 'conv3d_backprop_filter',
];

const SECTION_IMPORT = 2;
const SECTION_START = 8;
const SECTION_DATA = 11;
const SECTION_DATA_COUNT = 12;

// ---------------------------------------------------------------------------------------------
// A minimal reader of the wasm binary format: enough to list sections and the memory import.

function readU32Leb(bytes: Uint8Array, at: number): { value: number; next: number } {
  let value = 0;
  let shift = 0;
  for (;;) {
    const byte = bytes[at++];
    value += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return { value, next: at };
    shift += 7;
  }
}

interface Section {
  id: number;
  /** Offset of the section's contents (after its id and size). */
  start: number;
  size: number;
}

/** The magic and version, then (id, LEB128 size, contents) until the end; throws if malformed. */
function sectionsOf(bytes: Uint8Array): Section[] {
  const header = Array.from(bytes.subarray(0, 8));
  if (header.join() !== [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00].join()) {
    throw new Error(`not a version-1 wasm binary: header ${header.join(' ')}`);
  }
  const sections: Section[] = [];
  let at = 8;
  while (at < bytes.length) {
    const id = bytes[at];
    const { value: size, next } = readU32Leb(bytes, at + 1);
    sections.push({ id, start: next, size });
    at = next + size;
  }
  if (at !== bytes.length) throw new Error(`the last section overruns the binary by ${at - bytes.length} bytes`);
  return sections;
}

/** The limits of the single memory import (the import section holds nothing else, checked apart). */
function importedMemoryLimits(bytes: Uint8Array): { flags: number; minimum: number } {
  const section = sectionsOf(bytes).find((s) => s.id === SECTION_IMPORT);
  if (section == null) throw new Error('no import section');
  let at = readU32Leb(bytes, section.start).next; // the import count
  for (let name = 0; name < 2; name++) {            // module name, then field name
    const { value: length, next } = readU32Leb(bytes, at);
    at = next + length;
  }
  const kind = bytes[at];
  if (kind !== 0x02) throw new Error(`the first import is of kind ${kind}, not memory (2)`);
  const flags = bytes[at + 1];
  return { flags, minimum: readU32Leb(bytes, at + 2).value };
}

describe.each(VARIANTS)('the %s binary', (variant) => {
  const bytes = kernelBinary(variant);
  const module = new WebAssembly.Module(bytes as BufferSource);

  it('validates', () => {
    expect(WebAssembly.validate(bytes as BufferSource)).toBe(true);
  });

  it('has no data, data-count or start section', () => {
    // A data segment would be written over tfjs's heap at instantiation; a start function could
    // write anywhere before any kernel is called.
    const ids = sectionsOf(bytes).map((s) => s.id);
    expect(ids).not.toContain(SECTION_DATA);
    expect(ids).not.toContain(SECTION_DATA_COUNT);
    expect(ids).not.toContain(SECTION_START);
  });

  it('imports only env.memory, unshared, with no minimum size and no maximum', () => {
    expect(WebAssembly.Module.imports(module)).toEqual([{ module: 'env', name: 'memory', kind: 'memory' }]);
    // flags 0: no maximum and not shared, so any (growing) single-threaded tfjs memory links.
    expect(importedMemoryLimits(bytes)).toEqual({ flags: 0, minimum: 0 });
  });

  it('exports exactly the kernel functions, and no memory, table or global', () => {
    const exports = WebAssembly.Module.exports(module);
    expect(exports.map((e) => e.name).sort()).toEqual([...KERNEL_NAMES].sort());
    expect(exports.every((e) => e.kind === 'function')).toBe(true);
  });
});

describe('the lockstep engine\'s binary (assembly/engine.ts)', () => {
  const bytes = engineBinary();

  it('validates, with no data, data-count or start section (its layout owns all of its memory)', () => {
    expect(WebAssembly.validate(bytes as BufferSource)).toBe(true);
    const ids = sectionsOf(bytes).map((s) => s.id);
    expect(ids).not.toContain(SECTION_DATA);
    expect(ids).not.toContain(SECTION_DATA_COUNT);
    expect(ids).not.toContain(SECTION_START);
  });

  it('imports only env.memory and exports exactly the engine\'s functions', () => {
    const module = new WebAssembly.Module(bytes as BufferSource);
    expect(WebAssembly.Module.imports(module)).toEqual([{ module: 'env', name: 'memory', kind: 'memory' }]);
    expect(WebAssembly.Module.exports(module).map((e) => `${e.kind} ${e.name}`).sort()).toEqual([
      'lanes_init', 'lanes_step', 'lanes_eval',
    ].map((name) => `function ${name}`).sort());
  });

  it('leaves the benchmark-only code to a module of its own (assembly/engine_bench.ts), which imports only env.memory', () => {
    const bench = new WebAssembly.Module(decodeBase64(engineBenchWasm) as BufferSource);
    expect(WebAssembly.Module.imports(bench)).toEqual([{ module: 'env', name: 'memory', kind: 'memory' }]);
    expect(WebAssembly.Module.exports(bench).map((e) => e.name).sort()).toEqual([
      'bench_lanes_conv3x3', 'bench_lanes_back_input', 'bench_lanes_back_filter',
      'design1_conv3x3', 'design1_conv3x3_back_input', 'design1_conv3x3_back_filter',
    ].sort());
  });
});

describe('the simd-shared binary (for the shared memory of tfjs\'s threaded build)', () => {
  const bytes = kernelBinary('simd-shared');
  const simd = kernelBinary('simd');

  it('imports env.memory shared, with a maximum of 65536 pages (4 GiB, what tfjs declares)', () => {
    // flags 3: a maximum and shared. A shared memory links only into a shared import, and its
    // maximum must not exceed the import's; tfjs's threaded build asks for exactly 4 GiB.
    expect(WebAssembly.validate(bytes as BufferSource)).toBe(true);
    expect(importedMemoryLimits(bytes)).toEqual({ flags: 3, minimum: 0 });
    const ids = sectionsOf(bytes).map((s) => s.id);
    expect(ids).toEqual(sectionsOf(simd).map((s) => s.id));
  });

  it('holds the same code as the simd binary, byte for byte, outside the import section', () => {
    const contents = (b: Uint8Array) => sectionsOf(b).filter((s) => s.id !== SECTION_IMPORT)
      .map((s) => Buffer.from(b.subarray(s.start, s.start + s.size)).toString('hex'));
    expect(contents(bytes)).toEqual(contents(simd));
  });

  it('runs on a shared memory and gives the simd build\'s bits', () => {
    const n = 1001;
    const input = Float32Array.from(randomLogits(mulberry32(9), n, 30));
    const run = (binary: Uint8Array, memory: WebAssembly.Memory) => {
      const kernels = new WebAssembly.Instance(new WebAssembly.Module(binary as BufferSource), { env: { memory } })
        .exports as unknown as KernelExports;
      new Float32Array(memory.buffer, 0, n).set(input);
      kernels.exp_f32_array(0, 8192, n);
      return Array.from(new Uint32Array(memory.buffer, 8192, n));
    };
    const shared = new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true });
    expect(shared.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(() => run(simd, shared)).toThrow(WebAssembly.LinkError);
    expect(run(bytes, shared)).toEqual(run(simd, new WebAssembly.Memory({ initial: 1 })));
  });
});

// ---------------------------------------------------------------------------------------------
// Run time: what a kernel call writes.

/** The wasm-heap calls tfjs makes from JS while a kernel runs (allocation and tensor registry). */
type HeapCallName = '_malloc' | '_free' | 'registerTensor' | 'disposeData';
interface HeapCall {
  name: HeapCallName;
  args: number[];
  result: unknown;
}

/** The objects that hold each recorded function (emscripten's module, or its `tfjs` wrappers). */
function heapCallTargets(backend: BackendWasm): Record<HeapCallName, Record<string, unknown>> {
  const module = backend.wasm as unknown as Record<string, unknown> & { tfjs: Record<string, unknown> };
  return { _malloc: module, _free: module, registerTensor: module.tfjs, disposeData: module.tfjs };
}

/** Runs `body` while recording every heap call; the original functions are back afterwards. */
function recordHeapCalls<T>(backend: BackendWasm, body: () => T): { result: T; calls: HeapCall[] } {
  const calls: HeapCall[] = [];
  const targets = heapCallTargets(backend);
  const originals = new Map<HeapCallName, (...args: number[]) => unknown>();
  for (const name of Object.keys(targets) as HeapCallName[]) {
    const original = targets[name][name] as (...args: number[]) => unknown;
    originals.set(name, original);
    targets[name][name] = (...args: number[]) => {
      const result = original(...args);
      calls.push({ name, args, result });
      return result;
    };
  }
  try {
    return { result: body(), calls };
  } finally {
    for (const [name, original] of originals) targets[name][name] = original;
  }
}

function heapCopy(backend: BackendWasm): Uint8Array {
  return new Uint8Array(backendMemory(backend).buffer).slice();
}

function restoreHeap(backend: BackendWasm, bytes: Uint8Array): void {
  new Uint8Array(backendMemory(backend).buffer).set(bytes);
}

/**
 * Runs a kernel and returns the byte ranges it changed that no block allocated during the call
 * explains (which must be none), as "0x…–0x…" strings.
 *
 * The allocator's bookkeeping and the backend's tensor registry also change, so the call's heap
 * calls are recorded, the heap is rewound to before the call and the same calls are replayed
 * without the kernel: the allocator is deterministic, so the replay reproduces every byte of
 * bookkeeping, and the only bytes that may differ from the real call are inside the allocated
 * blocks (outputs and scratch). The real call's heap is put back afterwards.
 */
function strayWrites(backend: BackendWasm, kernel: () => tf.TensorInfo[]): { outputs: tf.TensorInfo[]; stray: string[] } {
  const memory = backendMemory(backend);
  const size = memory.buffer.byteLength;
  const before = heapCopy(backend);
  const { result: outputs, calls } = recordHeapCalls(backend, kernel);
  expect(memory.buffer.byteLength, 'the heap grew during the call: it cannot be rewound').toBe(size);
  const after = heapCopy(backend);

  restoreHeap(backend, before);
  const targets = heapCallTargets(backend);
  for (const call of calls) {
    const replayed = (targets[call.name][call.name] as (...args: number[]) => unknown)(...call.args);
    expect(replayed, `replayed ${call.name}(${call.args.join(', ')})`).toBe(call.result);
  }
  const replay = heapCopy(backend);
  restoreHeap(backend, after);

  const allowed = calls.filter((c) => c.name === '_malloc')
    .map((c) => [(c.result as number) >>> 0, ((c.result as number) >>> 0) + c.args[0]]);
  const stray: string[] = [];
  for (let i = 0; i < size; i++) {
    if (after[i] === replay[i] || allowed.some(([start, end]) => i >= start && i < end)) continue;
    let end = i + 1;
    while (end < size && after[end] !== replay[end]) end++;
    stray.push(`0x${i.toString(16)}–0x${end.toString(16)}`);
    i = end;
  }
  return { outputs, stray };
}

interface KernelCase {
  name: string;
  shape: [number, number, number, number];
  labels: 'onehot' | 'index';
  kernel: string;
  attrs: object;
  /** Makes the inputs other than labels and logits (before the heap is snapshotted). */
  moreInputs?: (labels: tf.Tensor, logits: tf.Tensor) => tf.NamedTensorMap;
}

const runKernel = (name: string, inputs: tf.NamedTensorMap, attrs: object) =>
  tf.engine().runKernel(name, inputs, attrs as tf.NamedAttrMap) as tf.Tensor | tf.Tensor[];

const cceAttrs = (over: Partial<SoftmaxCrossEntropyAttrs>): SoftmaxCrossEntropyAttrs => ({
  clip: false, epsilon: 1e-7, classWeights: [], ignoreIndex: null, reduction: 'mean', withGrad: true, ...over,
});
const statsAttrs = (over: Partial<RegionStatsAttrs>): RegionStatsAttrs => ({
  activation: 0, groups: 1, ignoreIndex: null, regionOn: true, squares: false, withProbs: true, pixelValues: false,
  oneShot: false, reduction: 'mean', saved: 'none', pixelKind: 0, pxAct: 0, params: [], ...over,
});
/** CE's parameters at C classes: weights and alphas of 1, γ = 0, no smoothing. */
const ceParams = (C: number) => [...new Array(2 * C).fill(1), 0, 0, 0, 0];
const segAttrs: SegmentationLossesAttrs = { epsilon: 1e-7 };

/** The region engine's input (its logits) and, for its gradient pass, p and coefficients from a statistics pass. */
const regionInput = (_labels: tf.Tensor, logits: tf.Tensor): tf.NamedTensorMap => ({ input: logits });
function regionGradInputs(attrs: RegionStatsAttrs) {
  return (labels: tf.Tensor, logits: tf.Tensor): tf.NamedTensorMap => {
    const [sums, probs, ...rest] = runKernel(SeglossRegionStats, { labels, input: logits }, attrs) as tf.Tensor[];
    tf.dispose([sums, ...rest]);
    const C = logits.shape[3]!;
    const coefs = tf.tensor1d(new Float32Array(Float64Array.from({ length: attrs.groups * C * 3 }, (_, k) => 0.01 * (k - 4)).buffer));
    return { input: logits, probs, coefs, pixelDy: tf.tensor1d([]), saved: tf.tensor1d([]) };
  };
}
const gradAttrs = (s: RegionStatsAttrs): RegionGradAttrs => ({
  activation: s.activation, groups: s.groups, ignoreIndex: s.ignoreIndex, regionOn: s.regionOn, pixelScale: 0.01,
  pixelKind: s.pixelKind, pxAct: s.pxAct, params: s.params,
});
const compoundC2 = statsAttrs({ pixelKind: 1, params: ceParams(2), ignoreIndex: 1 });

/** The backward kernel's extra inputs: the forward's sums and the five upstream gradients. */
function segmentationLossesGradInputs(labels: tf.Tensor, logits: tf.Tensor): tf.NamedTensorMap {
  const [losses, sums] = runKernel(SeglossSegmentationLosses, { labels, logits }, segAttrs) as tf.Tensor[];
  losses.dispose();
  return { sums, dy: tf.tensor1d([1, 0.5, 0, -2, 3]) };
}

// Pixel counts that are not multiples of 4 and C = 2 (sigmoid path), 3 (per-channel path) and
// 4 (channel-vector path), so that every SIMD loop has a tail where an overrun would show.
const KERNEL_CASES: KernelCase[] = [
  { name: 'CCE one-hot C=2', shape: [2, 3, 5, 2], labels: 'onehot',
    kernel: SeglossSoftmaxCrossEntropy, attrs: cceAttrs({}) },
  { name: 'CCE index C=3, weights, clip, reduction none', shape: [1, 7, 3, 3], labels: 'index',
    kernel: SeglossSoftmaxCrossEntropy, attrs: cceAttrs({ classWeights: [0.5, 2, 1], clip: true, reduction: 'none' }) },
  { name: 'CCE index C=4, ignoreIndex, no gradient', shape: [3, 3, 3, 4], labels: 'index',
    kernel: SeglossSoftmaxCrossEntropy, attrs: cceAttrs({ ignoreIndex: 1, withGrad: false }) },
  { name: 'region statistics one-hot C=2', shape: [2, 3, 5, 2], labels: 'onehot',
    kernel: SeglossRegionStats, attrs: statsAttrs({}), moreInputs: regionInput },
  { name: 'region statistics index C=2 + CE, ignoreIndex', shape: [2, 3, 5, 2], labels: 'index',
    kernel: SeglossRegionStats, attrs: compoundC2, moreInputs: regionInput },
  { name: 'region statistics index C=3, squares, per image', shape: [3, 5, 1, 3], labels: 'index',
    kernel: SeglossRegionStats, attrs: statsAttrs({ squares: true, groups: 3 }), moreInputs: regionInput },
  { name: 'region statistics one-hot C=4', shape: [1, 5, 5, 4], labels: 'onehot',
    kernel: SeglossRegionStats, attrs: statsAttrs({}), moreInputs: regionInput },
  { name: 'region gradient index C=2 + CE, ignoreIndex', shape: [2, 3, 5, 2], labels: 'index',
    kernel: SeglossRegionGrad, attrs: gradAttrs(compoundC2), moreInputs: regionGradInputs(compoundC2) },
  { name: 'region gradient one-hot C=4, per image', shape: [2, 5, 3, 4], labels: 'onehot',
    kernel: SeglossRegionGrad, attrs: gradAttrs(statsAttrs({ groups: 2 })), moreInputs: regionGradInputs(statsAttrs({ groups: 2 })) },
  { name: 'segmentation losses index C=2', shape: [2, 3, 5, 2], labels: 'index',
    kernel: SeglossSegmentationLosses, attrs: segAttrs },
  { name: 'segmentation losses one-hot C=3', shape: [1, 7, 3, 3], labels: 'onehot',
    kernel: SeglossSegmentationLosses, attrs: segAttrs },
  { name: 'segmentation losses gradient C=3', shape: [1, 7, 3, 3], labels: 'onehot',
    kernel: SeglossSegmentationLossesGrad, attrs: segAttrs, moreInputs: segmentationLossesGradInputs },
];

function makeInputs(shape: [number, number, number, number], kind: 'onehot' | 'index', seed: number) {
  const rng = mulberry32(seed);
  const [N, H, W, C] = shape;
  const P = N * H * W;
  const logits = tf.tensor4d(Float32Array.from(randomLogits(rng, P * C, 4)), shape);
  const labels = kind === 'index'
    ? tf.tensor3d(randomIndexLabels(rng, P, C), [N, H, W], 'int32')
    : tf.tensor4d(randomOneHot(rng, P, C), shape);
  return { labels, logits };
}

describe.each(VARIANTS)('a kernel call with the %s build', (variant) => {
  let backend: BackendWasm;
  beforeAll(async () => {
    backend = await useWasm(variant);
  });

  it.each(KERNEL_CASES)('writes only into its own new blocks: $name', (c) => {
    const { labels, logits } = makeInputs(c.shape, c.labels, 7);
    const more = c.moreInputs?.(labels, logits) ?? {};
    const { outputs, stray } = strayWrites(backend, () => {
      const out = runKernel(c.kernel, { labels, logits, ...more }, c.attrs);
      return Array.isArray(out) ? out : [out];
    });
    expect(stray).toEqual([]);
    tf.dispose([labels, logits, ...Object.values(more), ...outputs as tf.Tensor[]]);
  });
});

/** Each op's values and its gradient with respect to the logits, as plain arrays. */
function allResults(labels: tf.Tensor, logits: tf.Tensor): Float32Array[] {
  const ops: ((z: tf.Tensor) => tf.Scalar)[] = [
    (z) => losses.categoricalCrossEntropy(labels, z, { classWeights: [1, 3, 0.5] }) as tf.Scalar,
    (z) => losses.dice(labels, z, { includeBackground: false }),
    ...LOSS_NAMES.map((name) => (z: tf.Tensor) => losses.segmentationLosses(labels, z)[name]),
  ];
  return tf.tidy(() => ops.flatMap((op) => [op(logits).dataSync() as Float32Array,
    tf.grad(op)(logits).dataSync() as Float32Array]));
}

describe('memory growth', () => {
  it.each(VARIANTS)('leaves the %s kernels working on the grown memory, with the same results', async (variant) => {
    const backend = await useWasm(variant);
    const memory = backendMemory(backend);
    const shape: [number, number, number, number] = [2, 5, 3, 3];
    const { labels, logits } = makeInputs(shape, 'index', 11);
    const before = allResults(labels, logits);

    const sizeBefore = memory.buffer.byteLength;
    const filler = tf.zeros([sizeBefore / 4]); // as many bytes as the whole heap: it must grow
    expect(memory.buffer.byteLength).toBeGreaterThan(sizeBefore);

    // The same tensors, and copies allocated after the growth, give bit-identical results.
    const copies = [tf.tensor(labels.dataSync(), labels.shape, 'int32'), tf.tensor(logits.dataSync(), shape)];
    for (const [y, z] of [[labels, logits], copies]) {
      const after = allResults(y, z);
      after.forEach((values, i) => expect(Array.from(values), `result ${i}`).toEqual(Array.from(before[i])));
    }
    tf.dispose([labels, logits, filler, ...copies]);
  });
});

// The training kernels of src/kernels (conv gradients) obey the same rule: nothing outside the
// blocks allocated during the call changes. Shapes with stride 2, 'same' padding, channel tails.
const CONV_KERNEL_CASES: { name: string; kernel: string; inputs: Record<string, number[]>; attrs: object }[] = [
  { name: 'Conv2DBackpropFilter, stride 2, 5 out channels', kernel: 'Conv2DBackpropFilter',
    inputs: { x: [1, 5, 7, 3], dy: [1, 3, 4, 5] },
    attrs: { strides: 2, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 3, 5] } },
  { name: 'Conv2DBackpropFilter, 16 out channels', kernel: 'Conv2DBackpropFilter',
    inputs: { x: [2, 4, 5, 3], dy: [2, 4, 5, 16] },
    attrs: { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 3, 16] } },
  { name: 'Conv2DBackpropInput, stride 2, 5 in channels', kernel: 'Conv2DBackpropInput',
    inputs: { dy: [1, 3, 4, 3], filter: [3, 3, 5, 3] },
    attrs: { strides: 2, pad: 'same', dataFormat: 'NHWC', inputShape: [1, 5, 7, 5] } },
  { name: 'DepthwiseConv2dNativeBackpropFilter, 6 channels', kernel: 'DepthwiseConv2dNativeBackpropFilter',
    inputs: { x: [1, 6, 5, 6], dy: [1, 6, 5, 6] },
    attrs: { strides: 1, dilations: 1, pad: 'same', filterShape: [3, 3, 6, 1] } },
  { name: 'DepthwiseConv2dNativeBackpropInput, multiplier 2', kernel: 'DepthwiseConv2dNativeBackpropInput',
    inputs: { dy: [1, 6, 5, 8], filter: [3, 3, 4, 2] },
    attrs: { strides: 1, dilations: 1, pad: 'same', inputShape: [1, 6, 5, 4] } },
];

describe.each(VARIANTS)('a conv gradient kernel call with the %s build', (variant) => {
  let backend: BackendWasm;
  beforeAll(async () => {
    backend = await useWasm(variant);
  });

  it.each(CONV_KERNEL_CASES)('writes only into its own new blocks: $name', (c) => {
    const rng = mulberry32(5);
    const inputs = Object.fromEntries(Object.entries(c.inputs).map(([k, shape]) =>
      [k, tf.tensor(Float32Array.from(randomLogits(rng, shape.reduce((a, b) => a * b, 1), 1)), shape)]));
    const { outputs, stray } = strayWrites(backend, () => [runKernel(c.kernel, inputs, c.attrs) as tf.Tensor]);
    expect(stray).toEqual([]);
    tf.dispose([...Object.values(inputs), ...outputs as tf.Tensor[]]);
  });
});
