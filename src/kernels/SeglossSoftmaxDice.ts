import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { addressOf, kernels, withScratch, writeF32, type BackendWasm } from '../wasm/backend.js';
import { labelKind } from '../losses/labels.js';
import { scanIndexLabels } from './validate_index_labels.js';
import { SeglossSoftmaxDice, type LabelsAndLogits, type SoftmaxDiceAttrs } from './kernel_names.js';

/** Fused softmax + Dice on the wasm backend: loss and dLoss/dlogits from `softmax_dice_fwd_bwd`. */
function softmaxDice(args: { backend: unknown; inputs: LabelsAndLogits; attrs?: NamedAttrMap }): TensorInfo[] {
  const backend = args.backend as BackendWasm;
  const { labels, logits } = args.inputs;
  const attrs = args.attrs as unknown as SoftmaxDiceAttrs;
  const [N, H, W, C] = logits.shape;
  const k = kernels(backend);
  scanIndexLabels(backend, k, labels, C);
  const groups = attrs.perImage ? N : 1;
  const loss = backend.makeOutput([], 'float32');
  const grad = backend.makeOutput(attrs.withGrad ? logits.shape : [0], 'float32');
  // Per group and class three f64 sums and two f64 coefficients; then the kernel's tile of 5·C vectors.
  const tileOffset = groups * C * 5 * 8;
  const value = withScratch(backend, tileOffset + 5 * C * 16, (scratch) => k.softmax_dice_fwd_bwd(
    addressOf(backend, labels), labelKind(labels), addressOf(backend, logits),
    attrs.withGrad ? addressOf(backend, grad) : 0, groups, (N * H * W) / groups, C, attrs.square ? 1 : 0, attrs.includeBackground ? 0 : 1,
    attrs.epsilon, scratch, scratch + tileOffset));
  writeF32(backend, addressOf(backend, loss), [value]);
  return [loss, grad];
}

export const softmaxDiceConfig: KernelConfig = {
  kernelName: SeglossSoftmaxDice,
  backendName: 'wasm',
  kernelFunc: softmaxDice as unknown as KernelFunc,
};
