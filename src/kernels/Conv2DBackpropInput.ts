import {
  backend_util, Conv2D, Conv2DBackpropInput, getKernel, util,
  type Conv2DAttrs, type Conv2DBackpropInputAttrs, type KernelConfig, type KernelFunc, type TensorInfo,
} from '@tensorflow/tfjs-core';
import { addressOf, backendMemory, kernels, withScratch, type BackendWasm } from '../wasm/backend.js';
import { assertChannelsLast, convGeometry, flipTransposeFilter } from './conv_geometry.js';

/**
 * From this many input and output channels on, a stride-1 'same' ∂L/∂x runs as tfjs-backend-wasm's
 * forward Conv2D (XNNPACK) on the flipped filter; below it segloss's own kernel is faster
 * (bench/RESULTS.md, issue #14).
 */
export const FORWARD_CONV_MIN_CHANNELS = 8;

/**
 * ∂L/∂x of a stride-1 convolution with odd kernel sizes and 'same' padding ((k − 1)/2 on every
 * side) is itself such a convolution: dx = conv2d(dy, W′, 'same') with W′[ky, kx, co, ci] =
 * W[FH − 1 − ky, FW − 1 − kx, ci, co]. This runs it on tfjs-backend-wasm's forward Conv2D kernel
 * (XNNPACK), which at 16–128 channels is 2–2.5× faster than a direct input gradient. Returns null
 * when the geometry or the channel counts are not that case.
 */
function viaForwardConv(backend: BackendWasm, dy: TensorInfo, filter: TensorInfo, info: backend_util.Conv2DInfo): TensorInfo | null {
  const [fh, fw, cin, cout] = filter.shape as [number, number, number, number];
  const { top, bottom, left, right } = info.padInfo;
  const same = fh % 2 === 1 && fw % 2 === 1 && top === (fh - 1) / 2 && bottom === top && left === (fw - 1) / 2 && right === left;
  if (info.strideHeight !== 1 || info.strideWidth !== 1 || info.dilationHeight !== 1 || info.dilationWidth !== 1 || !same
    || Math.min(cin, cout) < FORWARD_CONV_MIN_CHANNELS) return null;
  const conv = getKernel(Conv2D, 'wasm');
  if (conv == null) return null;
  const flipped = backend.makeOutput([fh, fw, cout, cin], 'float32');
  const memory = backendMemory(backend).buffer;
  const w = new Float32Array(memory, addressOf(backend, filter), fh * fw * cin * cout);
  flipTransposeFilter(w, new Float32Array(memory, addressOf(backend, flipped), fh * fw * cin * cout), fh * fw, cin, cout);
  try {
    const attrs: Conv2DAttrs = { strides: 1, pad: 'same', dataFormat: 'NHWC', dilations: 1, dimRoundingMode: undefined };
    return conv.kernelFunc({ backend, inputs: { x: dy, filter: flipped }, attrs: attrs as never }) as TensorInfo;
  } finally {
    backend.disposeData(flipped.dataId);
  }
}

/**
 * ∂L/∂x of conv2d, replacing tfjs-backend-wasm's own: at the seed's channel counts (1–16) its
 * generic path is the slowest kernel of a training step (bench/RESULTS.md); from 8 channels on,
 * stride-1 'same' cases run as a forward convolution (`viaForwardConv`).
 */
function conv2DBackpropInput(args: {
  backend: BackendWasm; inputs: { dy: TensorInfo; filter: TensorInfo }; attrs: Conv2DBackpropInputAttrs;
}): TensorInfo {
  const { backend, inputs: { dy, filter }, attrs } = args;
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs;
  assertChannelsLast(Conv2DBackpropInput, dataFormat);
  const info = backend_util.computeConv2DInfo(inputShape, filter.shape as [number, number, number, number],
    strides, 1 /* tfjs's conv2d gradient takes no dilations */, pad, dimRoundingMode, false, 'channelsLast');
  if (util.sizeFromShape(inputShape) > 0) {
    const viaConv = viaForwardConv(backend, dy, filter, info);
    if (viaConv) return viaConv;
  }
  const dx = backend.makeOutput(inputShape, 'float32');
  if (util.sizeFromShape(inputShape) === 0) return dx;
  withScratch(backend, util.sizeFromShape(filter.shape) * 4, (filterT) => kernels(backend).conv2d_backprop_input(
    addressOf(backend, dy), // dy [N, OH, OW, Cout]
    addressOf(backend, filter), // filter [FH, FW, Cin, Cout]
    addressOf(backend, dx), // dx [N, H, W, Cin], written whole
    filterT, // scratch for the filter as [FH, FW, Cout, Cin]
    ...convGeometry(info, false)));
  return dx;
}

export const conv2DBackpropInputConfig: KernelConfig = {
  kernelName: Conv2DBackpropInput,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropInput as unknown as KernelFunc,
};
