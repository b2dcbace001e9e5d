/**
 * The one way segloss's kernels reduce over a data-parallel step's batch (src/parallel/collective.ts):
 * each of this thread's images gets its own partial, the collective gathers every image's, and
 * `fold_f32` / `fold_f64` (assembly/kernels/reduce.ts) add them in image order. One thread runs
 * the same code with every image its own, so the sums are the same bits for any thread count.
 */
import { addressOf, backendMemory, kernels, withScratch, type BackendWasm } from '../wasm/backend.js';
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { Collective } from './collective.js';

/**
 * Writes to `out` the sum over the batch of every image's partial: `partial(k, address)` writes
 * this thread's k-th image's partial (`length` values of `type`) at `address`, zeroed first.
 */
export function foldOverBatch(
  backend: BackendWasm, collective: Collective, type: 'f32' | 'f64', length: number,
  partial: (image: number, address: number) => void, out: number,
): void {
  const bytes = length * (type === 'f64' ? 8 : 4);
  const { batch, count } = collective;
  withScratch(backend, batch * bytes, (slots) => {
    new Uint8Array(backendMemory(backend).buffer, slots, count * bytes).fill(0);
    for (let k = 0; k < count; k++) partial(k, slots + k * bytes);
    if (collective.size > 1) {
      // Views made after the partials: the kernels may have grown the memory.
      const all = collective.gather(new Int32Array(backendMemory(backend).buffer, slots, (count * bytes) / 4), bytes / 4);
      new Int32Array(backendMemory(backend).buffer, slots, (batch * bytes) / 4).set(all);
    }
    const k = kernels(backend);
    if (type === 'f64') k.fold_f64(slots, batch, length, out);
    else k.fold_f32(slots, batch, length, out);
  });
}

/** Bytes of one image of a tensor whose first axis is `images`. */
function imageBytes(tensor: TensorInfo, images: number): number {
  return (tensor.shape.reduce((a, b) => a * b, 1) / images) * 4;
}

/** Address of image k of `tensor`. */
export function imageAddress(backend: BackendWasm, tensor: TensorInfo, images: number, k: number): number {
  return addressOf(backend, tensor) + k * imageBytes(tensor, images);
}
