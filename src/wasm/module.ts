/**
 * Loads segloss's AssemblyScript kernels against the memory of tfjs's wasm backend.
 *
 * The kernel modules import `env.memory` and hold no data segment and no start function, so
 * instantiating them writes nothing: they run in place on tfjs's heap, on the tensors' own bytes
 * (zero-copy). An instance is bound to one `WebAssembly.Memory` object; growth keeps the object,
 * so an instance stays valid, and nothing here caches a view of the buffer.
 *
 * tfjs's threaded build (chosen in cross-origin isolated pages) has a shared memory, which only a
 * module declaring a shared memory import may take: the SIMD build has a twin that does
 * ('simd-shared', the same code), compiled by setupWasmKernels where pages can share memory.
 */
import { decodeBase64 } from '../base64.js';
import { scalarWasm, simdSharedWasm, simdWasm } from './binaries.generated';
import type { Conv3DGeometry, ConvGeometry } from '../kernels/conv_geometry.js';

/** Which build of the kernels runs: f32x4 SIMD, or the scalar twin for engines without SIMD. */
export type KernelVariant = 'simd' | 'scalar';

/** The exports of assembly/index.ts. Addresses are byte offsets into the backend's memory. */
export interface KernelExports {
  softmax_cce_fwd_bwd(
    labels: number, labelKind: number, logits: number, grad: number, lossOut: number,
    pixels: number, classes: number, weights: number, ignoreIndex: number, clip: number,
    epsilon: number, scale: number, tile: number): number;
  index_labels_scan(
    labels: number, pixels: number, classes: number, weights: number, hasIgnore: number,
    ignoreIndex: number): number;
  one_hot_weight_sum(labels: number, pixels: number, classes: number, weights: number): number;
  region_stats(
    labels: number, labelKind: number, input: number, probs: number, activation: number, groups: number,
    pixelsPerGroup: number, classes: number, hasIgnore: number, ignoreIndex: number, regionOn: number, sums: number,
    pixelKind: number, pxAct: number, params: number, pixelOut: number, scratch: number, simd: number,
    gradOut: number, gradScale: number, saved: number): void;
  region_grad(
    labels: number, labelKind: number, input: number, probs: number, grad: number, activation: number, groups: number,
    pixelsPerGroup: number, classes: number, hasIgnore: number, ignoreIndex: number, regionOn: number, coefs: number,
    pixelKind: number, pxAct: number, params: number, pixelScale: number, pixelDy: number, scratch: number, simd: number,
    saved: number): void;
  lovasz_softmax(
    labels: number, labelKind: number, input: number, grad: number, softmax: number, groups: number, pixelsPerGroup: number,
    classes: number, hasIgnore: number, ignoreIndex: number, allClasses: number, scratch: number): number;
  seg_losses_fwd(
    labels: number, labelKind: number, logits: number, pixels: number, classes: number,
    epsilon: number, scratch: number, sumsOut: number, lossesOut: number, tile: number): void;
  seg_losses_bwd(
    labels: number, labelKind: number, logits: number, grad: number, pixels: number,
    classes: number, epsilon: number, sums: number, weights: number, scratch: number, tile: number): void;
  conv2d_backprop_filter(x: number, dy: number, dw: number, ...geometry: ConvGeometry): void;
  conv2d_backprop_input(dy: number, filter: number, dx: number, filterT: number, ...geometry: ConvGeometry): void;
  conv3d_backprop_input(dy: number, filter: number, dx: number, filterT: number, ...geometry: Conv3DGeometry): void;
  conv3d_backprop_filter(x: number, dy: number, dw: number, ...geometry: Conv3DGeometry): void;
  depthwise_conv2d_backprop_filter(x: number, dy: number, dw: number, ...geometry: ConvGeometry): void;
  depthwise_conv2d_backprop_input(dy: number, filter: number, dx: number, ...geometry: ConvGeometry): void;
  batch_norm_train_fwd(
    x: number, gamma: number, beta: number, y: number, stats: number, pixels: number, channels: number,
    epsilon: number, sums: number): void;
  batch_norm_train_bwd(
    x: number, dy: number, gamma: number, stats: number, dx: number, dgamma: number, dbeta: number,
    pixels: number, channels: number, sums: number): void;
  batch_norm_sums(x: number, pixels: number, channels: number, sums: number): void;
  batch_norm_mean(sums: number, count: number, channels: number, stats: number): void;
  batch_norm_centered_sums(x: number, stats: number, pixels: number, channels: number, sums: number): void;
  batch_norm_variance(sums: number, count: number, channels: number, epsilon: number, stats: number): void;
  batch_norm_normalize(x: number, gamma: number, beta: number, stats: number, y: number, pixels: number, channels: number): void;
  batch_norm_grad_sums(x: number, dy: number, stats: number, pixels: number, channels: number, sums: number): void;
  batch_norm_grad_finish(sums: number, count: number, channels: number, dgamma: number, dbeta: number, means: number): void;
  batch_norm_grad_apply(x: number, dy: number, gamma: number, stats: number, means: number, dx: number, pixels: number, channels: number): void;
  fold_f32(slots: number, count: number, length: number, out: number): void;
  fold_f64(slots: number, count: number, length: number, out: number): void;
  sum_squares_f32(src: number, n: number): number;
  sum_leading_axes_f32(x: number, rows: number, cols: number, out: number, acc: number): void;
  tile_bytes(x: number, out: number, table: number, rank: number, bytes: number): void;
  copy_rows(src: number, srcStride: number, dst: number, dstStride: number, rowBytes: number, rows: number): void;
  maxpool_grad_disjoint(x: number, dy: number, dx: number, n: number, h: number, w: number, c: number, oh: number, ow: number,
    fh: number, fw: number): void;
  adam_update(
    table: number, count: number, learningRate: number, beta1: number, beta2: number, oneMinusBeta1: number,
    oneMinusBeta2: number, epsilon: number, oneMinusAccBeta1: number, oneMinusAccBeta2: number): void;
  exp_f32_array(src: number, dst: number, n: number): void;
  log_f32_array(src: number, dst: number, n: number): void;
  exp_neg_f32_array(src: number, dst: number, n: number): void;
  log1p_unit_f32_array(src: number, dst: number, n: number): void;
}

