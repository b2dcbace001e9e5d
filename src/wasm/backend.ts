/**
 * The few facts about tfjs-backend-wasm that the kernels rely on: where its memory is, where a
 * tensor's bytes are, and how to borrow scratch bytes from its allocator.
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { kernelsFor, type KernelExports, type KernelVariant } from './module';

export type { BackendWasm };

interface EmscriptenModuleLike {
  asm?: { memory?: WebAssembly.Memory };
  wasmMemory?: WebAssembly.Memory;
  _malloc(bytes: number): number;
  _free(address: number): void;
}

let activeVariant: KernelVariant | null = null;

/** Sets the build used by every kernel from now on (setupWasmKernels decides it). */
export function setActiveVariant(variant: KernelVariant): void {
  activeVariant = variant;
}

/** The build in use, or null before setupWasmKernels() has run. */
export function activeKernelVariant(): KernelVariant | null {
  return activeVariant;
}

/** The backend's WebAssembly.Memory (single-threaded builds export it; threaded ones share it). */
export function backendMemory(backend: BackendWasm): WebAssembly.Memory {
  const module = backend.wasm as unknown as EmscriptenModuleLike;
  const memory = module.asm?.memory ?? module.wasmMemory;
  if (!(memory instanceof WebAssembly.Memory)) {
    throw new Error('segloss: cannot find the WebAssembly.Memory of the tfjs wasm backend');
  }
  return memory;
}

/** The active kernels bound to this backend's memory. */
export function kernels(backend: BackendWasm, variant: KernelVariant | null = activeVariant): KernelExports {
  if (variant == null) throw new Error('segloss: await setupWasmKernels() before running its kernels');
  return kernelsFor(variant, backendMemory(backend));
}

/** Byte address of a tensor's data in the backend's memory. */
export function addressOf(backend: BackendWasm, tensor: TensorInfo): number {
  return backend.dataIdMap.get(tensor.dataId)!.memoryOffset;
}

/** Alignment of `withScratch`'s memory: one cache line. */
export const SCRATCH_ALIGN = 64;

/**
 * Runs `body` with `bytes` of scratch from the backend's allocator, starting on a cache line, and
 * frees it afterwards, also when `body` throws. Write to it through fresh views only: memory may
 * grow. The kernels load and store their channel tiles and accumulators there as vectors in every
 * step; with malloc's 8-byte alignment they straddled cache lines, which cost the region engine's
 * gradient pass of Dice 0.62 ms instead of 0.35 at [8,128,128,4], depending on where malloc put it.
 */
export function withScratch<T>(backend: BackendWasm, bytes: number, body: (address: number) => T): T {
  const module = backend.wasm as unknown as EmscriptenModuleLike;
  const raw = module._malloc(Math.max(bytes, 8) + SCRATCH_ALIGN) >>> 0;
  try {
    return body(Math.ceil(raw / SCRATCH_ALIGN) * SCRATCH_ALIGN);
  } finally {
    module._free(raw);
  }
}

/** Writes float32 values at `address` through a view made now. */
export function writeF32(backend: BackendWasm, address: number, values: ArrayLike<number>): void {
  new Float32Array(backendMemory(backend).buffer, address, values.length).set(values);
}
