/**
 * Training a U-Net on the synthetic data set (`segloss train`, and from code): `unet2d`, a loss of
 * segloss's, Adam (FusedAdam: one kernel for every variable), a seeded order of batches, the
 * validation set's accuracy and per-class Dice and IoU every `evalEvery` steps, and checkpoints
 * that resume bit for bit: the model through `model.save` (file://, src/models/file_io.ts), the
 * optimizer's moments and β powers, and the step. Trains on tfjs-backend-wasm with segloss's
 * kernels (call setupWasmKernels() first). Checkpoints are files (Node); training itself runs
 * anywhere, so the file system is loaded only by `save` and `resume`.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { z } from 'zod';
import {
  categoricalCrossEntropy, dice, diceCrossEntropy, diceFocal, focal, generalizedDice, lovaszSoftmax, tversky,
} from '../losses/index.js';
import { Random } from '../experiment/random.js';
import { addPredictions, emptyCounts, scoresOf } from '../experiment/train.js';
import { FusedAdam } from '../ops/fused_adam.js';
import { TRAIN_LOSS_NAMES, type TrainLossName } from './loss_names.js';
import { syntheticSegmentation, type SyntheticData } from './synthetic.js';
import { unet2d } from './unet.js';

/** The losses `segloss train` takes by name (TRAIN_LOSS_NAMES), each on (int32 labels, logits). */
export const TRAIN_LOSSES: Record<TrainLossName, (y: tf.Tensor, z: tf.Tensor) => tf.Tensor> = {
  'dice-ce': (y: tf.Tensor, z: tf.Tensor) => diceCrossEntropy(y, z),
  'dice-focal': (y: tf.Tensor, z: tf.Tensor) => diceFocal(y, z),
  dice: (y: tf.Tensor, z: tf.Tensor) => dice(y, z),
  cce: (y: tf.Tensor, z: tf.Tensor) => categoricalCrossEntropy(y, z),
  focal: (y: tf.Tensor, z: tf.Tensor) => focal(y, z),
  'generalized-dice': (y: tf.Tensor, z: tf.Tensor) => generalizedDice(y, z),
  tversky: (y: tf.Tensor, z: tf.Tensor) => tversky(y, z, { alpha: 0.3, beta: 0.7 }),
  lovasz: (y: tf.Tensor, z: tf.Tensor) => lovaszSoftmax(y, z),
};

const optionsSchema = z.object({
  /** Images are imageSize × imageSize × 1 (divisible by 2^(levels − 1)). */
  imageSize: z.number().int().min(8).max(1024).default(128),
  filters: z.array(z.number().int().min(1).max(512)).min(1).max(6).default([16, 32, 64, 128]),
  batchNorm: z.boolean().default(true),
  loss: z.enum(TRAIN_LOSS_NAMES).default('dice-ce'),
  steps: z.number().int().min(1).max(10_000_000).default(1000),
  batchSize: z.number().int().min(1).max(256).default(4),
  learningRate: z.number().positive().finite().default(1e-3),
  /** The synthetic data's foreground fraction (down to 0.005). */
  foreground: z.number().min(0.005).max(0.6).default(0.1),
  trainImages: z.number().int().min(1).max(100_000).default(256),
  validationImages: z.number().int().min(1).max(10_000).default(16),
  evalEvery: z.number().int().min(1).default(100),
  seed: z.number().int().min(0).max(2 ** 32 - 1).default(0),
}).strict();

export type UNetTrainingInput = z.input<typeof optionsSchema>;
export type UNetTrainingOptions = z.output<typeof optionsSchema>;

