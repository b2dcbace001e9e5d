/**
 * Lovász-softmax (Berman et al. 2018), as smp's LovaszLoss in multiclass mode: fused on the wasm
 * backend (assembly/kernels/lovasz.ts: a radix sort of the errors per class, the loss and its
 * gradient in one call), composed from tfjs ops elsewhere (tf.topk ranks the errors).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import { SeglossLovaszSoftmax, type LovaszSoftmaxAttrs } from '../kernels/kernel_names.js';
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

/** The same loss from tfjs ops (the labels are read back to find the counted pixels and classes). */
function lovaszComposite(labels: Tensor, input: Tensor, o: Required<Omit<LovaszSoftmaxOptions, 'ignoreIndex'>> & { ignoreIndex: number | null }): Tensor {
  const C = input.shape[input.rank - 1];
  const groups = o.perImage ? input.shape[0] : 1;
  const perGroup = input.size / C / groups;
  const indexLabels = labels.dtype === 'int32' ? (labels.dataSync() as Int32Array) : null;
  return tf.tidy(() => {
    const p = tf.reshape(o.activation === 'softmax' ? tf.softmax(input) : input, [groups, perGroup, C]);
    const y = tf.reshape(indexLabels ? tf.oneHot(labels, C, 1, 0, 'float32') : labels, [groups, perGroup, C]);
    const yValues = y.dataSync();
    const groupLosses: Tensor[] = [];
    for (let g = 0; g < groups; g++) {
      const counted = Array.from({ length: perGroup }, (_, v) => v)
        .filter((v) => indexLabels == null || o.ignoreIndex == null || indexLabels[g * perGroup + v] !== o.ignoreIndex);
      const classLosses: Tensor[] = [];
      if (counted.length > 0) {
        const rows = tf.tensor1d(counted, 'int32');
        const pg = tf.gather(tf.squeeze(tf.slice(p, [g, 0, 0], [1, -1, -1]), [0]), rows);
        const yg = tf.gather(tf.squeeze(tf.slice(y, [g, 0, 0], [1, -1, -1]), [0]), rows);
        for (let c = 0; c < C; c++) {
          const targets = counted.map((v) => yValues[(g * perGroup + v) * C + c]);
          if (o.classes === 'present' && targets.every((t) => t === 0)) continue;
          const errors = tf.abs(tf.sub(tf.squeeze(tf.slice(yg, [0, c], [-1, 1]), [1]), tf.squeeze(tf.slice(pg, [0, c], [-1, 1]), [1])));
          const order = tf.topk(errors, counted.length, true).indices.dataSync() as Int32Array;
          const sorted = tf.gather(errors, tf.tensor1d(order, 'int32'));
          classLosses.push(tf.sum(tf.mul(sorted, tf.tensor1d(lovaszGradient(Array.from(order, (k) => targets[k]))))));
        }
      }
      groupLosses.push(classLosses.length ? tf.mean(tf.stack(classLosses)) : tf.scalar(0));
    }
    return tf.mean(tf.stack(groupLosses));
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
