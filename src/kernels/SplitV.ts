import {
  backend_util, SplitV, util, type KernelConfig, type KernelFunc, type SplitVAttrs, type TensorInfo,
} from '@tensorflow/tfjs-core';
import { addressOf, kernels, type BackendWasm } from '../wasm/backend.js';
import { originalKernel } from './replace.js';

/**
 * SplitV on the wasm backend: each output is a strided copy of rows (one memory copy per row of
 * the axes from the split axis in, assembly/kernels/tile.ts), for every fixed-width dtype.
 * tfjs-backend-wasm's slices element by element: the gradient of a U-Net's skip concatenation
 * (splitting [N, H, W, 2C] into two [N, H, W, C]) took 9 ms a call at 128² (bench/RESULTS.md,
 * issue #14).
 */
function splitV(args: { backend: unknown; inputs: { x: TensorInfo }; attrs: SplitVAttrs }): TensorInfo[] {
  const { backend, inputs: { x }, attrs: { numOrSizeSplits, axis } } = args;
  if (x.dtype === 'string' || x.dtype === 'complex64') {
    return originalKernel(splitVConfig)!.kernelFunc(args as never) as TensorInfo[];
  }
  const wasm = backend as BackendWasm;
  const $axis = util.parseAxisParam(axis, x.shape)[0];
  const sizes = backend_util.prepareSplitSize(x as never, numOrSizeSplits, $axis) as number[];
  const bytes = util.bytesPerElement(x.dtype);
  const rows = util.sizeFromShape(x.shape.slice(0, $axis));
  const inner = util.sizeFromShape(x.shape.slice($axis + 1)) * bytes;
  const srcStride = x.shape[$axis] * inner;
  let offset = 0;
  return sizes.map((size) => {
    const shape = [...x.shape];
    shape[$axis] = size;
    const out = wasm.makeOutput(shape, x.dtype);
    if (util.sizeFromShape(shape) > 0) {
      kernels(wasm).copy_rows(addressOf(wasm, x) + offset, srcStride, addressOf(wasm, out), size * inner, size * inner, rows);
    }
    offset += size * inner;
    return out;
  });
}

export const splitVConfig: KernelConfig = {
  kernelName: SplitV,
  backendName: 'wasm',
  kernelFunc: splitV as unknown as KernelFunc,
};
