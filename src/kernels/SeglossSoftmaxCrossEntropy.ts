import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { addressOf, kernels, withScratch, writeF32, type BackendWasm } from '../wasm/backend.js';
import { labelKind } from '../losses/labels.js';
import { scanIndexLabels } from './validate_index_labels.js';
import { SeglossSoftmaxCrossEntropy, type LabelsAndLogits, type SoftmaxCrossEntropyAttrs } from './kernel_names.js';

/**
 * Fused softmax + CCE on the wasm backend: one call of `softmax_cce_fwd_bwd` writes the loss and
 * dLoss/dlogits (for an upstream gradient of 1) into two new tensors; without `withGrad` the
 * gradient output is empty and the kernel skips its writes.
 */
function softmaxCrossEntropy(args: { backend: unknown; inputs: LabelsAndLogits; attrs?: NamedAttrMap }): TensorInfo[] {
  const backend = args.backend as BackendWasm;
  const { labels, logits } = args.inputs;
  const attrs = args.attrs as unknown as SoftmaxCrossEntropyAttrs;
  const [N, H, W, C] = logits.shape;
  const pixels = N * H * W;
  const kind = labelKind(labels);
  const hasWeights = attrs.classWeights.length > 0;
  const k = kernels(backend);
  const labelsAt = addressOf(backend, labels);

  // Scratch: C float32 weights, then (16-byte aligned) the kernel's tile of 3·C vectors.
  const tileOffset = Math.ceil((C * 4) / 16) * 16;
  return withScratch(backend, tileOffset + 3 * C * 16, (weights) => {
    writeF32(backend, weights, hasWeights ? attrs.classWeights : new Array<number>(C).fill(1));
    // The mean's denominator; index labels are validated on the way (before any output exists).
    const denominator = scanIndexLabels(backend, k, labels, C, { weights: hasWeights ? weights : 0, ignoreIndex: attrs.ignoreIndex })
      ?? (hasWeights ? k.one_hot_weight_sum(labelsAt, pixels, C, weights) : pixels);
    const perPixel = attrs.reduction === 'none';
    const loss = backend.makeOutput(perPixel ? [N, H, W] : [], 'float32');
    const grad = backend.makeOutput(attrs.withGrad ? logits.shape : [0], 'float32');
    // A mean over no counted pixel (every one ignored) is 0, with a zero gradient.
    const scale = attrs.reduction === 'mean' ? (denominator > 0 ? 1 / denominator : 0) : 1;
    const total = k.softmax_cce_fwd_bwd(
      labelsAt, kind, addressOf(backend, logits), attrs.withGrad ? addressOf(backend, grad) : 0,
      perPixel ? addressOf(backend, loss) : 0, pixels, C, weights,
      // After the scan every index label is in [0, C): −1 then never matches.
      attrs.ignoreIndex ?? -1, attrs.clip ? 1 : 0, attrs.epsilon, scale, weights + tileOffset);
    if (!perPixel) {
      writeF32(backend, addressOf(backend, loss), [attrs.reduction === 'mean' ? (denominator > 0 ? total / denominator : 0) : total]);
    }
    return [loss, grad];
  });
}

export const softmaxCrossEntropyConfig: KernelConfig = {
  kernelName: SeglossSoftmaxCrossEntropy,
  backendName: 'wasm',
  kernelFunc: softmaxCrossEntropy as unknown as KernelFunc,
};
