/**
 * Test setup for the wasm backend: one call initialises tfjs-backend-wasm and segloss's kernels
 * (the requested build), and small helpers reach the backend's memory.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { setupWasmKernels, type KernelVariant } from '../../src/index.js';
import { backendMemory, kernels, type BackendWasm } from '../../src/wasm/backend.js';

export async function useWasm(variant: KernelVariant = 'simd'): Promise<BackendWasm> {
  await tf.setBackend('wasm');
  await tf.ready();
  await setupWasmKernels({ variant });
  return tf.backend() as BackendWasm;
}

export function wasmBackend(): BackendWasm {
  return tf.findBackend('wasm') as BackendWasm;
}

export { backendMemory, kernels };
export type { BackendWasm };
