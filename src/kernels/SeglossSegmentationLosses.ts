import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { addressOf, kernels, withScratch, type BackendWasm } from '../wasm/backend.js';
import { labelKind } from '../losses/labels.js';
import { LOSS_NAMES } from '../losses/types.js';
import { scanIndexLabels } from './validate_index_labels.js';
import {
  SeglossSegmentationLosses, SeglossSegmentationLossesGrad, type LabelsAndLogits,
  type SegmentationLossesAttrs, type SegmentationLossesGradInputs,
} from './kernel_names.js';

/**
 * The five seed losses in one pass (`seg_losses_fwd`): outputs the losses [5] in LOSS_NAMES order
 * and the per-class sums [5, C] the backward pass needs.
 */
function segmentationLosses(args: { backend: unknown; inputs: LabelsAndLogits; attrs?: NamedAttrMap }): TensorInfo[] {
  const backend = args.backend as BackendWasm;
  const { labels, logits } = args.inputs;
  const { epsilon } = args.attrs as unknown as SegmentationLossesAttrs;
  const [N, H, W, C] = logits.shape;
  const k = kernels(backend);
  scanIndexLabels(backend, k, labels, C);
  const losses = backend.makeOutput([LOSS_NAMES.length], 'float32');
  const sums = backend.makeOutput([5, C], 'float32');
  // Scratch: 5·C f64 of sums, then the kernel's tile of 8·C vectors.
  const tileAt = 5 * C * 8;
  withScratch(backend, tileAt + 8 * C * 16, (scratch) => k.seg_losses_fwd(
    addressOf(backend, labels), labelKind(labels), addressOf(backend, logits), N * H * W, C, epsilon, scratch,
    addressOf(backend, sums), addressOf(backend, losses), scratch + tileAt));
  return [losses, sums];
}

/** dLoss/dlogits for upstream gradients dy_k of the five losses (`seg_losses_bwd`). */
function segmentationLossesGrad(args: { backend: unknown; inputs: SegmentationLossesGradInputs; attrs?: NamedAttrMap }): TensorInfo {
  const backend = args.backend as BackendWasm;
  const { labels, logits, sums, dy } = args.inputs;
  const { epsilon } = args.attrs as unknown as SegmentationLossesAttrs;
  const [N, H, W, C] = logits.shape;
  const k = kernels(backend);
  const grad = backend.makeOutput(logits.shape, 'float32');
  // Scratch: 3·C f64 of coefficients, then the kernel's tile of 3·C vectors. dy [5] is read in place.
  const tileAt = 3 * C * 8;
  withScratch(backend, tileAt + 3 * C * 16, (scratch) => {
    k.seg_losses_bwd(addressOf(backend, labels), labelKind(labels), addressOf(backend, logits),
      addressOf(backend, grad), N * H * W, C, epsilon, addressOf(backend, sums), addressOf(backend, dy), scratch,
      scratch + tileAt);
  });
  return grad;
}

export const segmentationLossesConfig: KernelConfig = {
  kernelName: SeglossSegmentationLosses,
  backendName: 'wasm',
  kernelFunc: segmentationLosses as unknown as KernelFunc,
};

export const segmentationLossesGradKernelConfig: KernelConfig = {
  kernelName: SeglossSegmentationLossesGrad,
  backendName: 'wasm',
  kernelFunc: segmentationLossesGrad as unknown as KernelFunc,
};