/** Validates training options (a clear error naming each bad field) and fills in the defaults. */
export function parseTrainingOptions(input: unknown): UNetTrainingOptions {
  const result = optionsSchema.safeParse(input ?? {});
  if (!result.success) {
    throw new Error(`segloss train: invalid options: ${result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  }
  const o = result.data;
  const scale = 2 ** (o.filters.length - 1);
  if (o.imageSize % scale !== 0) {
    throw new Error(`segloss train: invalid options: imageSize: ${o.imageSize} is not divisible by 2^${o.filters.length - 1} = ${scale} for ${o.filters.length} levels`);
  }
  return o;
}

export interface ValidationScores {
  accuracy: number;
  /** Per class (background, foreground): 2|P∩Y| / (|P| + |Y|), 1 when both are empty. */
  dice: number[];
  iou: number[];
}

export interface TrainingRow {
  step: number;
  loss: number;
  eval?: ValidationScores;
}

const CHECKPOINT_FORMAT = 'segloss-unet-checkpoint';

/** Node's file system and segloss's file helpers, with file:// registered for model.save / loadLayersModel. */
async function fileSystem() {
  const [{ readFileSync, mkdirSync }, { join }, { io: fsio, writeAtomic }, { registerFileIO }] = await Promise.all([
    import('node:fs'), import('node:path'), import('../sdk/fsio.js'), import('./file_io.js'),
  ]);
  registerFileIO();
  return { readFileSync, mkdirSync, join, fsio, writeAtomic };
}

/** A U-Net in training on the synthetic data set: one `step()` at a time, checkpoints on demand. */
export class UNetTrainer {
  /** The next step to run (the number of steps done). */
  step = 0;

  private constructor(
    readonly options: UNetTrainingOptions,
    readonly model: tfl.LayersModel,
    private readonly optimizer: FusedAdam,
    private readonly train: SyntheticData,
    private readonly validation: SyntheticData,
  ) {}

  /** A fresh trainer: the data sets, the model (seeded), the optimizer. */
  static create(input: UNetTrainingInput): UNetTrainer {
    const o = parseTrainingOptions(input);
    const model = unet2d({ inputShape: [o.imageSize, o.imageSize, 1], classes: 2, filters: o.filters, batchNorm: o.batchNorm, seed: o.seed });
    return new UNetTrainer(o, model, new FusedAdam(o.learningRate, 0.9, 0.999, 1e-7), ...UNetTrainer.data(o));
  }

  private static data(o: UNetTrainingOptions): [SyntheticData, SyntheticData] {
    const shape = [o.imageSize, o.imageSize];
    return [
      syntheticSegmentation({ shape, count: o.trainImages, foreground: o.foreground, seed: o.seed }),
      syntheticSegmentation({ shape, count: o.validationImages, foreground: o.foreground, seed: o.seed + 1_000_003 }),
    ];
  }

  /** The images of step `step`'s batch: each epoch a seeded permutation of the training set. */
  private batchIndices(step: number): number[] {
    const { batchSize, trainImages, seed } = this.options;
    const out: number[] = [];
    for (let k = step * batchSize; k < (step + 1) * batchSize; k++) {
      const epoch = Math.floor(k / trainImages);
      out.push(this.permutation(seed, epoch)[k % trainImages]);
    }
    return out;
  }

  private cached: { epoch: number; order: number[] } | null = null;

  private permutation(seed: number, epoch: number): number[] {
    if (this.cached?.epoch !== epoch) {
      const random = new Random(seed, 1000 + epoch);
      const order = Array.from({ length: this.options.trainImages }, (_, i) => i);
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(random.nextFloat() * (i + 1));
        [order[i], order[j]] = [order[j], order[i]];
      }
      this.cached = { epoch, order };
    }
    return this.cached.order;
  }

  private variables(): tf.Variable[] {
    return this.model.trainableWeights.map((w) => w.read() as tf.Variable);
  }

  /** One training step; its row (with the validation scores on evaluation steps and the last). */
  runStep(): TrainingRow {
    const { imageSize: s, batchSize, evalEvery, steps } = this.options;
    const pixels = s * s;
    const indices = this.batchIndices(this.step);
    const images = new Float32Array(batchSize * pixels);
    const labels = new Int32Array(batchSize * pixels);
    indices.forEach((n, b) => {
      images.set(this.train.images.subarray(n * pixels, (n + 1) * pixels), b * pixels);
      labels.set(this.train.labels.subarray(n * pixels, (n + 1) * pixels), b * pixels);
    });
    const x = tf.tensor4d(images, [batchSize, s, s, 1]);
    const y = tf.tensor3d(labels, [batchSize, s, s], 'int32');
    const lossFn = TRAIN_LOSSES[this.options.loss];
    let loss: number;
    try {
      const { value, grads } = tf.variableGrads(() => lossFn(y, this.model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, this.variables());
      loss = value.dataSync()[0];
      value.dispose();
      if (Number.isFinite(loss)) this.optimizer.applyGradients(grads);
      tf.dispose(Object.values(grads));
    } finally {
      tf.dispose([x, y]);
    }
    const row: TrainingRow = { step: this.step, loss };
    this.step++;
    if (row.step % evalEvery === 0 || row.step === steps - 1) row.eval = this.evaluate();
    return row;
  }

  /** Accuracy and per-class Dice and IoU of argmax predictions on the validation set (BN in inference mode). */
  evaluate(): ValidationScores {
    const { imageSize: s, validationImages: count } = this.options;
    const pixels = s * s;
    const counts = emptyCounts();
    for (let first = 0; first < count; first += 8) {
      const n = Math.min(8, count - first);
      const classes = tf.tidy(() => tf.argMax(this.model.predict(
        tf.tensor4d(this.validation.images.subarray(first * pixels, (first + n) * pixels), [n, s, s, 1])) as tf.Tensor, -1).dataSync());
      addPredictions(counts, classes, this.validation.labels.subarray(first * pixels, (first + n) * pixels));
    }
    return scoresOf(counts);
  }

  /** The first `count` validation images, their labels and the model's argmax predictions (for pictures). */
  predictions(count: number): { images: Float32Array; labels: Int32Array; predicted: Int32Array; count: number; size: number } {
    const { imageSize: s } = this.options;
    const n = Math.max(1, Math.min(count, this.options.validationImages));
    const images = this.validation.images.slice(0, n * s * s);
    const predicted = tf.tidy(() => tf.argMax(this.model.predict(tf.tensor4d(images, [n, s, s, 1])) as tf.Tensor, -1).dataSync() as Int32Array);
    return { images, labels: this.validation.labels.slice(0, n * s * s), predicted: Int32Array.from(predicted), count: n, size: s };
  }

  /**
   * Writes a checkpoint to `dir`: dir/model (model.json + weights.bin), dir/optimizer.bin (the
   * moments), dir/state.json (the options, the step, the β powers) last, atomically.
   */
  async save(dir: string): Promise<void> {
    const { join, mkdirSync, fsio, writeAtomic } = await fileSystem();
    fsio('create', dir, () => mkdirSync(dir, { recursive: true }));
    await this.model.save(`file://${join(dir, 'model')}`);
    const names = this.variables().map((v) => v.name);
    const state = this.optimizer.saveState(names);
    const bytes = new Uint8Array(state.moments.reduce((n, m) => n + m.byteLength, 0));
    let offset = 0;
    for (const m of state.moments) {
      bytes.set(new Uint8Array(m.buffer, m.byteOffset, m.byteLength), offset);
      offset += m.byteLength;
    }
    writeAtomic(join(dir, 'optimizer.bin'), bytes);
    writeAtomic(join(dir, 'state.json'), JSON.stringify({
      format: CHECKPOINT_FORMAT, version: 1, options: this.options, step: this.step,
      accBeta1: state.accBeta1, accBeta2: state.accBeta2, moments: state.moments.map((m) => m.length),
    }, null, 2) + '\n');
  }

  /** A trainer from a checkpoint of `save`, ready to run its next step; its result is the uninterrupted run's, bit for bit. */
  static async resume(dir: string): Promise<UNetTrainer> {
    const { join, readFileSync, fsio } = await fileSystem();
    const statePath = join(dir, 'state.json');
    const text = fsio('read', statePath, () => readFileSync(statePath, 'utf8'));
    let state: { format: string; version: number; options: unknown; step: number; accBeta1: number; accBeta2: number; moments: number[] };
    try {
      state = JSON.parse(text);
    } catch (error) {
      throw new Error(`segloss train: ${statePath} is not JSON (${(error as Error).message}): not a checkpoint`);
    }
    if (state?.format !== CHECKPOINT_FORMAT || state.version !== 1) throw new Error(`segloss train: ${statePath} is not a segloss U-Net checkpoint`);
    const o = parseTrainingOptions(state.options);
    const model = await tfl.loadLayersModel(`file://${join(dir, 'model', 'model.json')}`);
    const expected = unet2d({ inputShape: [o.imageSize, o.imageSize, 1], classes: 2, filters: o.filters, batchNorm: o.batchNorm, seed: o.seed, name: 'check' });
    const shapes = (m: tfl.LayersModel) => m.getWeights().map((w) => w.shape.join('×')).join(',');
    const same = shapes(expected) === shapes(model);
    expected.dispose();
    if (!same) {
      model.dispose();
      throw new Error(`segloss train: the model in ${dir} is not the architecture its state.json describes`);
    }
    const optimizer = new FusedAdam(o.learningRate, 0.9, 0.999, 1e-7);
    const bytes = fsio('read', join(dir, 'optimizer.bin'), () => readFileSync(join(dir, 'optimizer.bin')));
    const floats = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    let offset = 0;
    const moments = state.moments.map((length) => {
      const part = floats.slice(offset, offset + length);
      offset += length;
      return part;
    });
    if (offset !== floats.length) throw new Error(`segloss train: ${join(dir, 'optimizer.bin')} holds ${floats.length} values, state.json says ${offset}`);
    const trainer = new UNetTrainer(o, model, optimizer, ...UNetTrainer.data(o));
    optimizer.loadState(trainer.variables().map((v) => v.name), { accBeta1: state.accBeta1, accBeta2: state.accBeta2, moments });
    trainer.step = state.step;
    return trainer;
  }

  dispose(): void {
    this.optimizer.dispose();
    this.model.dispose();
  }
}
