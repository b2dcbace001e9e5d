import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { addressOf, kernels, withScratch, writeF32, type BackendWasm } from '../wasm/backend.js';
import { labelKind } from '../losses/labels.js';
import { scanIndexLabels } from './validate_index_labels.js';
import {
  PIXEL_KINDS, SeglossRegionGrad, SeglossRegionStats, type RegionGradAttrs, type RegionStatsAttrs,
} from './kernel_names.js';

/** region_stats' `regionOn` flags (assembly/kernels/region_common.ts). */
const REGION_ON = 1;
const REGION_SQUARES = 2;

function geometry(input: TensorInfo): { classes: number; pixels: number } {
  const classes = input.shape[input.shape.length - 1];
  return { classes, pixels: input.shape.reduce((a, b) => a * b, 1) / classes };
}

/** Bytes of scratch: the kernel's own, after the pixel term's parameters (8-byte aligned). */
const paramBytes = (params: readonly number[]) => Math.ceil(params.length / 2) * 8;

/** The region engine's statistics pass: the f64 sums per group and class, the pixel term's totals, p and per-pixel values when asked. */
function regionStats(args: { backend: unknown; inputs: { labels: TensorInfo; input: TensorInfo }; attrs?: NamedAttrMap }): TensorInfo[] {
  const backend = args.backend as BackendWasm;
  const { labels, input } = args.inputs;
  const attrs = args.attrs as unknown as RegionStatsAttrs;
  const { classes, pixels } = geometry(input);
  const k = kernels(backend);
  // One channel: index labels are a binary mask, 0 or 1. The scan counts the pixels not ignored.
  const counted = scanIndexLabels(backend, k, labels, classes === 1 ? 2 : classes, { ignoreIndex: attrs.ignoreIndex }) ?? pixels;
  const sums = backend.makeOutput([(attrs.groups * classes * 5 + attrs.groups * 2) * 2], 'float32');
  const probs = backend.makeOutput(attrs.withProbs ? input.shape : [0], 'float32');
  const perPixel = attrs.pixelKind === PIXEL_KINDS.ce || attrs.pixelKind === PIXEL_KINDS.focalSoftmax;
  const values = backend.makeOutput(!attrs.pixelValues ? [0] : perPixel ? input.shape.slice(0, -1) : input.shape, 'float32');
  const grad = backend.makeOutput(attrs.oneShot ? input.shape : [0], 'float32');
  const saved = backend.makeOutput(attrs.saved === 'pixel' ? input.shape.slice(0, -1) : attrs.saved === 'element' ? input.shape : [0], 'float32');
  const offset = paramBytes(attrs.params);
  const simdOffset = offset + Math.ceil(((classes * 7 + 4) * 4) / 16) * 16;
  withScratch(backend, simdOffset + classes * 9 * 16, (scratch) => {
    writeF32(backend, scratch, attrs.params);
    let gradScale = 1;
    if (attrs.oneShot && attrs.reduction === 'mean') {
      // The mean's denominator, as the pass will add it up: counted elements (BCE, sigmoid focal),
      // Σ w_y over counted pixels (CE with class weights; w is the parameters' head), counted pixels.
      const weighted = attrs.pixelKind === PIXEL_KINDS.ce && attrs.params[2 * classes + 3] === 1;
      const denominator = !perPixel ? counted * classes
        : !weighted ? counted
          : labels.dtype === 'int32' ? scanIndexLabels(backend, k, labels, classes, { weights: scratch, ignoreIndex: attrs.ignoreIndex })!
            : k.one_hot_weight_sum(addressOf(backend, labels), pixels, classes, scratch);
      gradScale = denominator > 0 ? 1 / denominator : 0; // every pixel ignored: a mean of 0, no gradient
    }
    k.region_stats(
      addressOf(backend, labels), labelKind(labels), addressOf(backend, input), attrs.withProbs ? addressOf(backend, probs) : 0,
      attrs.activation, attrs.groups, pixels / attrs.groups, classes, attrs.ignoreIndex == null ? 0 : 1,
      attrs.ignoreIndex ?? 0, attrs.regionOn ? (attrs.squares ? REGION_ON | REGION_SQUARES : REGION_ON) : 0, addressOf(backend, sums), attrs.pixelKind, attrs.pxAct, scratch,
      attrs.pixelValues ? addressOf(backend, values) : 0, scratch + offset, scratch + simdOffset,
      attrs.oneShot ? addressOf(backend, grad) : 0, gradScale, attrs.saved !== 'none' ? addressOf(backend, saved) : 0);
  });
  return [sums, probs, values, grad, saved];
}

/** The region engine's gradient pass: dLoss/dinput from p, the region coefficients and the pixel term. */
function regionGrad(args: {
  backend: unknown;
  inputs: { labels: TensorInfo; input: TensorInfo; probs: TensorInfo; coefs: TensorInfo; pixelDy: TensorInfo; saved: TensorInfo };
  attrs?: NamedAttrMap;
}): TensorInfo {
  const backend = args.backend as BackendWasm;
  const { labels, input, probs, coefs, pixelDy, saved } = args.inputs;
  const attrs = args.attrs as unknown as RegionGradAttrs;
  const { classes, pixels } = geometry(input);
  const k = kernels(backend);
  const grad = backend.makeOutput(input.shape, 'float32');
  const offset = paramBytes(attrs.params);
  const simdOffset = offset + Math.ceil((classes * 6 * 4) / 16) * 16;
  withScratch(backend, simdOffset + classes * 5 * 16, (scratch) => {
    writeF32(backend, scratch, attrs.params);
    k.region_grad(
      addressOf(backend, labels), labelKind(labels), addressOf(backend, input), attrs.regionOn ? addressOf(backend, probs) : 0,
      addressOf(backend, grad), attrs.activation, attrs.groups, pixels / attrs.groups, classes,
      attrs.ignoreIndex == null ? 0 : 1, attrs.ignoreIndex ?? 0, attrs.regionOn ? 1 : 0,
      attrs.regionOn ? addressOf(backend, coefs) : 0, attrs.pixelKind, attrs.pxAct, scratch, attrs.pixelScale,
      pixelDy.shape.reduce((a, b) => a * b, 1) > 0 ? addressOf(backend, pixelDy) : 0, scratch + offset, scratch + simdOffset,
      saved.shape.reduce((a, b) => a * b, 1) > 0 ? addressOf(backend, saved) : 0);
  });
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
