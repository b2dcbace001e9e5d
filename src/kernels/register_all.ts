/** Every kernel segloss adds to tfjs, in one list. */
import { getKernel, registerKernel, type KernelConfig } from '@tensorflow/tfjs-core';
import { softmaxCrossEntropyConfig } from './SeglossSoftmaxCrossEntropy.js';
import { softmaxDiceConfig } from './SeglossSoftmaxDice.js';
import { segmentationLossesConfig, segmentationLossesGradKernelConfig } from './SeglossSegmentationLosses.js';

export const kernelConfigs: readonly KernelConfig[] = [
  softmaxCrossEntropyConfig,
  softmaxDiceConfig,
  segmentationLossesConfig,
  segmentationLossesGradKernelConfig,
];

/** Registers what is not registered yet (so calling it twice is harmless). */
export function registerAll(): void {
  for (const config of kernelConfigs) {
    if (getKernel(config.kernelName, config.backendName) == null) registerKernel(config);
  }
}
