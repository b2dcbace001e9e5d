/**
 * The global norm √(Σ_t ‖t‖²) of a list of float32 tensors, as a number (for logging gradient
 * norms). On the wasm backend it reads the tensors' bytes in place, one wasm call per tensor and
 * no tfjs op; elsewhere it is tfjs ops and one read-back.
 */
import {
  addN, backend as currentBackend, getBackend, sqrt, square, sum, tidy, type Tensor,
} from '@tensorflow/tfjs-core';
import { activeKernelVariant, addressOf, kernels, type BackendWasm } from '../wasm/backend.js';

export function globalNorm(tensors: readonly Tensor[]): number {
  if (getBackend() === 'wasm' && activeKernelVariant() != null) {
    const backend = currentBackend() as BackendWasm;
    const k = kernels(backend);
    let total = 0;
    for (const t of tensors) total += k.sum_squares_f32(addressOf(backend, t), t.size);
    return Math.sqrt(total);
  }
  return tidy(() => sqrt(addN(tensors.map((t) => sum(square(t))))).dataSync()[0]);
}
