import {
  backend_util, Conv2DBackpropFilter, util,
  type Conv2DBackpropFilterAttrs, type KernelConfig, type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { addressOf, kernels, type BackendWasm } from '../wasm/backend.js';
import { batchCollective } from '../parallel/collective.js';
import { foldOverBatch, imageAddress } from '../parallel/fold.js';
import { assertChannelsLast, convGeometry } from './conv_geometry.js';

/** ∂L/∂filter of conv2d (tfjs-backend-wasm has none): `conv2d_backprop_filter` on the tensors in place. */
function conv2DBackpropFilter(args: {
  backend: BackendWasm; inputs: { x: TensorInfo; dy: TensorInfo }; attrs: Conv2DBackpropFilterAttrs;
}): TensorInfo {
  const { backend, inputs: { x, dy }, attrs } = args;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs;
  assertChannelsLast(Conv2DBackpropFilter, dataFormat);
  const info = backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides,
    1 /* tfjs's conv2d gradient takes no dilations */, pad, dimRoundingMode, false, 'channelsLast');
  const dw = backend.makeOutput(filterShape, 'float32');
  if (util.sizeFromShape(filterShape) === 0) return dw;
  const geometry = convGeometry(info, false);
  const collective = batchCollective(x.shape);
  if (collective) {
    // A data-parallel step: each image's ∂L/∂filter, added in image order (src/parallel/).
    const [, ...image] = geometry;
    foldOverBatch(backend, collective, 'f32', util.sizeFromShape(filterShape), (k, at) => kernels(backend).conv2d_backprop_filter(
      imageAddress(backend, x, collective.count, k), imageAddress(backend, dy, collective.count, k), at, 1, ...image), addressOf(backend, dw));
    return dw;
  }
  kernels(backend).conv2d_backprop_filter(
    addressOf(backend, x), // x [N, H, W, Cin]
    addressOf(backend, dy), // dy [N, OH, OW, Cout]
    addressOf(backend, dw), // dw [FH, FW, Cin, Cout], written whole
    ...geometry);
  return dw;
}

export const conv2DBackpropFilterConfig: KernelConfig = {
  kernelName: Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilter as unknown as KernelFunc,
};
