/**
 * trainingStep's by-hand backpropagation (one forward pass, ConvNet.backward per logged loss)
 * against the tape (a forward pass and variableGrads per loss): the same log rows and the same
 * weights after every step, bit for bit, with batch norm off and on, for fused and tfjs-op losses,
 * Adam and SGD; no tensor left behind.
 */
import type { LossName } from '../src/losses/types.js';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseRunConfig } from '../src/experiment/config.js';
import { makeBatch } from '../src/experiment/data.js';
import { ConvNet } from '../src/experiment/model.js';
import { fusedLoss, makeOptimizer, runRandoms, trainingStep, type LossFn, type StepLog } from '../src/experiment/train.js';
import { segmentationLossesComposite } from '../src/losses/composite.js';
import { useWasm } from './helpers/wasm.js';

beforeAll(async () => { await useWasm('simd'); });

const composite: LossFn = (name, labels, logits) => segmentationLossesComposite(labels, logits, 1e-7)[name as LossName];

function train(config: ReturnType<typeof parseRunConfig>, byHand: boolean, lossFn: LossFn, steps: number) {
  const base = tf.memory().numTensors;
  const randoms = runRandoms(config.seed);
  const net = new ConvNet(config, randoms.weights);
  const optimizer = makeOptimizer(config);
  const logs: StepLog[] = [];
  const tensors: number[] = [];
  for (let step = 0; step < steps; step++) {
    const batch = makeBatch(randoms.batches, config.batchSize, config.imageSize, config.foreground);
    logs.push(trainingStep(net, optimizer, batch, config, step, lossFn, { byHand }).log);
    tf.dispose([batch.x, batch.labels]);
    tensors.push(tf.memory().numTensors - base);
  }
  const weights = net.trainable.map((v) => Array.from(new Uint32Array(v.dataSync().buffer.slice(0))));
  optimizer.dispose();
  net.dispose();
  return { logs, weights, tensors };
}

describe.each([
  { batchNorm: false, optimizer: { name: 'adam' } },
  { batchNorm: true, optimizer: { name: 'adam' } },
  { batchNorm: true, optimizer: { name: 'sgd', momentum: 0.9 } },
])('by hand = on the tape, BN $batchNorm, $optimizer.name', ({ batchNorm, optimizer }) => {
  it.each(['cce', 'dicefg', 'dice'] as const)('training with %s, fused losses', (trainLoss) => {
    const config = parseRunConfig({ batchNorm, optimizer, trainLoss, seed: 4, loggedLosses: ['cce', 'dicefg', 'dice', 'dice_square'] });
    const net = new ConvNet(config, runRandoms(0).weights);
    expect(net.canBackpropByHand()).toBe(true);
    net.dispose();
    const tape = train(config, false, fusedLoss, 25);
    const hand = train(config, true, fusedLoss, 25);
    expect(hand.logs).toEqual(tape.logs);
    expect(hand.weights).toEqual(tape.weights);
    // Flat: nothing accumulates from step to step, and no more is held than on the tape.
    expect(new Set(hand.tensors.slice(1)).size).toBe(1);
    expect(hand.tensors).toEqual(tape.tensors);
  });

  it('training with dicefg, tfjs-op losses', () => {
    const config = parseRunConfig({ batchNorm, optimizer, trainLoss: 'dicefg', seed: 5 });
    const tape = train(config, false, composite, 10);
    const hand = train(config, true, composite, 10);
    expect(hand.logs).toEqual(tape.logs);
    expect(hand.weights).toEqual(tape.weights);
  });
});

it('falls back to the tape off the wasm backend', async () => {
  await import('@tensorflow/tfjs-backend-cpu');
  await tf.setBackend('cpu');
  try {
    const config = parseRunConfig({ batchNorm: true, trainLoss: 'cce' });
    const net = new ConvNet(config, runRandoms(0).weights);
    expect(net.canBackpropByHand()).toBe(false);
    net.dispose();
  } finally {
    await tf.setBackend('wasm');
  }
});

describe('batch norm moving averages', () => {
  // ConvNet.updateMovingAverages works in JS on the few values per layer; it must round as tfjs's
  // Mul and Add kernels did before (0.99·moving + 0.01·batch, each step rounded to float32).
  it.each(['wasm', 'cpu'] as const)('match tfjs ops bit for bit on %s', async (backend) => {
    if (backend === 'cpu') await tf.setBackend('cpu');
    try {
      const config = parseRunConfig({ batchNorm: true, filters: 7, nConv: 2 });
      const net = new ConvNet(config, runRandoms(5).weights);
      const rng = (k: number) => Float32Array.from({ length: 7 }, (_, i) => Math.fround(Math.sin(31 * k + 7 * i) * 10 ** ((i % 5) - 2)));
      const moving = (net as unknown as { layers: { movingMean: tf.Variable; movingVariance: tf.Variable }[] }).layers;
      moving.forEach((layer, l) => { layer.movingMean.assign(tf.tensor(rng(l))); layer.movingVariance.assign(tf.tensor(rng(l + 10).map(Math.abs))); });
      const statistics = [0, 1].map((l) => ({ mean: tf.tensor(rng(l + 20)), variance: tf.tensor(rng(l + 30).map(Math.abs)) }));
      const expected = moving.map((layer, l) => tf.tidy(() => [
        tf.add(tf.mul(layer.movingMean, 0.99), tf.mul(statistics[l].mean, 1 - 0.99)).dataSync(),
        tf.add(tf.mul(layer.movingVariance, 0.99), tf.mul(statistics[l].variance, 1 - 0.99)).dataSync(),
      ].map((a) => Array.from(new Uint32Array(Float32Array.from(a).buffer)))));
      net.updateMovingAverages(statistics);
      const actual = moving.map((layer) => [layer.movingMean, layer.movingVariance]
        .map((v) => Array.from(new Uint32Array(Float32Array.from(v.dataSync()).buffer))));
      expect(actual).toEqual(expected);
      tf.dispose(statistics.flatMap((s) => [s.mean, s.variance]));
      net.dispose();
    } finally {
      await useWasm('simd');
    }
  });
});
