import { backend_util } from '@tensorflow/tfjs-core';

/** The conv geometry the AssemblyScript conv kernels take, in their argument order. */
export type ConvGeometry = [
  batch: number, inH: number, inW: number, inC: number, outH: number, outW: number,
  outCOrMultiplier: number, filterH: number, filterW: number, strideH: number, strideW: number,
  dilationH: number, dilationW: number, padTop: number, padLeft: number,
];

/**
 * tfjs's own convInfo (padding 'same' | 'valid' | number | explicit, dilations, dimRoundingMode)
 * flattened for the kernels. `depthwise` passes the channel multiplier instead of Cout.
 */
export function convGeometry(info: backend_util.Conv2DInfo, depthwise: boolean): ConvGeometry {
  return [
    info.batchSize, info.inHeight, info.inWidth, info.inChannels, info.outHeight, info.outWidth,
    depthwise ? info.outChannels / info.inChannels : info.outChannels, info.filterHeight, info.filterWidth,
    info.strideHeight, info.strideWidth, info.dilationHeight, info.dilationWidth,
    info.padInfo.top, info.padInfo.left,
  ];
}

/** The 3D conv geometry the AssemblyScript conv3d kernels take, in their argument order. */
export type Conv3DGeometry = [
  batch: number, inD: number, inH: number, inW: number, inC: number, outD: number, outH: number, outW: number,
  outC: number, filterD: number, filterH: number, filterW: number, strideD: number, strideH: number, strideW: number,
  padFront: number, padTop: number, padLeft: number,
];

/** tfjs's own 3D convInfo flattened for the conv3d kernels (their gradients take no dilations). */
export function conv3DGeometry(info: backend_util.Conv3DInfo): Conv3DGeometry {
  return [
    info.batchSize, info.inDepth, info.inHeight, info.inWidth, info.inChannels,
    info.outDepth, info.outHeight, info.outWidth, info.outChannels,
    info.filterDepth, info.filterHeight, info.filterWidth, info.strideDepth, info.strideHeight, info.strideWidth,
    info.padInfo.front, info.padInfo.top, info.padInfo.left,
  ];
}

/** segloss's conv kernels are NHWC only: anything else is a clear error, never a wrong answer. */
export function assertChannelsLast(kernel: string, dataFormat: string | undefined): void {
  if (dataFormat != null && dataFormat !== 'NHWC') {
    throw new Error(`segloss: ${kernel} on the wasm backend supports dataFormat 'NHWC' only, got '${dataFormat}'`);
  }
}

/**
 * The filter of a convolution's input gradient as a convolution of its own: spatially flipped,
 * input and output channels swapped, W′[t, co, ci] = W[T − 1 − t, ci, co] over the T = FH·FW(·FD)
 * spatial taps in row-major order (flipping the linear tap index flips every spatial axis).
 */
export function flipTransposeFilter(w: Float32Array, out: Float32Array, taps: number, cin: number, cout: number): void {
  for (let t = 0; t < taps; t++) {
    const src = (taps - 1 - t) * cin * cout;
    const dst = t * cout * cin;
    for (let ci = 0; ci < cin; ci++) {
      for (let co = 0; co < cout; co++) out[dst + co * cin + ci] = w[src + ci * cout + co];
    }
  }
}
