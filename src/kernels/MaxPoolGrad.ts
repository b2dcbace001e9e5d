import {
  backend_util, MaxPoolGrad, util, type KernelConfig, type KernelFunc, type MaxPoolGradAttrs, type TensorInfo,
} from '@tensorflow/tfjs-core';
import { addressOf, kernels, type BackendWasm } from '../wasm/backend.js';
import { originalKernel } from './replace.js';

/**
 * MaxPoolGrad on the wasm backend for windows that do not overlap (filter = stride, no padding,
 * no dilation, float32): the 2×2 / stride-2 pooling of U-Nets, four channels per f32x4
 * (assembly/kernels/pool.ts), the max position chosen as tfjs chooses it. Every other pooling goes
 * to tfjs-backend-wasm's kernel, which took 10 ms a call at a U-Net's 128² × 16 (bench/RESULTS.md,
 * issue #14).
 */
function maxPoolGrad(args: { backend: unknown; inputs: { dy: TensorInfo; input: TensorInfo }; attrs: MaxPoolGradAttrs }): TensorInfo {
  const { backend, inputs: { dy, input }, attrs: { filterSize, strides, pad, dimRoundingMode } } = args;
  const info = backend_util.computePool2DInfo(input.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
  const { padInfo } = info;
  const disjoint = info.filterHeight === info.strideHeight && info.filterWidth === info.strideWidth
    && info.dilationHeight === 1 && info.dilationWidth === 1
    && padInfo.top === 0 && padInfo.left === 0 && padInfo.bottom === 0 && padInfo.right === 0
    && info.outHeight * info.strideHeight <= info.inHeight && info.outWidth * info.strideWidth <= info.inWidth;
  if (input.dtype !== 'float32' || !disjoint) {
    return originalKernel(maxPoolGradConfig)!.kernelFunc(args as never) as TensorInfo;
  }
  const wasm = backend as BackendWasm;
  const dx = wasm.makeOutput(input.shape, 'float32');
  if (util.sizeFromShape(input.shape) === 0) return dx;
  kernels(wasm).maxpool_grad_disjoint(addressOf(wasm, input), addressOf(wasm, dy), addressOf(wasm, dx), info.batchSize,
    info.inHeight, info.inWidth, info.inChannels, info.outHeight, info.outWidth, info.filterHeight, info.filterWidth);
  return dx;
}

export const maxPoolGradConfig: KernelConfig = {
  kernelName: MaxPoolGrad,
  backendName: 'wasm',
  kernelFunc: maxPoolGrad as unknown as KernelFunc,
};
