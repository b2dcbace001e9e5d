import { engine, getBackend, getKernel, type Tensor } from '@tensorflow/tfjs-core';
import { activeKernelVariant } from '../wasm/backend.js';
import { firstInvalidIndexLabel, invalidIndexLabelError } from './labels.js';

/** True when the current backend is 'wasm' and setupWasmKernels() has registered `kernelName`. */
export function fusedKernelAvailable(kernelName: string): boolean {
  return getBackend() === 'wasm' && activeKernelVariant() != null && getKernel(kernelName, 'wasm') != null;
}

/** True inside tf.grad / variableGrads / minimize, where a gradient may be asked for. */
export function recordingGradients(): boolean {
  return engine().state.gradientDepth > 0;
}

/**
 * The composite path's check of index labels (the fused kernels scan them in wasm). Reads the
 * labels back, which is cheap on cpu and acceptable on the fallback path elsewhere.
 */
export function checkIndexLabelsInRange(labels: Tensor, classes: number, ignoreIndex: number | null): void {
  if (labels.dtype !== 'int32') return;
  const values = labels.dataSync() as Int32Array;
  const bad = firstInvalidIndexLabel(values, classes, ignoreIndex);
  if (bad >= 0) throw invalidIndexLabelError(labels.shape, bad, values[bad], classes, ignoreIndex);
}
