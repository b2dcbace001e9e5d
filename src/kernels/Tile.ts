import {
  Tile, util, type KernelConfig, type KernelFunc, type TensorInfo, type TileAttrs,
} from '@tensorflow/tfjs-core';
import { addressOf, backendMemory, kernels, withScratch, type BackendWasm } from '../wasm/backend.js';
import { originalKernel } from './replace.js';

/**
 * The axes of a tile, merged where they can be: an axis of size 1 repeated once is dropped, and an
 * axis whose inner neighbour is not repeated absorbs it (their elements stay contiguous in both
 * input and output). Returns [size, reps] per remaining axis, outermost first (at least one).
 */
export function mergeTileAxes(shape: readonly number[], reps: readonly number[]): [number, number][] {
  const axes: [number, number][] = [];
  shape.forEach((size, d) => {
    if (size === 1 && reps[d] === 1) return;
    const last = axes[axes.length - 1];
    if (last && reps[d] === 1) last[0] *= size;
    else axes.push([size, reps[d]]);
  });
  return axes.length > 0 ? axes : [[1, 1]];
}

/**
 * Tile on the wasm backend: memory copies only (assembly/kernels/tile.ts), for every dtype of
 * fixed width. tfjs-backend-wasm's own moves one element at a time with index arithmetic: in a
 * tfjs-layers U-Net its Tile calls (batch norm's gradient tiles a [C] vector to the activation's
 * shape) took more time than every convolution (bench/RESULTS.md, issue #14).
 */
function tile(args: { backend: unknown; inputs: { x: TensorInfo }; attrs: TileAttrs }): TensorInfo {
  const { backend, inputs: { x }, attrs: { reps } } = args;
  if (x.dtype === 'string' || x.dtype === 'complex64') {
    return originalKernel(tileConfig)!.kernelFunc(args as never) as TensorInfo;
  }
  const wasm = backend as BackendWasm;
  const outShape = x.shape.map((size, d) => size * reps[d]);
  const out = wasm.makeOutput(outShape, x.dtype);
  if (util.sizeFromShape(outShape) === 0) return out;
  const bytes = util.bytesPerElement(x.dtype);
  const axes = mergeTileAxes(x.shape, reps);
  const table = new Int32Array(4 * axes.length);
  let inStride = bytes;
  let outStride = bytes;
  for (let d = axes.length - 1; d >= 0; d--) {
    const [size, rep] = axes[d];
    table.set([size, rep, inStride, outStride], 4 * d);
    inStride *= size;
    outStride *= size * rep;
  }
  withScratch(wasm, table.byteLength, (at) => {
    new Int32Array(backendMemory(wasm).buffer, at, table.length).set(table);
    kernels(wasm).tile_bytes(addressOf(wasm, x), addressOf(wasm, out), at, axes.length, bytes);
  });
  return out;
}

export const tileConfig: KernelConfig = {
  kernelName: Tile,
  backendName: 'wasm',
  kernelFunc: tile as unknown as KernelFunc,
};
