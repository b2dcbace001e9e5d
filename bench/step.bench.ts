/**
 * Milliseconds per training step of the seed's model on one core (issue #4): the three logged
 * losses' values and gradient norms plus the update, BN off and on, with segloss's fused
 * five-loss op and with the same losses composed from tfjs ops; then the number of tfjs kernel
 * calls per step and where tf.profile sees the time.
 *
 *   npx tsx bench/step.bench.ts [--steps N]
 *
 * Runs on the sources through tsx: @tensorflow/tfjs (full) is imported first so that tfjs-core's
 * gradients are registered (segloss's own registration needs the rollup build; see
 * src/tfjs/core_gradients.ts). The kernels are the same ones.
 */
import '@tensorflow/tfjs';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { setupWasmKernels } from '../src/setup.js';
import { segmentationLossesComposite } from '../src/losses/composite.js';
import { parseRunConfig } from '../src/experiment/config.js';
import { makeBatch } from '../src/experiment/data.js';
import { ConvNet } from '../src/experiment/model.js';
import { fusedLoss, makeOptimizer, runRandoms, trainingStep, type LossFn } from '../src/experiment/train.js';
import { formatRow, time } from '../src/bench/harness.js';

const stepsArg = process.argv.indexOf('--steps');
const timedSteps = stepsArg >= 0 ? Number(process.argv[stepsArg + 1]) : 400;

await tf.setBackend('wasm');
await setupWasmKernels();
console.log(`training step of the seed model — ${new Date().toISOString()} — Node ${process.version}, tfjs ${tf.version_core}\n`);

const impls: [string, LossFn][] = [
  ['tfjs-op losses', (name, labels, logits) => segmentationLossesComposite(labels, logits, 1e-7)[name]],
  ['segloss fused losses', fusedLoss],
];

for (const batchNorm of [false, true]) {
  const config = parseRunConfig({ batchNorm, trainLoss: 'cce' });
  let baseline;
  for (const [name, lossesFn] of impls) {
    const randoms = runRandoms(0);
    const net = new ConvNet(config, randoms.weights);
    const optimizer = makeOptimizer(config);
    let step = 0;
    const run = () => {
      const batch = makeBatch(randoms.batches, config.batchSize, config.imageSize, config.foreground);
      trainingStep(net, optimizer, batch, config, step++, lossesFn);
      tf.dispose([batch.x, batch.labels]);
    };
    const t = time(`BN ${batchNorm ? 'on ' : 'off'}, ${name}`, 1, run, { warmup: 50, minRuns: timedSteps, minMs: 1000 });
    console.log(formatRow(t, baseline).replace(/ +[\d.]+ Melem\/s/, ''));
    baseline ??= t;
    if (lossesFn === fusedLoss) {
      const profile = await tf.profile(() => { for (let i = 0; i < 20; i++) run(); });
      const byKernel = new Map<string, number>();
      for (const k of profile.kernels) byKernel.set(k.name, (byKernel.get(k.name) ?? 0) + (k.kernelTimeMs as number) / 20);
      console.log(`   ${profile.kernels.length / 20} kernel calls per step; time by kernel under tf.profile `
        + '(which adds its own overhead, so these are relative): '
        + [...byKernel.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([k, ms]) => `${k} ${ms.toFixed(3)}`).join(', '));
    }
    optimizer.dispose();
    net.dispose();
  }
}
