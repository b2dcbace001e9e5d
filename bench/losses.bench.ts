/**
 * Fused softmax + loss kernels vs the same losses composed from tfjs ops, forward + backward
 * (the gradient w.r.t. the logits), on tfjs's wasm backend in this process. Prints medians,
 * Melem/s (elements = N·H·W·C) and speed-ups; `--json FILE` also writes them.
 *
 *   npm run bench -- [--json FILE] [--quick]
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { writeFileSync } from 'node:fs';
// The built package, as users import it (npm run bench builds it first).
import { losses, setupWasmKernels } from 'segloss';
import { formatRow, melemPerSecond, time, type Timing } from './harness.js';

const { cceComposite, diceComposite, segmentationLossesComposite } = losses;

const args = process.argv.slice(2);
const jsonPath = args.includes('--json') ? args[args.indexOf('--json') + 1] : null;
const quick = args.includes('--quick');
const shapes: [number, number, number, number][] = quick
  ? [[8, 128, 128, 2]]
  : [[8, 128, 128, 2], [4, 256, 256, 4], [2, 512, 512, 8]];

await tf.setBackend('wasm');
const results: Record<string, unknown>[] = [];

function record(group: string, t: Timing, baseline?: Timing): void {
  console.log(formatRow(t, baseline));
  results.push({
    group, name: t.name, medianMs: t.medianMs, p25Ms: t.p25Ms, p75Ms: t.p75Ms, runs: t.runs,
    melemPerS: melemPerSecond(t), speedup: baseline ? baseline.medianMs / t.medianMs : null,
  });
}

/** Forward + backward of `loss`: the gradient w.r.t. logits, everything disposed. */
function fwdBwd(loss: (z: tf.Tensor) => tf.Tensor, logits: tf.Tensor): () => void {
  const g = tf.grad(loss);
  return () => tf.tidy(() => { g(logits); });
}

console.log(`segloss bench — ${new Date().toISOString()} — Node ${process.version}, tfjs ${tf.version_core}, backend wasm\n`);

for (const [N, H, W, C] of shapes) {
  const elements = N * H * W * C;
  const label = `[${N},${H},${W},${C}]`;
  console.log(`\n${label}  (${(elements / 1e6).toFixed(2)} M elements)`);
  const logits = tf.randomNormal([N, H, W, C], 0, 2, 'float32', 1);
  const indices = tf.randomUniform([N, H, W], 0, C, 'int32', 2);
  const oneHot = tf.cast(tf.oneHot(indices, C), 'float32');
  const opts = { timing: { minRuns: 7, minMs: 300 } };

  await setupWasmKernels({ variant: 'simd' });
  const cceOps = time(`CCE  tfjs ops (seed's clip form)`, elements,
    fwdBwd((z) => cceComposite(oneHot, z, { clip: true }), logits), opts.timing);
  record(label, cceOps);
  record(label, time(`CCE  tf.losses.softmaxCrossEntropy`, elements,
    fwdBwd((z) => tf.losses.softmaxCrossEntropy(oneHot, z), logits), opts.timing), cceOps);
  const cceFused = time(`CCE  segloss fused (clip), simd`, elements,
    fwdBwd((z) => losses.categoricalCrossEntropy(oneHot, z, { clip: true }), logits), opts.timing);
  record(label, cceFused, cceOps);
  record(label, time(`CCE  segloss fused (exact), simd`, elements,
    fwdBwd((z) => losses.categoricalCrossEntropy(oneHot, z), logits), opts.timing), cceOps);
  record(label, time(`CCE  segloss fused (exact, int32 labels), simd`, elements,
    fwdBwd((z) => losses.categoricalCrossEntropy(indices, z), logits), opts.timing), cceOps);

  const diceOps = time(`Dice tfjs ops (seed's dice_loss)`, elements,
    fwdBwd((z) => diceComposite(oneHot, z), logits), opts.timing);
  record(label, diceOps);
  const diceFused = time(`Dice segloss fused, simd`, elements,
    fwdBwd((z) => losses.dice(oneHot, z), logits), opts.timing);
  record(label, diceFused, diceOps);

  const segOps = time(`5 losses + grad of dicefg, tfjs ops`, elements, () => tf.tidy(() => {
    tf.grad((z: tf.Tensor) => segmentationLossesComposite(oneHot, z).dicefg)(logits);
  }), opts.timing);
  record(label, segOps);
  record(label, time(`5 losses + grad of dicefg, segloss fused`, elements, () => tf.tidy(() => {
    tf.grad((z: tf.Tensor) => losses.segmentationLosses(oneHot, z).dicefg)(logits);
  }), opts.timing), segOps);

  await setupWasmKernels({ variant: 'scalar' });
  record(label, time(`CCE  segloss fused (clip), scalar`, elements,
    fwdBwd((z) => losses.categoricalCrossEntropy(oneHot, z, { clip: true }), logits), opts.timing), cceFused);
  record(label, time(`Dice segloss fused, scalar`, elements,
    fwdBwd((z) => losses.dice(oneHot, z), logits), opts.timing), diceFused);
  tf.dispose([logits, indices, oneHot]);
}

console.log('\nspeed-up column: the baseline is the first row of its block (for scalar rows: the SIMD row).');
if (jsonPath) {
  writeFileSync(jsonPath, JSON.stringify({ date: new Date().toISOString(), node: process.version, results }, null, 2));
  console.log(`wrote ${jsonPath}`);
}
