/**
 * One training run of the study, as a generator of its log (DESIGN.md §4): every step, before the
 * update and on the current batch, the value of every logged loss and the global gradient norm
 * (√Σ‖g‖² over all trainable variables) of each; then the update with the training loss only;
 * every `evalEvery` steps pixel accuracy, per-class Dice and IoU on a fixed validation set with
 * batch norm in inference mode. No I/O, no workers: the sweep engine drives this.
 */
import type { PredictionSamples } from '../report/overlays.js';
import {
  argMax, dispose, tensor4d, tidy, train, valueAndGrad, variableGrads,
  type NamedTensorMap, type Scalar, type Tensor, type Tensor3D, type Tensor4D,
} from '@tensorflow/tfjs-core';
import { categoricalCrossEntropy } from '../losses/categorical_cross_entropy.js';
import { dice } from '../losses/dice.js';
import { fusedValueAndGrad } from '../losses/fused.js';
import { globalNorm } from '../ops/global_norm.js';
import { FusedAdam, type StepOptimizer } from '../ops/fused_adam.js';
import type { LossKey } from './losses.js';
import { zooLoss } from './zoo_losses.js';
import type { RunConfig } from './config.js';
import { makeBatch, makeBatchValues, type Batch } from './data.js';
import { ConvNet, type BatchStatistics } from './model.js';
import { Random } from './random.js';

/** Independent random streams of one run seed. */
const STREAM_WEIGHTS = 0;
const STREAM_BATCHES = 1;
const STREAM_VALIDATION = 2;

/** Scores of hard (argmax) predictions on the validation set. */
export interface Evaluation {
  /** Pixel accuracy of argmax(logits) on the validation set. */
  accuracy: number;
  /** Per class (0 = background, 1 = foreground): 2|P∩Y| / (|P| + |Y|), 1 when both are empty. */
  dice: number[];
  /** Per class: |P∩Y| / |P∪Y|, 1 when both are empty. */
  iou: number[];
}

/**
 * One step's log row: by loss key, each logged loss's value and global gradient norm on the step's
 * batch before the update, and the evaluation on evaluation steps.
 */
export interface StepLog {
  step: number;
  losses: Partial<Record<LossKey, number>>;
  gradNorms: Partial<Record<LossKey, number>>;
  /** Present on evaluation steps (step % evalEvery = 0, and the last step). */
  eval?: Evaluation;
}

/** How a run ended: completed, or diverged at a step; the steps logged and the model's parameter count. */
export interface RunOutcome {
  status: 'completed' | 'diverged';
  /** Steps logged. */
  steps: number;
  /** The step whose loss was not finite, for a diverged run. */
  divergedAt?: number;
  parameters: number;
  /** A U-Net run's first validation pictures with its final predictions (the report's overlays). */
  samples?: PredictionSamples;
}

/** Two-class counts of hard predictions against labels, from which `scoresOf` makes an Evaluation. */
export interface PredictionCounts {
  total: number;
  correct: number;
  /** Per class (0 = background, 1 = foreground): |P∩Y|, |P|, |Y|. */
  inter: number[];
  predicted: number[];
  truth: number[];
}

export function emptyCounts(classes = 2): PredictionCounts {
  const zeros = () => new Array<number>(classes).fill(0);
  return { total: 0, correct: 0, inter: zeros(), predicted: zeros(), truth: zeros() };
}

/** Adds argmax predictions and their labels (the same length, classes below emptyCounts's) to `counts`. */
export function addPredictions(counts: PredictionCounts, predicted: ArrayLike<number>, labels: ArrayLike<number>): void {
  for (let i = 0; i < predicted.length; i++) {
    const p = predicted[i];
    const y = labels[i];
    counts.predicted[p]++;
    counts.truth[y]++;
    if (p === y) {
      counts.correct++;
      counts.inter[y]++;
    }
  }
  counts.total += predicted.length;
}

/** Accuracy, and per class Dice 2|P∩Y| / (|P| + |Y|) and IoU |P∩Y| / |P∪Y| (1 when both are empty). */
export function scoresOf(c: PredictionCounts): Evaluation {
  const ratio = (num: number, den: number) => (den === 0 ? 1 : num / den);
  return {
    accuracy: c.correct / c.total,
    dice: c.inter.map((n, k) => ratio(2 * n, c.predicted[k] + c.truth[k])),
    iou: c.inter.map((n, k) => ratio(n, c.predicted[k] + c.truth[k] - n)),
  };
}

/** Accuracy, Dice and IoU of hard predictions, counted in JS from the argmax. */
export function evaluate(net: ConvNet, x: Tensor, labels: Int32Array): Evaluation {
  const predicted = tidy(() => argMax(net.apply(x as never, false), 3).dataSync() as Int32Array);
  const counts = emptyCounts();
  addPredictions(counts, predicted, labels);
  return scoresOf(counts);
}

/** A logged loss from logits: the fused ops, or (for comparison) the tfjs-op composite. */
export type LossFn = (name: LossKey, labels: Tensor3D, logits: Tensor) => Scalar;

/**
 * A logged loss by its key: each of the seed's with its own fused op (loss and gradient in one
 * kernel call; `segmentationLosses` would compute all five and need a second kernel for the
 * gradient), a zoo loss with its options (src/experiment/zoo_losses.ts).
 */
