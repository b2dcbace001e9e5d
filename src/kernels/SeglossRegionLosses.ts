import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { addressOf, kernels, withScratch, type BackendWasm } from '../wasm/backend.js';
import { labelKind } from '../losses/labels.js';
import { scanIndexLabels } from './validate_index_labels.js';
import {
  SeglossRegionGrad, SeglossRegionStats, type RegionGradAttrs, type RegionStatsAttrs,
} from './kernel_names.js';

interface Geometry {
  classes: number;
  pixels: number;
}

function geometry(input: TensorInfo): Geometry {
  const classes = input.shape[input.shape.length - 1];
  return { classes, pixels: input.shape.reduce((a, b) => a * b, 1) / classes };
}

/** The region engine's statistics pass: the f64 sums per group and class, and p when asked. */
function regionStats(args: { backend: unknown; inputs: { labels: TensorInfo; input: TensorInfo }; attrs?: NamedAttrMap }): TensorInfo[] {
  const backend = args.backend as BackendWasm;
  const { labels, input } = args.inputs;
  const attrs = args.attrs as unknown as RegionStatsAttrs;
  const { classes, pixels } = geometry(input);
  const k = kernels(backend);
  // One channel: index labels are a binary mask, 0 or 1.
  scanIndexLabels(backend, k, labels, classes === 1 ? 2 : classes, { ignoreIndex: attrs.ignoreIndex });
  const sums = backend.makeOutput([attrs.groups * classes * 5 * 2], 'float32');
  const probs = backend.makeOutput(attrs.withProbs ? input.shape : [0], 'float32');
  withScratch(backend, classes * 6 * 4, (scratch) => k.region_stats(
    addressOf(backend, labels), labelKind(labels), addressOf(backend, input), attrs.withProbs ? addressOf(backend, probs) : 0,
    attrs.activation, attrs.groups, pixels / attrs.groups, classes, attrs.ignoreIndex == null ? 0 : 1,
    attrs.ignoreIndex ?? 0, addressOf(backend, sums), scratch));
  return [sums, probs];
}

/** The region engine's gradient pass: dLoss/dinput from p and the per-class coefficients a, b, k. */
function regionGrad(args: { backend: unknown; inputs: { labels: TensorInfo; probs: TensorInfo; coefs: TensorInfo }; attrs?: NamedAttrMap }): TensorInfo {
  const backend = args.backend as BackendWasm;
  const { labels, probs, coefs } = args.inputs;
  const attrs = args.attrs as unknown as RegionGradAttrs;
  const { classes, pixels } = geometry(probs);
  const k = kernels(backend);
  const grad = backend.makeOutput(probs.shape, 'float32');
  withScratch(backend, classes * 4 * 4, (scratch) => k.region_grad(
    addressOf(backend, labels), labelKind(labels), addressOf(backend, probs), addressOf(backend, grad), attrs.activation,
    attrs.groups, pixels / attrs.groups, classes, attrs.ignoreIndex == null ? 0 : 1, attrs.ignoreIndex ?? 0,
    addressOf(backend, coefs), scratch));
  return grad;
}

export const regionStatsConfig: KernelConfig = {
  kernelName: SeglossRegionStats,
  backendName: 'wasm',
  kernelFunc: regionStats as unknown as KernelFunc,
};

export const regionGradConfig: KernelConfig = {
  kernelName: SeglossRegionGrad,
  backendName: 'wasm',
  kernelFunc: regionGrad as unknown as KernelFunc,
};
