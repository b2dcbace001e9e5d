import {
  backend_util, DepthwiseConv2dNativeBackpropInput, util,
  type DepthwiseConv2dNativeBackpropInputAttrs,
  type KernelConfig, type KernelFunc, type TensorInfo,
} from '@tensorflow/tfjs-core';
import { addressOf, kernels, type BackendWasm } from '../wasm/backend.js';
import { convGeometry } from './conv_geometry.js';

/** ∂L/∂x of depthwiseConv2d (tfjs-backend-wasm has none). */
function depthwiseConv2dNativeBackpropInput(args: {
  backend: BackendWasm; inputs: { dy: TensorInfo; filter: TensorInfo }; attrs: DepthwiseConv2dNativeBackpropInputAttrs;
}): TensorInfo {
  const { backend, inputs: { dy, filter }, attrs } = args;
  const { strides, dilations, pad, dimRoundingMode, inputShape } = attrs;
  const info = backend_util.computeConv2DInfo(inputShape, filter.shape as [number, number, number, number], strides,
    dilations, pad, dimRoundingMode, true);
  const dx = backend.makeOutput(inputShape, 'float32');
  if (util.sizeFromShape(inputShape) === 0) return dx;
  kernels(backend).depthwise_conv2d_backprop_input(
    addressOf(backend, dy), // dy [N, OH, OW, Cin·M]
    addressOf(backend, filter), // filter [FH, FW, Cin, M]
    addressOf(backend, dx), // dx [N, H, W, Cin], written whole
    ...convGeometry(info, true));
  return dx;
}

export const depthwiseConv2dNativeBackpropInputConfig: KernelConfig = {
  kernelName: DepthwiseConv2dNativeBackpropInput,
  backendName: 'wasm',
  kernelFunc: depthwiseConv2dNativeBackpropInput as unknown as KernelFunc,
};
