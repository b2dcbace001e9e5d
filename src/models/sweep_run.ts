/**
 * A sweep's U-Net run (issue #22): the run config's `model: { name: 'unet2d', … }` on `data: {
 * name: 'synthetic', … }`, as a generator of the same log rows the seed net's runs give — every
 * step the value of every logged loss (before the update, on the current batch, from one forward
 * pass), the update with the training loss; every `evalEvery` steps accuracy and per-class Dice
 * and IoU on the validation images, batch norm in inference mode.
 *
 * Gradient norms are not logged for U-Nets yet: each logged loss would need its own backward pass,
 * and each extra forward pass in training mode would move batch norm's averages (the seed net's
 * engine backpropagates by hand from one pass). Their rows carry no `gradNorms`.
 *
 * The data and its batch order are UNetTrainer's synthetic set, the optimizer the run config's.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { RunConfig } from '../experiment/config.js';
import { addPredictions, emptyCounts, fusedLoss, makeOptimizer, scoresOf, type RunOutcome, type StepLog } from '../experiment/train.js';
import './index.js'; // tfjs-layers' batch norm on segloss's fused kernels, when they are installed
import { SyntheticSet } from './train.js';
import { unet2d } from './unet.js';

export function* trainUNetRun(config: RunConfig): Generator<StepLog, RunOutcome> {
  if (config.model?.name !== 'unet2d' || config.data?.name !== 'synthetic') throw new Error('trainUNetRun: the config names no unet2d on synthetic data');
  const { model: m, data: d } = config;
  const set = new SyntheticSet({ imageSize: d.size, trainImages: d.trainImages, validationImages: d.valImages, foreground: d.foreground, seed: config.seed });
  const model = unet2d({ inputShape: [d.size, d.size, 1], classes: 2, filters: m.filters, batchNorm: m.batchNorm, seed: config.seed });
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const optimizer = makeOptimizer(config);
  const parameters = model.countParams();
  try {
    for (let step = 0; step < config.steps; step++) {
      const { images, labels } = set.batch(step, config.batchSize);
      const x = tf.tensor4d(images, [config.batchSize, d.size, d.size, 1]);
      const y = tf.tensor3d(labels, [config.batchSize, d.size, d.size], 'int32');
      const row: StepLog = { step, losses: {}, gradNorms: {} };
      let logits: tf.Tensor | null = null;
      try {
        const { value, grads } = tf.variableGrads(() => {
          const out = model.apply(x, { training: true }) as tf.Tensor;
          logits = tf.keep(out);
          return fusedLoss(config.trainLoss, y, out);
        }, variables);
        row.losses[config.trainLoss] = value.dataSync()[0];
        value.dispose();
        for (const name of config.loggedLosses) {
          if (name === config.trainLoss) continue;
          row.losses[name] = tf.tidy(() => fusedLoss(name, y, logits!).dataSync()[0]);
        }
        const diverged = Object.values(row.losses).some((v) => !Number.isFinite(v));
        if (!diverged) optimizer.applyGradients(grads as never);
        tf.dispose(Object.values(grads));
        if (diverged) {
          yield row;
          return { status: 'diverged', steps: step + 1, divergedAt: step, parameters };
        }
      } finally {
        tf.dispose([x, y]);
        if (logits) tf.dispose(logits);
      }
      if (step % config.evalEvery === 0 || step === config.steps - 1) row.eval = evaluateOn(model, set, d.size);
      yield row;
    }
    return { status: 'completed', steps: config.steps, parameters };
  } finally {
    optimizer.dispose();
    model.dispose();
  }
}

/** Accuracy and per-class Dice and IoU of argmax predictions on the validation set, eight images at a time. */
function evaluateOn(model: ReturnType<typeof unet2d>, set: SyntheticSet, size: number) {
  const { images, labels, count } = set.validation;
  const pixels = size * size;
  const counts = emptyCounts(2);
  for (let first = 0; first < count; first += 8) {
    const n = Math.min(8, count - first);
    const predicted = tf.tidy(() => tf.argMax(model.predict(tf.tensor4d(images.subarray(first * pixels, (first + n) * pixels), [n, size, size, 1])) as tf.Tensor, -1).dataSync());
    addPredictions(counts, predicted, labels.subarray(first * pixels, (first + n) * pixels));
  }
  return scoresOf(counts);
}
