import {
  backend_util, DepthwiseConv2dNativeBackpropFilter, util,
  type DepthwiseConv2dNativeBackpropFilterAttrs,
  type KernelConfig, type KernelFunc, type TensorInfo,
} from '@tensorflow/tfjs-core';
import { addressOf, kernels, type BackendWasm } from '../wasm/backend.js';
import { convGeometry } from './conv_geometry.js';

/** ∂L/∂filter of depthwiseConv2d (tfjs-backend-wasm has none). */
function depthwiseConv2dNativeBackpropFilter(args: {
  backend: BackendWasm; inputs: { x: TensorInfo; dy: TensorInfo }; attrs: DepthwiseConv2dNativeBackpropFilterAttrs;
}): TensorInfo {
  const { backend, inputs: { x, dy }, attrs } = args;
  const { strides, dilations, pad, dimRoundingMode, filterShape } = attrs;
  const info = backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides,
    dilations, pad, dimRoundingMode, true);
  const dw = backend.makeOutput(filterShape, 'float32');
  if (util.sizeFromShape(filterShape) === 0) return dw;
  kernels(backend).depthwise_conv2d_backprop_filter(
    addressOf(backend, x), // x [N, H, W, Cin]
    addressOf(backend, dy), // dy [N, OH, OW, Cin·M]
    addressOf(backend, dw), // dw [FH, FW, Cin, M], written whole
    ...convGeometry(info, true));
  return dw;
}

export const depthwiseConv2dNativeBackpropFilterConfig: KernelConfig = {
  kernelName: DepthwiseConv2dNativeBackpropFilter,
  backendName: 'wasm',
  kernelFunc: depthwiseConv2dNativeBackpropFilter as unknown as KernelFunc,
};
