import {
  backend_util, Conv3D, Conv3DBackpropFilterV2, Conv3DBackpropInputV2, util,
  type Conv3DAttrs, type Conv3DBackpropFilterV2Attrs, type Conv3DBackpropInputV2Attrs, type KernelConfig, type KernelFunc, type TensorInfo,
} from '@tensorflow/tfjs-core';
import { addressOf, backendMemory, kernels, withScratch, type BackendWasm } from '../wasm/backend.js';
import { batchCollective } from '../parallel/collective.js';
import { foldOverBatch, imageAddress } from '../parallel/fold.js';
import { conv3DGeometry, flipTransposeFilter } from './conv_geometry.js';
import { originalKernel } from './replace.js';

/**
 * ∂L/∂x of conv3d, which is also conv3dTranspose's forward pass, on the wasm backend
 * (assembly/kernels/conv2d_backprop.ts, `conv3d_backprop_input`). tfjs-backend-wasm 4.22's own
 * kernel gives wrong values (a 3×3×3 'same' input gradient off by up to 13 against tfjs-cpu's
 * 1e-6), so a 3D U-Net's transposed convolutions and input gradients could not train on wasm
 * (bench/RESULTS.md, issue #14). NDHWC, any strides and padding; tfjs's conv3d gradient takes no
 * dilations.
 */
function conv3DBackpropInputV2(args: {
  backend: BackendWasm; inputs: { dy: TensorInfo; filter: TensorInfo }; attrs: Conv3DBackpropInputV2Attrs;
}): TensorInfo {
  const { backend, inputs: { dy, filter }, attrs: { strides, pad, inputShape } } = args;
  const info = backend_util.computeConv3DInfo(inputShape as [number, number, number, number, number],
    filter.shape as [number, number, number, number, number], strides, 1, pad);
  const dx = backend.makeOutput(inputShape, 'float32');
  if (util.sizeFromShape(inputShape) === 0) return dx;
  withScratch(backend, util.sizeFromShape(filter.shape) * 4, (filterT) => kernels(backend).conv3d_backprop_input(
    addressOf(backend, dy), addressOf(backend, filter), addressOf(backend, dx), filterT, ...conv3DGeometry(info)));
  return dx;
}

export const conv3DBackpropInputV2Config: KernelConfig = {
  kernelName: Conv3DBackpropInputV2,
  backendName: 'wasm',
  kernelFunc: conv3DBackpropInputV2 as unknown as KernelFunc,
};

/**
 * ∂L/∂w of conv3d on the wasm backend (`conv3d_backprop_filter`): tfjs-backend-wasm 4.22's own
 * Conv3DBackpropFilterV2 is wrong for strides above 1 (off by up to 5.6 against tfjs-cpu for a
 * 2×2×2 / stride-2 conv, a 3D U-Net's transposed convs), and slow.
 */
function conv3DBackpropFilterV2(args: {
  backend: BackendWasm; inputs: { x: TensorInfo; dy: TensorInfo }; attrs: Conv3DBackpropFilterV2Attrs;
}): TensorInfo {
  const { backend, inputs: { x, dy }, attrs: { strides, pad, filterShape } } = args;
  const info = backend_util.computeConv3DInfo(x.shape as [number, number, number, number, number],
    filterShape as [number, number, number, number, number], strides, 1, pad);
  const dw = backend.makeOutput(filterShape, 'float32');
  if (util.sizeFromShape(filterShape) === 0) return dw;
  const collective = batchCollective(x.shape);
  if (collective) {
    // A data-parallel step: each image's ∂L/∂filter, added in image order (src/parallel/).
    const [, ...image] = conv3DGeometry(info);
    foldOverBatch(backend, collective, 'f32', util.sizeFromShape(filterShape), (k, at) => kernels(backend).conv3d_backprop_filter(
      imageAddress(backend, x, collective.count, k), imageAddress(backend, dy, collective.count, k), at, 1, ...image), addressOf(backend, dw));
    return dw;
  }
  kernels(backend).conv3d_backprop_filter(addressOf(backend, x), addressOf(backend, dy), addressOf(backend, dw), ...conv3DGeometry(info));
  return dw;
}

export const conv3DBackpropFilterV2Config: KernelConfig = {
  kernelName: Conv3DBackpropFilterV2,
  backendName: 'wasm',
  kernelFunc: conv3DBackpropFilterV2 as unknown as KernelFunc,
};

/**
 * conv3d forward on the wasm backend for stride 1, 'same' padding and odd kernels (a 3D U-Net's
 * 3×3×3 and 1×1×1 convs): the input gradient's kernel on the flipped, channel-transposed filter
 * computes exactly that convolution (out = conv_same(x, W) = ∂x of conv_same with W′[k, co, ci] =
 * W[K − 1 − k, ci, co]), ~18× faster than tfjs-backend-wasm 4.22's Conv3D there. Other geometries
 * go to tfjs's kernel.
 */
function conv3D(args: {
  backend: BackendWasm; inputs: { x: TensorInfo; filter: TensorInfo }; attrs: Conv3DAttrs;
}): TensorInfo {
  const { backend, inputs: { x, filter }, attrs } = args;
  const { strides, pad, dilations, dataFormat } = attrs;
  const [fd, fh, fw, cin, cout] = filter.shape as [number, number, number, number, number];
  const info = backend_util.computeConv3DInfo(x.shape as [number, number, number, number, number],
    filter.shape as [number, number, number, number, number], strides, dilations ?? 1, pad);
  const { front, back, top, bottom, left, right } = info.padInfo;
  const same = fd % 2 === 1 && fh % 2 === 1 && fw % 2 === 1 && front === (fd - 1) / 2 && back === front
    && top === (fh - 1) / 2 && bottom === top && left === (fw - 1) / 2 && right === left;
  const unit = info.strideDepth === 1 && info.strideHeight === 1 && info.strideWidth === 1
    && info.dilationDepth === 1 && info.dilationHeight === 1 && info.dilationWidth === 1;
  if (!same || !unit || (dataFormat != null && dataFormat !== 'NDHWC') || x.dtype !== 'float32') {
    return originalKernel(conv3DConfig)!.kernelFunc(args as never) as TensorInfo;
  }
  const out = backend.makeOutput([info.batchSize, info.outDepth, info.outHeight, info.outWidth, cout], 'float32');
  if (util.sizeFromShape(out.shape) === 0) return out;
  const taps = fd * fh * fw;
  withScratch(backend, 2 * taps * cin * cout * 4, (scratch) => {
    const memory = backendMemory(backend).buffer;
    const w = new Float32Array(memory, addressOf(backend, filter), taps * cin * cout);
    flipTransposeFilter(w, new Float32Array(memory, scratch, taps * cin * cout), taps, cin, cout);
    kernels(backend).conv3d_backprop_input(addressOf(backend, x), scratch, addressOf(backend, out), scratch + taps * cin * cout * 4,
      info.batchSize, info.outDepth, info.outHeight, info.outWidth, cout, info.inDepth, info.inHeight, info.inWidth, cin,
      fd, fh, fw, 1, 1, 1, front, top, left);
  });
  return out;
}

export const conv3DConfig: KernelConfig = {
  kernelName: Conv3D,
  backendName: 'wasm',
  kernelFunc: conv3D as unknown as KernelFunc,
};
