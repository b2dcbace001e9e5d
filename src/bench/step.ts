/**
 * Milliseconds per training step of the seed's model on one core (issue #4): the three logged
 * losses' values and gradient norms plus the update, BN off and on, with the same losses composed
 * from tfjs ops, with segloss's fused loss ops on the tape, and fused with the by-hand backward
 * trainingStep uses on wasm; then the number of tfjs kernel calls per step and where tf.profile
 * sees the time; then the lockstep engine (issue #13, src/engine/lanes.ts) per run-step, with four
 * runs in a call (as the sweep groups them) and with one (three lanes padding).
 */
import type { LossName } from '../losses/types.js';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import '../tfjs/core_gradients.js';
import { setupWasmKernels } from '../setup.js';
import { segmentationLossesComposite } from '../losses/composite.js';
import { parseRunConfig } from '../experiment/config.js';
import { makeBatch } from '../experiment/data.js';
import { ConvNet } from '../experiment/model.js';
import { fusedLoss, makeOptimizer, runRandoms, trainingStep, type LossFn } from '../experiment/train.js';
import { LaneGroup } from '../engine/lanes.js';
import { compareDesigns } from './designs.js';
import { formatRow, time, type Timing } from './harness.js';
import type { BenchContext } from './suite.js';

export async function benchStep({ print, quick, steps }: BenchContext): Promise<Timing[]> {
  await tf.setBackend('wasm');
  await setupWasmKernels();
  const timedSteps = steps ?? (quick ? 50 : 400);
  const composite: LossFn = (name, labels, logits) => segmentationLossesComposite(labels, logits, 1e-7)[name as LossName];
  // The tape: a forward pass and variableGrads per logged loss. By hand: one forward pass, then
  // ConvNet.backward per loss (what trainingStep does on wasm; the same bits).
  const impls: [string, LossFn, boolean][] = [
    ['tfjs-op losses, tape', composite, false],
    ['segloss fused losses, tape', fusedLoss, false],
    ['segloss fused losses, by hand', fusedLoss, true],
  ];
  const rows: Timing[] = [];
  for (const batchNorm of [false, true]) {
    const config = parseRunConfig({ batchNorm, trainLoss: 'cce' });
    let baseline: Timing | undefined;
    for (const [name, lossesFn, byHand] of impls) {
      const randoms = runRandoms(0);
      const net = new ConvNet(config, randoms.weights);
      const optimizer = makeOptimizer(config);
      let step = 0;
      const run = () => {
        const batch = makeBatch(randoms.batches, config.batchSize, config.imageSize, config.foreground);
        trainingStep(net, optimizer, batch, config, step++, lossesFn, { byHand });
        tf.dispose([batch.x, batch.labels]);
      };
      const t = time(`BN ${batchNorm ? 'on ' : 'off'}, ${name}`, 1, run,
        { warmup: quick ? 10 : 50, minRuns: timedSteps, minMs: quick ? 200 : 1000 });
      print(formatRow(t, baseline).replace(/ +[\d.]+ Melem\/s/, ''));
      rows.push(t);
      baseline ??= t;
      if (byHand) {
        const profile = await tf.profile(() => { for (let i = 0; i < 20; i++) run(); });
        const byKernel = new Map<string, number>();
        for (const k of profile.kernels) byKernel.set(k.name, (byKernel.get(k.name) ?? 0) + (k.kernelTimeMs as number) / 20);
        print(`   ${profile.kernels.length / 20} kernel calls per step; time by kernel under tf.profile `
          + '(which adds its own overhead, so these are relative): '
          + [...byKernel.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([k, ms]) => `${k} ${ms.toFixed(3)}`).join(', '));
      }
      optimizer.dispose();
      net.dispose();
    }
    // The lockstep engine: the same step (three losses' values and norms, the update) for 4 runs
    // in one call (training losses cce, dicefg, dice, cce: a step costs the same whatever they
    // are), timed per call and reported per run-step.
    for (const runs of [4, 1]) {
      const configs = Array.from({ length: runs }, (_, j) =>
        parseRunConfig({ batchNorm, trainLoss: (['cce', 'dicefg', 'dice', 'cce'] as const)[j], seed: j }));
      const group = new LaneGroup(configs);
      const call = time('', 1, () => group.step(), { warmup: quick ? 10 : 50, minRuns: timedSteps, minMs: quick ? 200 : 1000 });
      const t: Timing = {
        ...call, name: `BN ${batchNorm ? 'on ' : 'off'}, lane engine, ${runs} run${runs > 1 ? 's' : ''} per call`,
        medianMs: call.medianMs / runs, p25Ms: call.p25Ms / runs, p75Ms: call.p75Ms / runs,
      };
      print(formatRow(t, baseline).replace(/ +[\d.]+ Melem\/s/, '') + (runs > 1 ? '  (per run-step)' : ''));
      rows.push(t);
    }
  }
  print('\nspeed-up column: against the tfjs-op losses row of the same BN setting. The lane engine\'s rows are per run-step '
    + '(a call\'s time divided by its runs).');

  // Issue #13's two designs on the step's convolutions (src/bench/designs.ts), per run.
  print('\nthe two designs on the seed net\'s 3×3 convolutions, ms per run (a step: both forwards, three input gradients of layer 2, '
    + 'three filter gradients of each layer):');
  print(`${'kernel'.padEnd(28)}${'lanes (4 runs / call)'.padStart(24)}${'design 1 (1 run / call)'.padStart(26)}${'ratio'.padStart(8)}`);
  let lanesStep = 0;
  let design1Step = 0;
  for (const cin of [1, 4]) {
    const { rows: designRows, maxRelativeDifference } = compareDesigns(2, 32, 32, cin, 4, { minMs: quick ? 100 : 400 });
    if (maxRelativeDifference > 1e-5) throw new Error(`bench step: the two designs' convolutions differ (${maxRelativeDifference})`);
    for (const r of designRows) {
      const perStep = r.kernel.startsWith('conv') ? 1 : 3;
      lanesStep += perStep * r.lanesMs;
      design1Step += perStep * r.design1Ms;
      print(`${r.kernel.padEnd(28)}${r.lanesMs.toFixed(4).padStart(21)} ms${r.design1Ms.toFixed(4).padStart(23)} ms${(r.design1Ms / r.lanesMs).toFixed(2).padStart(7)}×`);
    }
  }
  print(`${'a step\'s convolutions'.padEnd(28)}${lanesStep.toFixed(4).padStart(21)} ms${design1Step.toFixed(4).padStart(23)} ms${(design1Step / lanesStep).toFixed(2).padStart(7)}×`);
  return rows;
}
