import {
  Sum, util, type KernelConfig, type KernelFunc, type SumAttrs, type TensorInfo,
} from '@tensorflow/tfjs-core';
import { addressOf, kernels, withScratch, type BackendWasm } from '../wasm/backend.js';
import { batchCollective } from '../parallel/collective.js';
import { foldOverBatch, imageAddress } from '../parallel/fold.js';
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
  // Every axis but the last, leaving out only axes of size 1 (a broadcast bias of [1, 1, 1, C]
  // over a batch of one image reduces [1, 2] alone): the same sums.
  const leading = rank >= 2 && !axes.includes(rank - 1) && x.shape.slice(0, -1).every((d, a) => axes.includes(a) || d === 1);
  if (x.dtype !== 'float32' || !leading || size === 0) {
    return originalKernel(sumConfig)!.kernelFunc(args as never) as TensorInfo;
  }
  const wasm = backend as BackendWasm;
  const cols = x.shape[rank - 1];
  const shape = keepDims ? x.shape.map((d, a) => (axes.includes(a) ? 1 : d)) : x.shape.filter((_, a) => !axes.includes(a));
  const out = wasm.makeOutput(shape, 'float32');
  const collective = batchCollective(x.shape);
  withScratch(wasm, cols * 12 + 8, (acc) => {
    if (!collective) {
      kernels(wasm).sum_leading_axes_f32(addressOf(wasm, x), size / cols, cols, addressOf(wasm, out), acc);
      return;
    }
    // A bias gradient in a data-parallel step: each image's sum, added in image order (src/parallel/).
    const rows = size / cols / collective.count;
    foldOverBatch(wasm, collective, 'f32', cols, (k, at) => kernels(wasm).sum_leading_axes_f32(
      imageAddress(wasm, x, collective.count, k), rows, cols, at, acc), addressOf(wasm, out));
  });
  return out;
}

export const sumConfig: KernelConfig = {
  kernelName: Sum,
  backendName: 'wasm',
  kernelFunc: sumLeadingAxes as unknown as KernelFunc,
};
