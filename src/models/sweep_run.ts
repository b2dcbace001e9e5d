/**
 * A sweep's U-Net run (issue #22): the run config's `model: { name: 'unet2d' | 'unet3d', … }` on
 * `data: { name: 'synthetic' | 'folder', … }`, as a generator of the same log rows the seed net's
 * runs give — every step the value of every logged loss (before the update, on the current batch,
 * from one forward pass), the update with the training loss; every `evalEvery` steps accuracy and
 * per-class Dice and IoU on the validation set, batch norm in inference mode.
 *
 * Gradient norms: the training loss's every step (the update's gradients, no extra pass); every
 * other logged loss's every `gradNormEvery` steps (default evalEvery; 0: never), each from a
 * forward and backward pass of its own, after which batch norm's moving averages are put back as
 * the training pass left them — so the run's weights and log do not depend on gradNormEvery.
 *
 * The data is UNetTrainer's (openTrainingSet: the synthetic set, 2D or 3D, or your folder read and
 * checked), its batch order seeded; the optimizer is the run config's.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { RunConfig } from '../experiment/config.js';
import { fusedLoss, makeOptimizer, type RunOutcome, type StepLog } from '../experiment/train.js';
import { globalNorm } from '../ops/global_norm.js';
import './index.js'; // tfjs-layers' batch norm on segloss's fused kernels, when they are installed
import { packSamples } from '../report/overlays.js';
import { buildModel, openTrainingSet, validationPictures, validationScores, type UNetTrainingInput } from './train.js';

/** Validation pictures a finished run keeps with its predictions (the report's overlays). */
const SAMPLES = 3;

/** UNetTrainer's options for a run config's model and data (the sweep's worker reads folders itself: no decode workers). */
export function trainingInputOf(config: RunConfig): { input: UNetTrainingInput; dims: 2 | 3 } {
  const { model, data } = config;
  if (!model || !data) throw new Error('trainUNetRun: the config names no U-Net and its data');
  const dims = model.name === 'unet3d' ? 3 : 2;
  const common = { filters: model.filters, batchNorm: model.batchNorm, seed: config.seed, batchSize: config.batchSize, steps: config.steps, evalEvery: config.evalEvery };
  if (data.name === 'synthetic') {
    return { dims, input: { ...common, imageSize: data.size, foreground: data.foreground, trainImages: data.trainImages, validationImages: data.valImages } };
  }
  const { name: _name, size, foreground: _foreground, ...read } = data;
  return { dims, input: { ...common, imageSize: size, data: { ...read, classes: 2, decodeWorkers: 0 } } };
}

export async function* trainUNetRun(config: RunConfig): AsyncGenerator<StepLog, RunOutcome> {
  const { input, dims } = trainingInputOf(config);
  const { options, set } = await openTrainingSet(input, undefined, undefined, dims);
  if (set.dims !== dims) {
    set.dispose?.();
    throw new Error(`model: a ${config.model!.name} trains on ${dims}D data, and ${(config.data as { path?: string }).path} holds ${set.dims}D ${set.dims === 3 ? 'volumes' : 'images'}`);
  }
  const model = buildModel(options, set);
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const optimizer = makeOptimizer(config);
  const parameters = model.countParams();
  const normEvery = config.gradNormEvery ?? config.evalEvery;
  const shape = set.inputShape;
  try {
    for (let step = 0; step < config.steps; step++) {
      const { images, labels } = await set.batch(step, config.batchSize);
      const x = tf.tensor(images, [config.batchSize, ...shape]);
      // [n, ...spatial]: 3D for images, 4D for volumes (segloss's losses take either; LossFn names the 2D case).
      const y = tf.tensor(labels, [config.batchSize, ...shape.slice(0, -1)], 'int32') as tf.Tensor as tf.Tensor3D;
      const row: StepLog = { step, losses: {}, gradNorms: {} };
      let logits: tf.Tensor | null = null;
      try {
        const { value, grads } = tf.variableGrads(() => {
          const out = model.apply(x, { training: true }) as tf.Tensor;
          logits = tf.keep(out);
          return fusedLoss(config.trainLoss, y, out);
        }, variables);
        row.losses[config.trainLoss] = value.dataSync()[0];
        row.gradNorms[config.trainLoss] = globalNorm(Object.values(grads));
        value.dispose();
        for (const name of config.loggedLosses) {
          if (name === config.trainLoss) continue;
          row.losses[name] = tf.tidy(() => fusedLoss(name, y, logits!).dataSync()[0]);
        }
        if (normEvery > 0 && step % normEvery === 0) otherNorms(config, model, variables, x, y, row);
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
      if (step % config.evalEvery === 0 || step === config.steps - 1) row.eval = validationScores(model, set);
      yield row;
    }
    return { status: 'completed', steps: config.steps, parameters, samples: packSamples(validationPictures(model, set, SAMPLES)) };
  } finally {
    optimizer.dispose();
    model.dispose();
    set.dispose?.();
  }
}

/**
 * The gradient norm of every logged loss but the training loss, each from its own training-mode
 * pass on the step's batch; batch norm's moving averages are restored afterwards.
 */
function otherNorms(config: RunConfig, model: LayersModel, variables: tf.Variable[], x: tf.Tensor, y: tf.Tensor3D, row: StepLog): void {
  const others = config.loggedLosses.filter((name) => name !== config.trainLoss);
  if (others.length === 0) return;
  const state = model.nonTrainableWeights;
  const saved = state.map((w) => tf.clone(w.read()));
  try {
    for (const name of others) {
      const { value, grads } = tf.variableGrads(() => fusedLoss(name, y, model.apply(x, { training: true }) as tf.Tensor), variables);
      row.gradNorms[name] = globalNorm(Object.values(grads));
      tf.dispose([value, ...Object.values(grads)]);
    }
    state.forEach((w, i) => w.write(saved[i]));
  } finally {
    tf.dispose(saved);
  }
}
