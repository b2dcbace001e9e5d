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

/** segloss's conv kernels are NHWC only: anything else is a clear error, never a wrong answer. */
export function assertChannelsLast(kernel: string, dataFormat: string | undefined): void {
  if (dataFormat != null && dataFormat !== 'NHWC') {
    throw new Error(`segloss: ${kernel} on the wasm backend supports dataFormat 'NHWC' only, got '${dataFormat}'`);
  }
}
