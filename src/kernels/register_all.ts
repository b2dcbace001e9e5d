/** Every kernel and gradient segloss adds to tfjs, in one list. */
import { getKernel, registerGradient, registerKernel, getGradient, type GradConfig, type KernelConfig } from '@tensorflow/tfjs-core';
import { softmaxCrossEntropyConfig, softmaxCrossEntropyGradConfig } from './SeglossSoftmaxCrossEntropy.js';
import { softmaxDiceConfig, softmaxDiceGradConfig } from './SeglossSoftmaxDice.js';
import {
  segmentationLossesConfig, segmentationLossesGradConfig, segmentationLossesGradKernelConfig,
} from './SeglossSegmentationLosses.js';

export const kernelConfigs: readonly KernelConfig[] = [
  softmaxCrossEntropyConfig,
  softmaxDiceConfig,
  segmentationLossesConfig,
  segmentationLossesGradKernelConfig,
];

export const gradConfigs: readonly GradConfig[] = [
  softmaxCrossEntropyGradConfig,
  softmaxDiceGradConfig,
  segmentationLossesGradConfig,
];

/** Registers what is not registered yet (so calling it twice is harmless). */
export function registerAll(): void {
  for (const config of kernelConfigs) {
    if (getKernel(config.kernelName, config.backendName) == null) registerKernel(config);
  }
  for (const config of gradConfigs) {
    if (getGradient(config.kernelName) == null) registerGradient(config);
  }
}