/** A binary: a variant, or the SIMD variant for a shared memory. */
type Build = KernelVariant | 'simd-shared';

const binaries: Record<Build, string> = { simd: simdWasm, scalar: scalarWasm, 'simd-shared': simdSharedWasm };
const compiled = new Map<Build, WebAssembly.Module>();
/** Per requested variant, the instance bound to each memory (of the variant's build for that memory). */
const instances = new Map<KernelVariant, WeakMap<WebAssembly.Memory, KernelExports>>();

/** The raw bytes of one build (for tests that inspect the binaries). */
export function kernelBinary(variant: Build): Uint8Array {
  return decodeBase64(binaries[variant]);
}

/** True when this engine validates the SIMD build (WebAssembly SIMD128). */
export function simdSupported(): boolean {
  return WebAssembly.validate(kernelBinary('simd') as BufferSource);
}

/**
 * True where tfjs-backend-wasm may pick its threaded build, whose memory is shared: a cross-origin
 * isolated page or worker (tfjs never uses threads in Node).
 */
export function sharedMemoryPossible(): boolean {
  return (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
}

async function compileBuild(build: Build): Promise<WebAssembly.Module> {
  let module = compiled.get(build);
  if (module == null) {
    module = await WebAssembly.compile(kernelBinary(build) as BufferSource);
    compiled.set(build, module);
  }
  return module;
}

/**
 * Compiles a variant once (and, for SIMD where memory may be shared, its shared-memory twin);
 * async so that browsers' main threads never compile synchronously.
 */
export async function compileKernels(variant: KernelVariant): Promise<WebAssembly.Module> {
  if (variant === 'simd' && sharedMemoryPossible()) await compileBuild('simd-shared');
  return compileBuild(variant);
}

function isShared(memory: WebAssembly.Memory): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
}

/** The build that runs `variant` on `memory`: its shared-memory twin when the memory is shared. */
function buildFor(variant: KernelVariant, memory: WebAssembly.Memory): Build {
  if (!isShared(memory)) return variant;
  if (variant === 'scalar') {
    throw new Error('segloss: tfjs-backend-wasm runs its threaded build (shared memory), which needs the simd kernels; call setupWasmKernels() with variant \'auto\' or \'simd\'');
  }
  return 'simd-shared';
}

/**
 * The kernels of a compiled build bound to `memory`, instantiated on first use for that memory
 * (a tfjs backend re-initialised with a new memory gets a new instance). Whether the memory is
 * shared is looked at then only: it cannot change.
 */
export function kernelsFor(variant: KernelVariant, memory: WebAssembly.Memory): KernelExports {
  let byMemory = instances.get(variant);
  if (byMemory == null) {
    byMemory = new WeakMap();
    instances.set(variant, byMemory);
  }
  let exports = byMemory.get(memory);
  if (exports == null) {
    const build = buildFor(variant, memory);
    const module = compiled.get(build);
    if (module == null) {
      throw new Error(`segloss: the ${build} kernels are not compiled yet; await setupWasmKernels() first`);
    }
    exports = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as KernelExports;
    byMemory.set(memory, exports);
  }
  return exports;
}
