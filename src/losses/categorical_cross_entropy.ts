import { clipByValue, div, maximum, reshape, sum, tidy, type Tensor } from '@tensorflow/tfjs-core';
import { SeglossSoftmaxCrossEntropy, type SoftmaxCrossEntropyAttrs } from '../kernels/kernel_names.js';
import { cceComposite, DEFAULT_EPSILON, resolveCceOptions } from './composite.js';
import { checkIndexLabelsInRange, fusedKernelAvailable, runFusedLoss } from './fused.js';
import type { CategoricalCrossEntropyOptions } from './types.js';
import { crossEntropyOnEngine } from './pixel.js';
import { checkCceOptions, checkRegionInputs } from './validate.js';

/**
 * Softmax + categorical cross-entropy of logits against labels, fused into one pass on the wasm
 * backend (after `setupWasmKernels()`), composed from tfjs ops on any other backend — same numbers.
 *
 * Per pixel: −Σ_c y_c log p_c with p = softmax(logits) over the last axis. Differentiable with
 * respect to logits inside tf.grad, tf.variableGrads and optimizer.minimize (not with respect to
 * labels on the fused path: see src/losses/fused.ts; `cceComposite` is).
 *
 * ```js
 * const logits = tf.tensor4d([2, 0, 0, 3], [1, 1, 2, 2]);
 * const labels = tf.tensor3d([[[0, 1]]], [1, 1, 2], 'int32');
 * losses.categoricalCrossEntropy(labels, logits).print(); // 0.0878 = (0.1269 + 0.0486) / 2
 * ```
 *
 * @param labels float32 one-hot (or soft) [N, ...spatial, C], or int32 class indices [N, ...spatial]
 * @param logits float32 [N, ...spatial, C] with 1 to 3 spatial axes, unnormalised (probabilities with `activation: 'none'`)
 * @param opts   see `CategoricalCrossEntropyOptions`: clip, epsilon, classWeights, ignoreIndex, reduction,
 *               labelSmoothing, activation
 * @returns a scalar, or the per-pixel loss [N, ...spatial] with `reduction: 'none'`
 */
export function categoricalCrossEntropy(labels: Tensor, logits: Tensor, opts: CategoricalCrossEntropyOptions = {}): Tensor {
  const op = 'categoricalCrossEntropy';
  const activation = opts?.activation ?? 'softmax';
  const C = checkRegionInputs(op, labels, logits, activation);
  checkCceOptions(op, opts, C, labels);
  if (activation === 'none' && opts.clip) return clippedProbabilityCce(labels, logits, opts);
  if ((opts.labelSmoothing ?? 0) > 0 || activation === 'none') return crossEntropyOnEngine(labels, logits, opts);
  const o = resolveCceOptions(opts);
  const fused = fusedKernelAvailable(SeglossSoftmaxCrossEntropy);
  if (!fused) checkIndexLabelsInRange(labels, C, o.ignoreIndex);
  const seedCce = (y: Tensor, z: Tensor): Tensor => (fused
    ? runFusedLoss(SeglossSoftmaxCrossEntropy, y, z, {
      clip: o.clip, epsilon: o.epsilon, classWeights: o.classWeights ? [...o.classWeights] : [], ignoreIndex: o.ignoreIndex,
      reduction: o.reduction,
    } satisfies Omit<SoftmaxCrossEntropyAttrs, 'withGrad'>)
    : cceComposite(y, z, opts));
  if (logits.rank === 4) return seedCce(labels, logits);
  // The seed's kernel and composite take [N, H, W, C]: any rank is [N, pixels per image, 1, C].
  const N = logits.shape[0];
  return tidy(() => {
    const loss = seedCce(reshape(labels, labels.rank === logits.rank ? [N, -1, 1, C] : [N, -1, 1]), reshape(logits, [N, -1, 1, C]));
    return o.reduction === 'none' ? reshape(loss, logits.shape.slice(0, -1)) : loss;
  });
}

/**
 * Keras' `categorical_crossentropy(from_logits=False)` and tfjs-layers' `categoricalCrossentropy`:
 * p divided by its sum over the classes (a sum of 0 counts as 1e-30: the pixel's p is then 0 and
 * clipped), clipped to [ε, 1 − ε], then −Σ y log p on segloss's engine (class weights, ignored
 * pixels and reductions as for every cross-entropy). Inside [ε, 1 − ε] the engine never clamps;
 * outside, clip_by_value's gradient is zero.
 */
function clippedProbabilityCce(labels: Tensor, p: Tensor, opts: CategoricalCrossEntropyOptions): Tensor {
  const epsilon = opts.epsilon ?? DEFAULT_EPSILON;
  return tidy(() => {
    const normalised = clipByValue(div(p, maximum(sum(p, -1, true), 1e-30)), epsilon, 1 - epsilon);
    return crossEntropyOnEngine(labels, normalised, { ...opts, clip: false, activation: 'none' });
  });
}
