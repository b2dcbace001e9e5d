/** Every kernel segloss adds to tfjs's wasm backend, in one list. */
import { getKernel, registerKernel, type KernelConfig } from '@tensorflow/tfjs-core';
import { softmaxCrossEntropyConfig } from './SeglossSoftmaxCrossEntropy.js';
import { segmentationLossesConfig, segmentationLossesGradKernelConfig } from './SeglossSegmentationLosses.js';
import { regionGradConfig, regionStatsConfig } from './SeglossRegionLosses.js';
import { lovaszSoftmaxConfig } from './SeglossLovaszSoftmax.js';
import { conv2DBackpropFilterConfig } from './Conv2DBackpropFilter.js';
import { depthwiseConv2dNativeBackpropFilterConfig } from './DepthwiseConv2dNativeBackpropFilter.js';
import { depthwiseConv2dNativeBackpropInputConfig } from './DepthwiseConv2dNativeBackpropInput.js';
import { conv2DBackpropInputConfig } from './Conv2DBackpropInput.js';
import { sumConfig } from './Sum.js';
import { tileConfig } from './Tile.js';
import { splitVConfig } from './SplitV.js';
import { maxPoolGradConfig } from './MaxPoolGrad.js';
import { conv3DBackpropFilterV2Config, conv3DBackpropInputV2Config, conv3DConfig } from './Conv3DBackprop.js';
import { batchNormTrainingConfig, batchNormTrainingGradConfig } from './SeglossBatchNormTraining.js';
import { adamUpdateConfig } from './SeglossAdamUpdate.js';
import { replaceKernel, restoreKernel } from './replace.js';
import { useFusedLayersBatchNorm } from '../tfjs/layers_batch_norm.js';

export const kernelConfigs: readonly KernelConfig[] = [
  softmaxCrossEntropyConfig,
  segmentationLossesConfig,
  segmentationLossesGradKernelConfig,
  // The region-loss engine: Dice's other forms, generalized Dice, Tversky (src/losses/region.ts).
  regionStatsConfig,
  regionGradConfig,
  lovaszSoftmaxConfig,
  // The training kernels tfjs-backend-wasm 4.22 lacks (tensorflow/tfjs#8474).
  conv2DBackpropFilterConfig,
  depthwiseConv2dNativeBackpropFilterConfig,
  depthwiseConv2dNativeBackpropInputConfig,
  // Batch norm in training mode, forward and backward fused (src/ops/batch_norm_training.ts).
  batchNormTrainingConfig,
  batchNormTrainingGradConfig,
  // Adam for all variables in one call (src/ops/fused_adam.ts).
  adamUpdateConfig,
];

/** tfjs-backend-wasm kernels segloss replaces by faster ones of its own (bench/RESULTS.md). */
export const replacementConfigs: readonly KernelConfig[] = [
  conv2DBackpropInputConfig,
  // Float32 sums over every axis but the last (bias gradients); other reductions go to tfjs's Sum.
  sumConfig,
  // Tile by memory copies (tfjs's batch-norm gradient tiles a [C] vector to the activation's shape).
  tileConfig,
  // SplitV by row copies (a concatenation's gradient).
  splitVConfig,
  // MaxPoolGrad for windows that do not overlap (2×2 / stride 2), four channels per vector.
  maxPoolGradConfig,
  // conv3d's input gradient (and conv3dTranspose), and its filter gradient: tfjs-wasm 4.22's give wrong values.
  conv3DBackpropInputV2Config,
  conv3DBackpropFilterV2Config,
  // conv3d forward for stride 1, 'same', odd kernels: the input gradient's kernel on the flipped filter, ~18× tfjs-wasm's.
  conv3DConfig,
];

let replacing = false;

/**
 * Registers what is not registered yet, and installs the replacements (`replace`) or puts tfjs's
 * originals back; calling it twice is harmless. The replacements include tfjs-layers'
 * BatchNormalization training call on the fused kernels (src/tfjs/layers_batch_norm.ts).
 */
export function registerAll(replace: boolean): void {
  for (const config of kernelConfigs) {
    if (getKernel(config.kernelName, config.backendName) == null) registerKernel(config);
  }
  for (const config of replacementConfigs) {
    if (replace) replaceKernel(config);
    else restoreKernel(config);
  }
  replacing = replace;
  useFusedLayersBatchNorm(replace);
}

/** Whether setupWasmKernels() installed the replacements (its `replaceTfjsKernels`). */
export function replacingTfjsKernels(): boolean {
  return replacing;
}
