/**
 * How the public ops run segloss's fused kernels on the wasm backend and make them
 * differentiable.
 *
 * A fused kernel writes the loss and dLoss/dlogits together. tf.customGrad records the op as one
 * tape node whose only output is the loss and which saves the gradient for backprop. A kernel
 * gradient registered with tfjs would not do: the gradient would have to be a second kernel
 * output, and tfjs fills the upstream gradient of every output not being differentiated with
 * zeros of its size, a full N×H×W×C tensor written on every backward pass.
 *
 * The labels are captured, not inputs of that node: the ops are not differentiable with respect
 * to labels on this path (tfjs then says "Cannot compute gradient ... with respect to x"); the
 * composite forms (losses.cceComposite, …) are.
 */
import {
  customGrad, engine, expandDims, getBackend, getKernel, keep, mul, reshape, tidy, unstack, util,
  type GradSaveFunc, type NamedAttrMap, type Scalar, type Tensor,
} from '@tensorflow/tfjs-core';
import { activeKernelVariant } from '../wasm/backend.js';
import { SeglossSegmentationLosses, SeglossSegmentationLossesGrad } from '../kernels/kernel_names.js';
import { firstInvalidIndexLabel, invalidIndexLabelError } from './labels.js';

/** tf.customGrad's argument type (tfjs-core does not export its name). */
export type CustomGradientFunc = Parameters<typeof customGrad>[0];

let compositeOnly = false;

/** True when the current backend is 'wasm' and setupWasmKernels() has registered `kernelName`. */
export function fusedKernelAvailable(kernelName: string): boolean {
  return !compositeOnly && getBackend() === 'wasm' && activeKernelVariant() != null && getKernel(kernelName, 'wasm') != null;
}

/**
 * Runs `body` with every op on its tfjs-op composite path, whatever the backend (for benchmarks:
 * the baseline on the same backend as the fused kernels). Not part of the public API.
 */
export function withCompositeLosses<T>(body: () => T): T {
  const before = compositeOnly;
  compositeOnly = true;
  try {
    return body();
  } finally {
    compositeOnly = before;
  }
}

/** True inside tf.grad / variableGrads / minimize, where a gradient may be asked for. */
export function recordingGradients(): boolean {
  return engine().state.gradientDepth > 0;
}

/**
 * dy · g for the gradient g a fused kernel wrote for an upstream gradient of 1. When dy is the
 * scalar 1 (the loss itself is differentiated, the usual case) this is g itself, as a reshape
 * (zero-copy on wasm), not another pass over it. Reading one float back is free on wasm.
 */
export function scaleFusedGradient(grad: Tensor, dy: Tensor): Tensor {
  if (dy.size === 1 && dy.dataSync()[0] === 1) return reshape(grad, grad.shape);
  return dy.rank === 0 ? mul(grad, dy) : mul(grad, expandDims(dy, -1));
}

/** What the fused ops inside fusedValueAndGrad handed over: the last one's gradient, value and input, and how many did. */
interface DirectGradient {
  grad: Tensor | null;
  value: Tensor | null;
  input: Tensor | null;
  ops: number;
}

let direct: DirectGradient | null = null;

/**
 * The value of `loss(logits)` and its gradient with respect to `logits`, for an upstream
 * gradient of 1, straight from a fused kernel's outputs: no tape, no saved tensors, no gradient
 * pass (what a training loop backpropagating by hand needs: tf.valueAndGrad's numbers, three
 * kernel calls fewer). `loss` must make one fused op of segloss's kernels (categorical
 * cross-entropy, Lovász-softmax, or any loss of the region engine with a scalar value: Dice and the
 * rest of the zoo) of `logits` themselves and return its scalar as it is; when it took no fused
 * kernel (another backend, the composite), took more than one, or changed its input or its value
 * on the way (a reshape, a scale), this returns null and disposes what it made.
 */
