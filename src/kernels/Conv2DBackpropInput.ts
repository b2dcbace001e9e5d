import {
  backend_util, Conv2DBackpropInput, util,
  type Conv2DBackpropInputAttrs, type KernelConfig, type KernelFunc, type TensorInfo,
} from '@tensorflow/tfjs-core';
import { addressOf, kernels, withScratch, type BackendWasm } from '../wasm/backend.js';
import { assertChannelsLast, convGeometry } from './conv_geometry.js';

/**
 * ∂L/∂x of conv2d, replacing tfjs-backend-wasm's own: at the seed's channel counts (1–16) its
 * generic path is the slowest kernel of a training step (bench/RESULTS.md).
 */
function conv2DBackpropInput(args: {
  backend: BackendWasm; inputs: { dy: TensorInfo; filter: TensorInfo }; attrs: Conv2DBackpropInputAttrs;
}): TensorInfo {
  const { backend, inputs: { dy, filter }, attrs } = args;
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs;
  assertChannelsLast(Conv2DBackpropInput, dataFormat);
  const info = backend_util.computeConv2DInfo(inputShape, filter.shape as [number, number, number, number],
    strides, 1 /* tfjs's conv2d gradient takes no dilations */, pad, dimRoundingMode, false, 'channelsLast');
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
