import type { TensorInfo } from '@tensorflow/tfjs-core';
import { addressOf, backendMemory, type BackendWasm } from '../wasm/backend.js';
import type { KernelExports } from '../wasm/module.js';
import { invalidIndexLabelError, LABELS_INDEX, labelKind } from '../losses/labels.js';

/** Throws if int32 index labels hold a value outside [0, C) (no-op for one-hot labels). */
export function assertIndexLabelsInRange(backend: BackendWasm, k: KernelExports, labels: TensorInfo, classes: number): void {
  if (labelKind(labels) !== LABELS_INDEX) return;
  const at = addressOf(backend, labels);
  const pixels = labels.shape.reduce((a, b) => a * b, 1);
  const scan = k.index_labels_scan(at, pixels, classes, 0, 0, 0);
  if (scan < 0) {
    const pixel = -scan - 1;
    const value = new Int32Array(backendMemory(backend).buffer, at, pixels)[pixel];
    throw invalidIndexLabelError(labels.shape, pixel, value, classes, null);
  }
}
