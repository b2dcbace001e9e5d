import {
  Sum, util, type KernelConfig, type KernelFunc, type SumAttrs, type TensorInfo,
} from '@tensorflow/tfjs-core';
import { addressOf, kernels, withScratch, type BackendWasm } from '../wasm/backend.js';
import { originalKernel } from './replace.js';

/**
 * Sum on the wasm backend: a float32 reduction over every axis but the last (a bias gradient, as
 * tfjs's Add gradient forms it: bench/RESULTS.md) streams the rows once in wasm
 * (`sum_leading_axes_f32`); tfjs-backend-wasm's own Sum transposes such an input first. Every
 * other reduction goes to tfjs's kernel.
 */
function sumLeadingAxes(args: { backend: unknown; inputs: { x: TensorInfo }; attrs: SumAttrs }): TensorInfo {
  const { backend, inputs: { x }, attrs: { axis, keepDims } } = args;
  const rank = x.shape.length;
  const axes = [...util.parseAxisParam(axis, x.shape)].sort((a, b) => a - b);
  const size = util.sizeFromShape(x.shape);
  const leading = rank >= 2 && axes.length === rank - 1 && axes.every((a, k) => a === k);
  if (x.dtype !== 'float32' || !leading || size === 0) {
    return originalKernel(sumConfig)!.kernelFunc(args as never) as TensorInfo;
  }
  const wasm = backend as BackendWasm;
  const cols = x.shape[rank - 1];
  const out = wasm.makeOutput(keepDims ? [...new Array<number>(rank - 1).fill(1), cols] : [cols], 'float32');
  withScratch(wasm, cols * 12 + 8, (acc) => kernels(wasm).sum_leading_axes_f32(
    addressOf(wasm, x), size / cols, cols, addressOf(wasm, out), acc));
  return out;
}

export const sumConfig: KernelConfig = {
  kernelName: Sum,
  backendName: 'wasm',
  kernelFunc: sumLeadingAxes as unknown as KernelFunc,
};