export function fusedValueAndGrad(logits: Tensor, loss: (logits: Tensor) => Tensor): { value: Tensor; grad: Tensor } | null {
  const outer = direct;
  const mine: DirectGradient = { grad: null, value: null, input: null, ops: 0 };
  direct = mine;
  try {
    let value: Tensor;
    try {
      value = loss(logits);
    } catch (e) {
      mine.grad?.dispose(); // kept past tidy, so nothing else would release it
      throw e;
    }
    const exact = mine.ops === 1 && mine.value === value && mine.input === logits;
    if (mine.grad == null || !exact || value.rank !== 0 || !util.arraysEqual(mine.grad.shape, logits.shape)) {
      value.dispose();
      mine.grad?.dispose();
      return null;
    }
    return { value, grad: mine.grad };
  } finally {
    direct = outer;
  }
}

/** True inside fusedValueAndGrad: a fused loss hands it its gradient (`giveDirectGradient`) and records no tape node. */
export function directGradientWanted(): boolean {
  return direct != null;
}

/**
 * Inside fusedValueAndGrad: `grad` is the gradient of the loss `value` with respect to `input` for an
 * upstream gradient of 1; fusedValueAndGrad owns it now.
 */
export function giveDirectGradient(grad: Tensor, value: Tensor, input: Tensor): void {
  if (direct!.grad) direct!.grad.dispose();
  direct!.grad = keep(grad); // past any tidy of the op
  direct!.value = value;
  direct!.input = input;
  direct!.ops++;
}

/**
 * Runs a kernel with outputs [loss, dLoss/dlogits] (for an upstream gradient of 1; the gradient
 * is only computed when a tape records, attr `withGrad`) as a loss differentiable in `logits`.
 * A per-pixel loss [N,H,W] scales the gradient pixel by pixel.
 */
export function runFusedLoss(kernelName: string, labels: Tensor, logits: Tensor, attrs: object): Tensor {
  if (direct) {
    // Inside fusedValueAndGrad: the kernel's own gradient, no tape node.
    const [loss, grad] = engine().runKernel(kernelName, { labels, logits }, { ...attrs, withGrad: true } as unknown as NamedAttrMap) as Tensor[];
    giveDirectGradient(grad, loss, logits);
    return loss;
  }
  const withGrad = recordingGradients();
  const op = customGrad(((z: Tensor, save: GradSaveFunc) => {
    const [loss, grad] = engine().runKernel(kernelName, { labels, logits: z },
      { ...attrs, withGrad } as unknown as NamedAttrMap) as Tensor[];
    if (withGrad) save([grad]);
    return { value: loss, gradFunc: (dy: Tensor, [saved]: Tensor[]) => scaleFusedGradient(saved, dy) };
  }) as CustomGradientFunc);
  return op(logits);
}

/**
 * The five-loss kernel as five scalars differentiable in `logits`: any of them, or any weighted
 * sum, backpropagates through one pass of SeglossSegmentationLossesGrad.
 */
export function runFusedSegmentationLosses(labels: Tensor, logits: Tensor, epsilon: number): Scalar[] {
  const withGrad = recordingGradients();
  const op = customGrad(((z: Tensor, save: GradSaveFunc) => {
    const [losses, sums] = engine().runKernel(SeglossSegmentationLosses, { labels, logits: z }, { epsilon }) as Tensor[];
    if (withGrad) save([labels, z, sums]);
    return {
      value: losses,
      gradFunc: (dy: Tensor, [savedLabels, savedLogits, savedSums]: Tensor[]) => engine().runKernel(
        SeglossSegmentationLossesGrad, { labels: savedLabels, logits: savedLogits, sums: savedSums, dy },
        { epsilon }) as Tensor,
    };
  }) as CustomGradientFunc);
  return tidy(() => unstack(op(logits))) as Scalar[];
}

/**
 * The composite path's check of index labels (the fused kernels scan them in wasm). Reads the
 * labels back, which is cheap on cpu and acceptable on the fallback path elsewhere.
 */
export function checkIndexLabelsInRange(labels: Tensor, classes: number, ignoreIndex: number | null): void {
  if (labels.dtype !== 'int32') return;
  const values = labels.dataSync() as Int32Array;
  const bad = firstInvalidIndexLabel(values, classes, ignoreIndex);
  if (bad >= 0) throw invalidIndexLabelError(labels.shape, bad, values[bad], classes, ignoreIndex);
}
