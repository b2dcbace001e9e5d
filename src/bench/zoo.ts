/**
 * The loss zoo (issue #12) on the region engine vs the same losses from tfjs ops, forward + backward
 * through tf.grad on tfjs's wasm backend in this process: medians, Melem/s (elements = all of the
 * input) and speed-ups against the tfjs-op twin measured in the same run, at [8,128,128,4], a
 * 3D [2,48,48,48,4], two classes [8,128,128,2] and three [8,128,128,3].
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import '../tfjs/core_gradients.js';
import * as losses from '../losses/index.js';
import { withCompositeLosses } from '../losses/fused.js';
import { setupWasmKernels } from '../setup.js';
import { formatRow, melemPerSecond, time, type Timing } from './harness.js';
import type { BenchContext } from './suite.js';

export const ZOO_SHAPES: number[][] = [[8, 128, 128, 4], [2, 48, 48, 48, 4], [8, 128, 128, 2], [8, 128, 128, 3]];

type Loss = (labels: tf.Tensor, z: tf.Tensor) => tf.Tensor;

/**
 * Every zoo loss with the labels it takes (int32 class indices, or a float32 multi-label mask) and
 * its input: the logits, or with `probabilities` their softmax (a model that ends in softmax).
 */
const ZOO: { name: string; labels: 'index' | 'mask'; probabilities?: boolean; loss: Loss }[] = [
  { name: 'Dice', labels: 'index', loss: (y, z) => losses.dice(y, z) },
  { name: 'Dice, square', labels: 'index', loss: (y, z) => losses.dice(y, z, { square: true }) },
  { name: 'Dice, Jaccard', labels: 'index', loss: (y, z) => losses.dice(y, z, { jaccard: true }) },
  { name: 'Dice, sigmoid (multi-label)', labels: 'mask', loss: (y, z) => losses.dice(y, z, { activation: 'sigmoid' }) },
  { name: 'generalized Dice', labels: 'index', loss: (y, z) => losses.generalizedDice(y, z) },
  { name: 'Tversky 0.3/0.7', labels: 'index', loss: (y, z) => losses.tversky(y, z, { alpha: 0.3, beta: 0.7 }) },
  { name: 'focal Tversky γ 0.75', labels: 'index', loss: (y, z) => losses.tversky(y, z, { alpha: 0.3, beta: 0.7, gamma: 0.75 }) },
  { name: 'focal, softmax γ 2', labels: 'index', loss: (y, z) => losses.focal(y, z) },
  { name: 'focal, sigmoid γ 2', labels: 'mask', loss: (y, z) => losses.focal(y, z, { activation: 'sigmoid', alpha: 0.25 }) },
  { name: 'BCE', labels: 'mask', loss: (y, z) => losses.binaryCrossEntropy(y, z) },
  { name: 'CCE, label smoothing 0.1', labels: 'index', loss: (y, z) => losses.categoricalCrossEntropy(y, z, { labelSmoothing: 0.1 }) },
  { name: 'Dice + CE', labels: 'index', loss: (y, z) => losses.diceCrossEntropy(y, z) },
  { name: 'Dice + focal', labels: 'index', loss: (y, z) => losses.diceFocal(y, z) },
  { name: 'Lovász-softmax', labels: 'index', loss: (y, z) => losses.lovaszSoftmax(y, z) },
  { name: 'Dice + BCE, sigmoid', labels: 'mask', loss: (y, z) => losses.diceCrossEntropy(y, z, { activation: 'sigmoid' }) },
  { name: 'CCE, probabilities given', labels: 'index', probabilities: true, loss: (y, p) => losses.categoricalCrossEntropy(y, p, { activation: 'none' }) },
];

export interface ZooRow {
  shape: string;
  name: string;
  fusedMs: number;
  opsMs: number;
  melemPerS: number;
  speedup: number;
}

/** Forward + backward of `loss`: the gradient w.r.t. the input, everything disposed. */
function fwdBwd(loss: (z: tf.Tensor) => tf.Tensor, input: tf.Tensor): () => void {
  const g = tf.grad((z: tf.Tensor) => tf.sum(loss(z)));
  return () => tf.tidy(() => { g(input); });
}

export async function benchZoo({ print, quick }: BenchContext): Promise<ZooRow[]> {
  await tf.setBackend('wasm');
  await setupWasmKernels({ variant: 'simd' });
  const rows: ZooRow[] = [];
  const timing = quick ? { minRuns: 3, minMs: 50, warmup: 1 } : { minRuns: 7, minMs: 300 };
  for (const shape of quick ? [[2, 32, 32, 4]] : ZOO_SHAPES) {
    const elements = shape.reduce((a, b) => a * b, 1);
    const label = `[${shape.join(',')}]`;
    print(`\n${label}  (${(elements / 1e6).toFixed(2)} M elements)`);
    const logits = tf.randomNormal(shape, 0, 2, 'float32', 1);
    const indices = tf.randomUniform(shape.slice(0, -1), 0, shape[shape.length - 1], 'int32', 2);
    const mask = tf.cast(tf.greater(tf.randomUniform(shape, 0, 1, 'float32', 3), 0.7), 'float32');
    const probabilities = tf.softmax(logits);
    for (const { name, labels, probabilities: given, loss } of ZOO) {
      const y = labels === 'index' ? indices : mask;
      const input = given ? probabilities : logits;
      // The tfjs-op twin on stock tfjs-backend-wasm (what a tfjs user gets without segloss).
      const ops: Timing = await onStockComposite(() => time(`${name}, tfjs ops`, elements, fwdBwd((z) => loss(y, z), input), timing));
      const fused: Timing = time(`${name}, segloss fused`, elements, fwdBwd((z) => loss(y, z), input), timing);
      print(formatRow(ops));
      print(formatRow(fused, ops));
      rows.push({ shape: label, name, fusedMs: fused.medianMs, opsMs: ops.medianMs, melemPerS: melemPerSecond(fused), speedup: ops.medianMs / fused.medianMs });
    }
    tf.dispose([logits, indices, mask, probabilities]);
  }
  print('\nspeed-up: the tfjs-op twin (the composite, on the same wasm backend) over the fused engine.');
  return rows;
}

/** Runs `measure` on the ops' tfjs-op composite path, with tfjs's own Identity (segloss's zero-copy one off). */
async function onStockComposite(measure: () => Timing): Promise<Timing> {
  await setupWasmKernels({ variant: 'simd', zeroCopyClone: false });
  try {
    return withCompositeLosses(measure);
  } finally {
    await setupWasmKernels({ variant: 'simd' });
  }
}
