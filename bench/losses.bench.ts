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

/**
 * Runs a baseline on stock tfjs-backend-wasm: segloss's zero-copy Identity off (tfjs's copies the
 * tensors it saves for backprop), so the baseline is what a tfjs user gets without segloss.
 */
async function onStockWasm(measure: () => Timing): Promise<Timing> {
  await setupWasmKernels({ variant: 'simd', zeroCopyClone: false });
  const timing = measure();
  await setupWasmKernels({ variant: 'simd' });
  return timing;
}

/** Forward + backward of `loss`: the gradient w.r.t. logits, everything disposed. */
function fwdBwd(loss: (z: tf.Tensor) => tf.Tensor, logits: tf.Tensor): () => void {
  const g = tf.grad(loss);
  return () => tf.tidy(() => { g(logits); });
}

console.log(`segloss bench — ${new Date().toISOString()} — Node ${process.version}, tfjs ${tf.version_core}, backend wasm\n`);

await setupWasmKernels({ variant: 'simd' });
for (const [N, H, W, C] of shapes) {
  const elements = N * H * W * C;
  const label = `[${N},${H},${W},${C}]`;
  console.log(`\n${label}  (${(elements / 1e6).toFixed(2)} M elements)`);
  const logits = tf.randomNormal([N, H, W, C], 0, 2, 'float32', 1);
  const indices = tf.randomUniform([N, H, W], 0, C, 'int32', 2);
  const oneHot = tf.cast(tf.oneHot(indices, C), 'float32');

  const timing = { minRuns: 7, minMs: 300 };
  const fused = (name: string, run: () => void) => time(name, elements, run, timing);

  const cceOps = await onStockWasm(() => time(`CCE  tfjs ops (seed's clip form)`, elements,
    fwdBwd((z) => cceComposite(oneHot, z, { clip: true }), logits), timing));
  record(label, cceOps);
  record(label, await onStockWasm(() => time(`CCE  tf.losses.softmaxCrossEntropy`, elements,
    fwdBwd((z) => tf.losses.softmaxCrossEntropy(oneHot, z), logits), timing)), cceOps);
  const cceFused = fused(`CCE  segloss fused (clip), simd`,
    fwdBwd((z) => losses.categoricalCrossEntropy(oneHot, z, { clip: true }), logits));
  record(label, cceFused, cceOps);
  record(label, fused(`CCE  segloss fused (exact), simd`,
    fwdBwd((z) => losses.categoricalCrossEntropy(oneHot, z), logits)), cceOps);
  record(label, fused(`CCE  segloss fused (exact, int32 labels), simd`,
    fwdBwd((z) => losses.categoricalCrossEntropy(indices, z), logits)), cceOps);

  const diceOps = await onStockWasm(() => time(`Dice tfjs ops (seed's dice_loss)`, elements,
    fwdBwd((z) => diceComposite(oneHot, z), logits), timing));
  record(label, diceOps);
  const diceFused = fused(`Dice segloss fused, simd`, fwdBwd((z) => losses.dice(oneHot, z), logits));
  record(label, diceFused, diceOps);

  const segOps = await onStockWasm(() => time(`5 losses + grad of dicefg, tfjs ops`, elements,
    fwdBwd((z) => segmentationLossesComposite(oneHot, z).dicefg, logits), timing));
  record(label, segOps);
  record(label, fused(`5 losses + grad of dicefg, segloss fused`,
    fwdBwd((z) => losses.segmentationLosses(oneHot, z).dicefg, logits)), segOps);

  await setupWasmKernels({ variant: 'scalar' });
  record(label, time(`CCE  segloss fused (clip), scalar`, elements,
    fwdBwd((z) => losses.categoricalCrossEntropy(oneHot, z, { clip: true }), logits), timing), cceFused);
  record(label, time(`Dice segloss fused, scalar`, elements,
    fwdBwd((z) => losses.dice(oneHot, z), logits), timing), diceFused);
  await setupWasmKernels({ variant: 'simd' });
  tf.dispose([logits, indices, oneHot]);
}

console.log('\nspeed-up column: the baseline is the first row of its block (for scalar rows: the SIMD row).');
if (jsonPath) {
  writeFileSync(jsonPath, JSON.stringify({ date: new Date().toISOString(), node: process.version, results }, null, 2));
  console.log(`wrote ${jsonPath}`);
}
