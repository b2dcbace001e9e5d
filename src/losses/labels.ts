/**
 * Label layouts shared by the kernels and the ops: one-hot (or soft) float32 [N,H,W,C], or int32
 * class indices [N,H,W]. The numbers match assembly/kernels/softmax_cce.ts.
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';

export const LABELS_ONE_HOT = 0;
export const LABELS_INDEX = 1;

export function labelKind(labels: TensorInfo): number {
  return labels.dtype === 'int32' ? LABELS_INDEX : LABELS_ONE_HOT;
}

/** Error for an index label outside [0, C): names the pixel by its index in the labels' shape, and the value. */
export function invalidIndexLabelError(
  shape: readonly number[], pixel: number, value: number, classes: number, ignoreIndex: number | null,
): Error {
  const at: number[] = [];
  for (let axis = shape.length - 1, rest = pixel; axis >= 0; axis--) {
    at.unshift(rest % shape[axis]);
    rest = Math.floor(rest / shape[axis]);
  }
  const ignored = ignoreIndex == null ? '' : ` and is not ignoreIndex (${ignoreIndex})`;
  return new Error(
    `segloss: labels[${at.join(', ')}] = ${value} is outside the class range [0, ${classes})${ignored}`);
}

/** Finds the first index label outside [0, C) that is not ignored, or −1. */
export function firstInvalidIndexLabel(values: Int32Array, classes: number, ignoreIndex: number | null): number {
  for (let i = 0; i < values.length; i++) {
    const y = values[i];
    if (y === ignoreIndex) continue;
    if (y < 0 || y >= classes) return i;
  }
  return -1;
}
