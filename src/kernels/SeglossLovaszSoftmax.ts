import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { addressOf, kernels, withScratch, writeF32, type BackendWasm } from '../wasm/backend.js';
import { labelKind } from '../losses/labels.js';
import { scanIndexLabels } from './validate_index_labels.js';
import { SeglossLovaszSoftmax, type LabelsAndLogits, type LovaszSoftmaxAttrs } from './kernel_names.js';

/** The radix sort's counts: four digits of 10 bits, u32 each (assembly/kernels/lovasz.ts). */
const LOVASZ_COUNT_BYTES = 4 * 1024 * 4;

/** Lovász-softmax on the wasm backend: the loss, and its gradient in the same call (`lovasz_softmax`). */
function lovaszSoftmax(args: { backend: unknown; inputs: LabelsAndLogits; attrs?: NamedAttrMap }): TensorInfo[] {
  const backend = args.backend as BackendWasm;
  const { labels, logits } = args.inputs;
  const attrs = args.attrs as unknown as LovaszSoftmaxAttrs;
  const C = logits.shape[logits.shape.length - 1];
  const pixels = logits.shape.reduce((a, b) => a * b, 1) / C;
  const k = kernels(backend);
  scanIndexLabels(backend, k, labels, C, { ignoreIndex: attrs.ignoreIndex });
  const groups = attrs.perImage ? logits.shape[0] : 1;
  const perGroup = pixels / groups;
  const loss = backend.makeOutput([], 'float32');
  const grad = backend.makeOutput(attrs.withGrad ? logits.shape : [0], 'float32');
  const value = withScratch(backend, perGroup * C * 8 + 8 + perGroup * 16 + LOVASZ_COUNT_BYTES + C * 16 + 32, (scratch) => k.lovasz_softmax(
    addressOf(backend, labels), labelKind(labels), addressOf(backend, logits), attrs.withGrad ? addressOf(backend, grad) : 0,
    attrs.softmax ? 1 : 0, groups, perGroup, C, attrs.ignoreIndex == null ? 0 : 1, attrs.ignoreIndex ?? 0,
    attrs.allClasses ? 1 : 0, scratch));
  writeF32(backend, addressOf(backend, loss), [value]);
  return [loss, grad];
}

export const lovaszSoftmaxConfig: KernelConfig = {
  kernelName: SeglossLovaszSoftmax,
  backendName: 'wasm',
  kernelFunc: lovaszSoftmax as unknown as KernelFunc,
};
