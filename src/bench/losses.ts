/**
 * Fused softmax + loss kernels vs the same losses composed from tfjs ops, forward + backward
 * (the gradient w.r.t. the logits), on tfjs's wasm backend in this process: medians, Melem/s
 * (elements = N·H·W·C) and speed-ups against baselines measured in the same run. Used by
 * `segloss bench losses` and the browser demo's benchmark button.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import '../tfjs/core_gradients.js';
import * as losses from '../losses/index.js';
import { setupWasmKernels } from '../setup.js';
import { formatRow, melemPerSecond, time, type Timing } from './harness.js';

const { cceComposite, diceComposite, segmentationLossesComposite } = losses;

/** A logits shape as [N, H, W, C]: batch, height, width, classes. */
export type Shape4 = [number, number, number, number];
export const LOSS_BENCH_SHAPES: Shape4[] = [[8, 128, 128, 2], [4, 256, 256, 4], [2, 512, 512, 8]];

/**
 * One measured row: its shape's group label (`[N,H,W,C]`), what was timed, the median and quartile
 * times of a forward + backward in ms over `runs` runs, and the throughput in Melem/s.
 */
export interface LossBenchRow {
  group: string;
  name: string;
  medianMs: number;
  p25Ms: number;
  p75Ms: number;
  runs: number;
  melemPerS: number;
  /** Baseline median / this median, for rows with a baseline. */
  speedup: number | null;
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

/** Runs the comparison for each shape, printing rows through `print` as they are measured. */
export async function benchmarkLosses(shapes: readonly Shape4[], print: (line: string) => void = console.log): Promise<LossBenchRow[]> {
  await tf.setBackend('wasm');
  const results: LossBenchRow[] = [];
  const record = (group: string, t: Timing, baseline?: Timing): void => {
    print(formatRow(t, baseline));
    results.push({
      group, name: t.name, medianMs: t.medianMs, p25Ms: t.p25Ms, p75Ms: t.p75Ms, runs: t.runs,
      melemPerS: melemPerSecond(t), speedup: baseline ? baseline.medianMs / t.medianMs : null,
    });
  };
  await setupWasmKernels({ variant: 'simd' });
  for (const [N, H, W, C] of shapes) {
    const elements = N * H * W * C;
    const label = `[${N},${H},${W},${C}]`;
    print(`\n${label}  (${(elements / 1e6).toFixed(2)} M elements)`);
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

  print('\nspeed-up column: the baseline is the first row of its block (for scalar rows: the SIMD row).');
  return results;
}
