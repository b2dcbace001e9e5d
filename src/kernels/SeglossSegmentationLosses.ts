import {
  type GradConfig, type KernelConfig, type KernelFunc, type NamedAttrMap, type Tensor, type TensorInfo,
  engine,
} from '@tensorflow/tfjs-core';
import { addressOf, backendMemory, kernels, withScratch, writeF32, type BackendWasm } from '../wasm/backend.js';
import { labelsNotDifferentiable } from './grad_utils.js';
import { labelKind } from '../losses/labels.js';
import { LOSS_NAMES } from '../losses/types.js';
import { assertIndexLabelsInRange } from './validate_index_labels.js';
import {
  SeglossSegmentationLosses, SeglossSegmentationLossesGrad, type LabelsAndLogits,
  type SegmentationLossesAttrs, type SegmentationLossesGradInputs,
} from './kernel_names.js';

/**
 * The five seed losses in one pass (`seg_losses_fwd`): outputs the five scalars in LOSS_NAMES
 * order and the per-class sums [5, C] the backward pass needs.
 */
function segmentationLosses(args: { backend: unknown; inputs: LabelsAndLogits; attrs?: NamedAttrMap }): TensorInfo[] {
  const backend = args.backend as BackendWasm;
  const { labels, logits } = args.inputs;
  const { epsilon } = args.attrs as unknown as SegmentationLossesAttrs;
  const [N, H, W, C] = logits.shape;
  const k = kernels(backend);
  assertIndexLabelsInRange(backend, k, labels, C);
  const sums = backend.makeOutput([5, C], 'float32');
  const losses = LOSS_NAMES.map(() => backend.makeOutput([], 'float32'));
  // Scratch: 5·C f64 of sums, the kernel's tile of 8·C vectors, then the five float32 losses.
  const tileAt = 5 * C * 8;
  const lossesAt = tileAt + 8 * C * 16;
  withScratch(backend, lossesAt + 5 * 4, (scratch) => {
    k.seg_losses_fwd(addressOf(backend, labels), labelKind(labels), addressOf(backend, logits), N * H * W, C,
      epsilon, scratch, addressOf(backend, sums), scratch + lossesAt, scratch + tileAt);
    const values = new Float32Array(backendMemory(backend).buffer, scratch + lossesAt, 5).slice();
    losses.forEach((loss, i) => writeF32(backend, addressOf(backend, loss), [values[i]]));
  });
  return [...losses, sums];
}

/** dLoss/dlogits for upstream gradients dy_k of the five losses (`seg_losses_bwd`). */
function segmentationLossesGrad(args: { backend: unknown; inputs: SegmentationLossesGradInputs; attrs?: NamedAttrMap }): TensorInfo {
  const backend = args.backend as BackendWasm;
  const { labels, logits, sums, dyCce, dyDice, dyDiceSquare, dyDicefg, dyDicefgSquare } = args.inputs;
  const { epsilon } = args.attrs as unknown as SegmentationLossesAttrs;
  const [N, H, W, C] = logits.shape;
  const k = kernels(backend);
  const grad = backend.makeOutput(logits.shape, 'float32');
  const memory = backendMemory(backend);
  const weights = [dyCce, dyDice, dyDiceSquare, dyDicefg, dyDicefgSquare]
    .map((dy) => new Float32Array(memory.buffer, addressOf(backend, dy), 1)[0]);
  // Scratch: 3·C f64 of coefficients, the kernel's tile of 3·C vectors, then the five weights.
  const tileAt = 3 * C * 8;
  const weightsAt = tileAt + 3 * C * 16;
  withScratch(backend, weightsAt + 5 * 4, (scratch) => {
    writeF32(backend, scratch + weightsAt, weights);
    k.seg_losses_bwd(addressOf(backend, labels), labelKind(labels), addressOf(backend, logits),
      addressOf(backend, grad), N * H * W, C, epsilon, addressOf(backend, sums), scratch + weightsAt, scratch,
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

/**
 * The gradient of any combination of the five outputs in one backward pass: tfjs hands in dy for
 * every output (zeros for the ones not being differentiated) and the kernel weighs each loss's
 * gradient by its dy. The sums output is not differentiable.
 */
export const segmentationLossesGradConfig: GradConfig = {
  kernelName: SeglossSegmentationLosses,
  inputsToSave: ['labels', 'logits'],
  outputsToSave: [false, false, false, false, false, true],
  gradFunc: (dys: Tensor | Tensor[], saved: Tensor[], attrs?: NamedAttrMap) => {
    const dy = dys as Tensor[];
    const [labels, logits, sums] = saved;
    const { epsilon } = attrs as unknown as SegmentationLossesAttrs;
    return {
      logits: () => engine().runKernel(SeglossSegmentationLossesGrad, {
        labels, logits, sums,
        dyCce: dy[0], dyDice: dy[1], dyDiceSquare: dy[2], dyDicefg: dy[3], dyDicefgSquare: dy[4],
      }, { epsilon }) as Tensor,
      labels: labelsNotDifferentiable('segmentationLosses', saved),
    };
  },
};
