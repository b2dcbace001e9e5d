import type { TensorInfo } from '@tensorflow/tfjs-core';
import { addressOf, backendMemory, type BackendWasm } from '../wasm/backend.js';
import type { KernelExports } from '../wasm/module.js';
import { invalidIndexLabelError, LABELS_INDEX, labelKind } from '../losses/labels.js';

/**
 * Scans int32 index labels in wasm (`index_labels_scan`): throws if one is outside [0, C) and not
 * `ignoreIndex`, else returns the counted pixels' total weight (their number when `weights` is
 * 0), the CCE mean's denominator. No-op returning null for one-hot labels.
 */
export function scanIndexLabels(
  backend: BackendWasm, k: KernelExports, labels: TensorInfo, classes: number,
  { weights = 0, ignoreIndex = null }: { weights?: number; ignoreIndex?: number | null } = {},
): number | null {
  if (labelKind(labels) !== LABELS_INDEX) return null;
  const at = addressOf(backend, labels);
  const pixels = labels.shape.reduce((a, b) => a * b, 1);
  const scan = k.index_labels_scan(at, pixels, classes, weights, ignoreIndex == null ? 0 : 1, ignoreIndex ?? 0);
  if (scan < 0) {
    const pixel = -scan - 1;
    const value = new Int32Array(backendMemory(backend).buffer, at, pixels)[pixel];
    throw invalidIndexLabelError(labels.shape, pixel, value, classes, ignoreIndex);
  }
  return scan;
}
