/**
 * Lovász-softmax (Berman et al. 2018), as smp's LovaszLoss in multiclass mode: fused on the wasm
 * backend (assembly/kernels/lovasz.ts: a radix sort of the errors per class, the loss and its
 * gradient in one call), composed from tfjs ops elsewhere (tf.topk ranks the errors).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import { SeglossLovaszSoftmax, type LovaszSoftmaxAttrs } from '../kernels/kernel_names.js';
import { oneHotFloat } from './composite.js';
import { checkIndexLabelsInRange, fusedKernelAvailable, runFusedLoss } from './fused.js';
import type { LovaszSoftmaxOptions } from './types.js';
import { checkLovaszOptions, checkRegionInputs } from './validate.js';

/** The Lovász extension's gradient of the Jaccard loss for targets sorted by descending error. */
function lovaszGradient(sortedTargets: ArrayLike<number>): Float32Array {
  const n = sortedTargets.length;
  let gts = 0;
  for (let k = 0; k < n; k++) gts += sortedTargets[k];
  const g = new Float32Array(n);
  let cumY = 0;
  let cumNotY = 0;
  let previous = 0;
  for (let k = 0; k < n; k++) {
    cumY += sortedTargets[k];
    cumNotY += 1 - sortedTargets[k];
    const jaccard = 1 - (gts - cumY) / (gts + cumNotY);
    g[k] = jaccard - previous;
    previous = jaccard;
  }
  return g;
}

/**
 * The same loss from tfjs ops. The ranking needs no differentiable sort: the loss is Σ_i e_i w_i
 * with w_i the Lovász gradient at pixel i's rank, a constant where the ranking does not change, so
 * the errors are ranked in JS (read back; stable, as the kernel's radix sort) and only e = |y − p|
 * is differentiated — no gather, whose gradient tfjs-backend-wasm lacks (UnsortedSegmentSum).
 */
function lovaszComposite(labels: Tensor, input: Tensor, o: Required<Omit<LovaszSoftmaxOptions, 'ignoreIndex'>> & { ignoreIndex: number | null }): Tensor {
  const C = input.shape[input.rank - 1];
  const groups = o.perImage ? input.shape[0] : 1;
  const perGroup = input.size / C / groups;
  const indexLabels = labels.dtype === 'int32' ? (labels.dataSync() as Int32Array) : null;
  return tf.tidy(() => {
    const p = tf.reshape(o.activation === 'softmax' ? tf.softmax(input) : input, [groups, perGroup, C]);
    const y = tf.reshape(indexLabels ? oneHotFloat(labels, C) : labels, [groups, perGroup, C]);
    const yValues = y.dataSync();
    const errors = tf.abs(tf.sub(y, p));
    const eValues = errors.dataSync();
    // w [groups, perGroup, C]: each error's weight in the loss (0 for ignored pixels and classes left out).
    const w = new Float32Array(groups * perGroup * C);
    for (let g = 0; g < groups; g++) {
      const counted = Array.from({ length: perGroup }, (_, v) => v)
        .filter((v) => indexLabels == null || o.ignoreIndex == null || indexLabels[g * perGroup + v] !== o.ignoreIndex);
      const kept: number[] = [];
      for (let c = 0; c < C; c++) {
        if (counted.length === 0) break;
        if (o.classes === 'present' && counted.every((v) => yValues[(g * perGroup + v) * C + c] === 0)) continue;
        kept.push(c);
      }
      for (const c of kept) {
        const at = (v: number) => (g * perGroup + v) * C + c;
        const order = [...counted].sort((a, b) => eValues[at(b)] - eValues[at(a)] || a - b);
        const grad = lovaszGradient(order.map((v) => yValues[at(v)]));
        order.forEach((v, k) => { w[at(v)] = grad[k] / (kept.length * groups); });
      }
    }
    return tf.sum(tf.mul(errors, tf.tensor(w, errors.shape)));
  });
}

/**
 * Lovász-softmax loss (Berman et al. 2018), as smp's LovaszLoss in multiclass mode: for every
 * class, the errors |y − p| ranked in descending order, dotted with the Lovász extension's gradient
 * of the Jaccard loss; the mean over the classes present (or all), and over images with `perImage`.
 * Fused on the wasm backend, where the ranking is a radix sort (ties keep pixel order).
 *
 * @param labels int32 class indices [N, ...spatial], or float32 [N, ...spatial, C] (one-hot or soft)
 * @param logits float32 [N, ...spatial, C] (probabilities with `activation: 'none'`)
 */
export function lovaszSoftmax(labels: Tensor, logits: Tensor, opts: LovaszSoftmaxOptions = {}): Tensor {
  const op = 'lovaszSoftmax';
  const activation = opts?.activation ?? 'softmax';
  const C = checkRegionInputs(op, labels, logits, activation);
  checkLovaszOptions(op, opts, labels);
  const o = { activation, classes: opts.classes ?? 'present', perImage: opts.perImage ?? false, ignoreIndex: opts.ignoreIndex ?? null } as const;
  if (!fusedKernelAvailable(SeglossLovaszSoftmax)) {
    checkIndexLabelsInRange(labels, C, o.ignoreIndex);
    return lovaszComposite(labels, logits, o);
  }
  return runFusedLoss(SeglossLovaszSoftmax, labels, logits, {
    softmax: activation === 'softmax', perImage: o.perImage, ignoreIndex: o.ignoreIndex, allClasses: o.classes === 'all',
  } satisfies Omit<LovaszSoftmaxAttrs, 'withGrad'>);
}