export const fusedLoss: LossFn = (name, labels, logits) => {
  switch (name) {
    case 'cce': return categoricalCrossEntropy(labels, logits, { clip: true }) as Scalar;
    case 'dice': return dice(labels, logits);
    case 'dice_square': return dice(labels, logits, { square: true });
    case 'dicefg': return dice(labels, logits, { includeBackground: false });
    case 'dicefg_square': return dice(labels, logits, { includeBackground: false, square: true });
    default: return zooLoss(name, labels, logits);
  }
};

/**
 * One step on `batch`: the value and global gradient norm of every logged loss (before the
 * update), then the update with the training loss's gradients and, with batch norm, the moving
 * averages. Returns the step's log row (without evaluation) and whether a loss was not finite
 * (then nothing is updated). Leaves no tensor behind.
 *
 * On tfjs's wasm backend with segloss's kernels the net runs forward once and each logged loss is
 * backpropagated by hand from its dLoss/dlogits (ConvNet.backward: the tape's kernels and formulas,
 * the same bits); elsewhere, or with `byHand: false`, each loss gets a forward pass and a tape
 * (variableGrads).
 */
export function trainingStep(
  net: ConvNet, optimizer: StepOptimizer, batch: Batch, config: RunConfig, step: number,
  lossFn: LossFn = fusedLoss, { byHand = net.canBackpropByHand() }: { byHand?: boolean } = {},
): { log: StepLog; diverged: boolean } {
  const log: StepLog = { step, losses: {}, gradNorms: {} };
  let trainGrads: NamedTensorMap | null = null;
  const statistics: BatchStatistics[] = [];
  const record = (name: LossKey, value: Tensor, grads: NamedTensorMap) => {
    log.losses[name] = value.dataSync()[0];
    log.gradNorms[name] = globalNorm(Object.values(grads));
    value.dispose();
    if (name === config.trainLoss) trainGrads = grads;
    else dispose(Object.values(grads));
  };
  if (byHand) {
    const pass = net.forwardTraining(batch.x);
    statistics.push(...pass.statistics);
    try {
      for (const name of config.loggedLosses) {
        // The fused kernels' value and gradient directly (the same numbers as through the tape).
        const direct = lossFn === fusedLoss ? fusedValueAndGrad(pass.logits, (logits) => fusedLoss(name, batch.labels, logits)) : null;
        const { value, grad } = direct ?? valueAndGrad((logits: Tensor) => lossFn(name, batch.labels, logits))(pass.logits);
        const grads = net.backward(pass, grad as Tensor4D);
        grad.dispose();
        record(name, value, grads);
      }
    } finally {
      net.disposePass(pass);
    }
  } else {
    for (const name of config.loggedLosses) {
      const { value, grads } = variableGrads(() => {
        const logits = net.apply(batch.x, true, name === config.trainLoss ? statistics : undefined);
        return lossFn(name, batch.labels, logits);
      }, net.trainable);
      record(name, value, grads);
    }
  }
  const diverged = Object.values(log.losses).some((v) => !Number.isFinite(v));
  if (!diverged) {
    optimizer.applyGradients(trainGrads!);
    net.updateMovingAverages(statistics);
  }
  dispose(Object.values(trainGrads!));
  dispose(statistics.flatMap((s) => [s.mean, s.variance]));
  return { log, diverged };
}

/** The optimizer a run config names (Adam, or SGD with optional momentum). */
export function makeOptimizer(config: RunConfig): StepOptimizer {
  const o = config.optimizer;
  if (o.name === 'adam') return new FusedAdam(o.learningRate, o.beta1, o.beta2, o.epsilon);
  // tfjs types the gradients as Variables; it takes tensors by name (its own minimize passes them).
  return (o.momentum > 0 ? train.momentum(o.learningRate, o.momentum) : train.sgd(o.learningRate)) as unknown as StepOptimizer;
}

/** The three independent random streams of a run: initial weights, training batches, validation set. */
export function runRandoms(seed: number): { weights: Random; batches: Random; validation: Random } {
  return { weights: new Random(seed, STREAM_WEIGHTS), batches: new Random(seed, STREAM_BATCHES), validation: new Random(seed, STREAM_VALIDATION) };
}

/**
 * Trains one run and yields its log step by step; returns how it ended. A non-finite value of
 * any logged loss ends the run as `diverged` at that step (its log row is still yielded).
 * Tensors are released as it goes: `tf.memory().numTensors` is flat across steps.
 */
export function* trainRun(config: RunConfig): Generator<StepLog, RunOutcome> {
  const randoms = runRandoms(config.seed);
  const net = new ConvNet(config, randoms.weights);
  const optimizer = makeOptimizer(config);
  const validation = makeBatchValues(randoms.validation, config.validationImages, config.imageSize, config.foreground, config.invertInput);
  const validationX = tensor4d(validation.x, [config.validationImages, config.imageSize, config.imageSize, 1]);
  try {
    for (let step = 0; step < config.steps; step++) {
      const batch = makeBatch(randoms.batches, config.batchSize, config.imageSize, config.foreground, config.invertInput);
      const { log, diverged } = trainingStep(net, optimizer, batch, config, step);
      dispose([batch.x, batch.labels]);
      if (diverged) {
        yield log;
        return { status: 'diverged', steps: step + 1, divergedAt: step, parameters: net.parameterCount() };
      }
      if (step % config.evalEvery === 0 || step === config.steps - 1) {
        log.eval = evaluate(net, validationX, validation.labels);
      }
      yield log;
    }
    return { status: 'completed', steps: config.steps, parameters: net.parameterCount() };
  } finally {
    validationX.dispose();
    optimizer.dispose();
    net.dispose();
  }
}
