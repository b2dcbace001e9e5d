/**
 * Training a U-Net (`segloss train`, and from code) on the synthetic data set or on your own
 * (`data`: a folder of images and masks, or NIfTI volumes: segloss/data): `unet2d` or, for
 * volumes, `unet3d` on patches; a loss of segloss's, Adam (FusedAdam: one kernel for every variable), a seeded order of batches, the
 * validation set's accuracy and per-class Dice and IoU every `evalEvery` steps, and checkpoints
 * that resume bit for bit: the model through `model.save` (file://, src/models/file_io.ts), the
 * optimizer's moments and β powers, and the step. Trains on tfjs-backend-wasm with segloss's
 * kernels (call setupWasmKernels() first). Checkpoints are files (Node); training itself runs
 * anywhere, so the file system is loaded only by `save` and `resume`.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { z } from 'zod';
import '../tfjs/core_gradients.js'; // tfjs-core's gradients, and the one a unet3d's transposed convs need
import {
  categoricalCrossEntropy, dice, diceCrossEntropy, diceFocal, focal, generalizedDice, lovaszSoftmax, tversky,
} from '../losses/index.js';
import { Random } from '../experiment/random.js';
import { addPredictions, emptyCounts, scoresOf } from '../experiment/train.js';
import { FusedAdam } from '../ops/fused_adam.js';
import { TRAIN_LOSS_NAMES, type TrainLossName } from './loss_names.js';
import type { DataLayout, DataReport, DataSource } from '../data/api.js';
import { folderReadingFields } from '../data/options.js';
import type { SegmentationDataset } from '../data/dataset.js';
import type { DecodeWorkers } from '../data/prepare.js';
import { localCollective, withCollective, type Collective } from '../parallel/collective.js';
import { gatherBatch } from '../parallel/gather.js';
import type { Replicas } from '../parallel/replicas.js';
import { syntheticSegmentation, type SyntheticData } from './synthetic.js';
import { replacingTfjsKernels } from '../kernels/register_all.js';
import { fusedLayersBatchNormInstalled, useFusedLayersBatchNorm } from '../tfjs/layers_batch_norm.js';
import { unet2d, unet3d } from './unet.js';

// tfjs-layers may load after setupWasmKernels() (this module imports it): its BatchNormalization gets the fused path now.
if (replacingTfjsKernels()) useFusedLayersBatchNorm(true);

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

/** Your own data (segloss/data): the folder and how to read it; see DatasetOptions. */
const dataSchema = z.object({
  ...folderReadingFields,
  /** Default: the data's (dataset.json, else the largest class present + 1). */
  classes: z.number().int().min(2).max(256).optional(),
  /**
   * Node: threads that read and decode the next step's images while a step trains (default 1;
   * 0 decodes between steps on the training thread). The batches are the same bits either way.
   */
  decodeWorkers: z.number().int().min(0).max(64).default(1),
}).strict();

const optionsSchema = z.object({
  /** Images are imageSize × imageSize (divisible by 2^(levels − 1)); with 3D data, the patch side. Default 128 (3D: 64). */
  imageSize: z.number().int().min(8).max(1024).optional(),
  filters: z.array(z.number().int().min(1).max(512)).min(1).max(6).default([16, 32, 64, 128]),
  batchNorm: z.boolean().default(true),
  loss: z.enum(TRAIN_LOSS_NAMES).default('dice-ce'),
  steps: z.number().int().min(1).max(10_000_000).default(1000),
  batchSize: z.number().int().min(1).max(256).default(4),
  learningRate: z.number().positive().finite().default(1e-3),
  /**
   * The synthetic data's foreground fraction, 0.005–0.995. Above 0.5 the shapes cover 1 − foreground
   * and are labelled background, the rest foreground (the seed's 95 % fg, on shapes).
   */
  foreground: z.number().min(0.005).max(0.995).default(0.1),
  trainImages: z.number().int().min(1).max(100_000).default(256),
  validationImages: z.number().int().min(1).max(10_000).default(16),
  evalEvery: z.number().int().min(1).default(100),
  seed: z.number().int().min(0).max(2 ** 32 - 1).default(0),
  /** The synthetic data's dimensions: 2, images (default), or 3, volumes of imageSize³ for a unet3d. Your own data's come from its files. */
  dims: z.union([z.literal(2), z.literal(3)]).optional(),
  /** Train on your own data instead of the synthetic set. */
  data: dataSchema.optional(),
  /**
   * Threads for each training step (ExecutionOptions.threads; default the cores there are). Not
   * part of the run: the log is the same bits for any count, and a checkpoint does not keep it.
   */
  threads: z.number().int().min(1).max(256).optional(),
}).strict();

/** The options that make a run (everything but `threads`), as a checkpoint keeps them. */
export function runOptions(o: UNetTrainingOptions): Omit<UNetTrainingOptions, 'threads'> {
  const { threads: _threads, ...run } = o;
  return run;
}

/** Training options as given: every field optional (parseTrainingOptions fills in the defaults). */
export type UNetTrainingInput = z.input<typeof optionsSchema>;
/** Validated training options, every default filled in, imageSize included (parseTrainingOptions). */
export type UNetTrainingOptions = Omit<z.output<typeof optionsSchema>, 'imageSize'> & { imageSize: number };
/** The validated `data` option: your own data's folder, how to read it, its classes and decode workers. */
export type TrainingDataOptions = z.output<typeof dataSchema>;

/**
 * Validates training options (a clear error naming each bad field) and fills in the defaults;
 * `dims` is the data's (3 for volumes: the default imageSize is then 64, the patch side).
 */
export function parseTrainingOptions(input: unknown, dims: 2 | 3 = 2): UNetTrainingOptions {
  const result = optionsSchema.safeParse(input ?? {});
  if (!result.success) {
    throw new Error(`segloss train: invalid options: ${result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  }
  if (result.data.dims != null && result.data.data != null) {
    throw new Error('segloss train: invalid options: dims: is the synthetic data\'s; your own data\'s dimensions come from its files');
  }
  dims = result.data.dims ?? dims;
  const o = { ...result.data, imageSize: result.data.imageSize ?? (dims === 3 ? 64 : 128) };
  const scale = 2 ** (o.filters.length - 1);
  if (o.imageSize % scale !== 0) {
    throw new Error(`segloss train: invalid options: imageSize: ${o.imageSize} is not divisible by 2^${o.filters.length - 1} = ${scale} for ${o.filters.length} levels`);
  }
  return o;
}

/** Accuracy of argmax predictions on the validation set, and per class their Dice and IoU. */
export interface ValidationScores {
  accuracy: number;
  /** Per class (background, foreground): 2|P∩Y| / (|P| + |Y|), 1 when both are empty. */
  dice: number[];
  iou: number[];
}

/**
 * One step's row: the step, the training loss on its batch (before the update), and the validation
 * scores on evaluation steps (every `evalEvery` steps, and the last).
 */
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

/** A batch of images [n, ...spatial, channels] and their class indices [n, ...spatial]. */
export interface Batch {
  images: Float32Array;
  labels: Int32Array;
}

/** What a trainer trains on: seeded batches and a fixed validation set, of one shape. */
export interface TrainingSet {
  dims: 2 | 3;
  /** [size, size(, size), channels] */
  inputShape: number[];
  classes: number;
  /** Step `step`'s batch: at once (synthetic data) or once its files are read (your own). */
  batch(step: number, batchSize: number): Batch | Promise<Batch>;
  validation: Batch & { count: number };
  /** Your own data's: a changed folder gives another (checked on resume). */
  fingerprint?: string;
  /** Ends what the data holds (decode workers). */
  dispose?(): void;
}

/**
 * The synthetic data set of segloss/models, each epoch a seeded permutation of its images (also a
 * sweep's U-Net runs' data): imageSize² images, or imageSize³ volumes with `dims` 3.
 */
export class SyntheticSet implements TrainingSet {
  readonly classes = 2;
  readonly inputShape: number[];
  readonly validation: Batch & { count: number };
  private readonly train: SyntheticData;
  private readonly voxels: number;
  private cached: { epoch: number; order: number[] } | null = null;

  constructor(
    private readonly o: Pick<UNetTrainingOptions, 'imageSize' | 'trainImages' | 'validationImages' | 'foreground' | 'seed'>,
    readonly dims: 2 | 3 = 2,
  ) {
    const shape = new Array<number>(dims).fill(o.imageSize);
    this.inputShape = [...shape, 1];
    this.voxels = o.imageSize ** dims;
    // Above half foreground the shapes are the minority, labelled background.
    const swap = o.foreground > 0.5;
    const shapes = swap ? 1 - o.foreground : o.foreground;
    this.train = syntheticSegmentation({ shape, count: o.trainImages, foreground: shapes, seed: o.seed });
    const v = syntheticSegmentation({ shape, count: o.validationImages, foreground: shapes, seed: o.seed + 1_000_003 });
    if (swap) for (const labels of [this.train.labels, v.labels]) for (let i = 0; i < labels.length; i++) labels[i] = 1 - labels[i];
    this.validation = { images: v.images, labels: v.labels, count: o.validationImages };
  }

  private permutation(epoch: number): number[] {
    if (this.cached?.epoch !== epoch) this.cached = { epoch, order: new Random(this.o.seed, 1000 + epoch).shuffled(this.o.trainImages) };
    return this.cached.order;
  }

  batch(step: number, batchSize: number): Batch {
    const pixels = this.voxels;
    const images = new Float32Array(batchSize * pixels);
    const labels = new Int32Array(batchSize * pixels);
    for (let b = 0, k = step * batchSize; b < batchSize; b++, k++) {
      const n = this.permutation(Math.floor(k / this.o.trainImages))[k % this.o.trainImages];
      images.set(this.train.images.subarray(n * pixels, (n + 1) * pixels), b * pixels);
      labels.set(this.train.labels.subarray(n * pixels, (n + 1) * pixels), b * pixels);
    }
    return { images, labels };
  }
}

/** segloss/data: with Node's folder reader when the source is a path (never loaded in a browser, which passes files). */
async function dataApi(source: DataSource) {
  return typeof source === 'string' ? import('../data/index.js') : import('../data/api.js');
}

/** Your own data (segloss/data), its validation set read once; in Node, with decode workers when asked for. */
async function folderSet(dataset: SegmentationDataset, o: UNetTrainingOptions, source?: DataSource): Promise<TrainingSet> {
  let workers: DecodeWorkers | null = null;
  if (typeof (source ?? o.data!.path) === 'string' && o.data!.decodeWorkers > 0) {
    workers = (await import('../data/index.js')).decodeWorkers(o.data!.decodeWorkers);
    dataset.useWorkers(workers);
  }
  const validation = await dataset.validationSet();
  return {
    dims: dataset.dims, inputShape: dataset.inputShape, classes: dataset.classes, fingerprint: dataset.fingerprint,
    batch: (step, batchSize) => dataset.batch(step, batchSize), validation,
    dispose: () => { void workers?.close(); },
  };
}

/** What UNetTrainer.open and resume report while they read your data. */
export interface OpenHooks extends Pick<ExecutionOptions, 'onNotice' | 'replicaWorker'> {
  /** The data check before training: after each pair, done of total. */
  onCheckProgress?: (done: number, total: number, file: string) => void;
  /**
   * The data check already done on these files with these options (`checkData` of segloss/data:
   * its report, `layoutOf` included): open trusts it instead of reading every file again.
   */
  checked?: DataReport & { layoutOf: DataLayout };
}

/**
 * The layout of the data `input` names (from `source`, default its path), found once: it says
 * whether the data is 3D (the default imageSize) and is what the check reads. Null for the
 * synthetic data; a check already made (hooks.checked) brings its own.
 */
async function readLayout(input: UNetTrainingInput, source?: DataSource, hooks?: OpenHooks): Promise<DataLayout | null> {
  if (!input?.data) return null;
  if (hooks?.checked) return hooks.checked.layoutOf;
  const { dataFiles, discoverLayout } = await dataApi(source ?? input.data.path);
  return discoverLayout(await dataFiles(source ?? input.data.path), { manifest: input.data.manifest });
}

/** `o.data`'s layout as a SegmentationDataset: checked first (unless hooks.checked is its check), refused with every problem. */
async function openFolder(o: UNetTrainingOptions, layout: DataLayout, source?: DataSource, hooks: OpenHooks = {}): Promise<SegmentationDataset> {
  const d = o.data!;
  const { checkDataset, SegmentationDataset, DataError } = await dataApi(source ?? d.path);
  const report = hooks.checked ?? await checkDataset(layout, { masks: d.masks, classes: d.classes, onProgress: hooks.onCheckProgress });
  if (report.problems.length > 0) throw new DataError(report.problems);
  return new SegmentationDataset(layout, report, {
    size: o.imageSize, masks: d.masks, classes: d.classes, channels: d.channels, normalize: d.normalize,
    augment: d.augment, valFraction: d.valFraction, positiveRatio: d.positiveRatio, valPatches: d.valPatches, cacheMB: d.cacheMB, seed: o.seed,
  });
}

/**
 * The options (validated, with the data's defaults) and the data a U-Net trains on: the synthetic
 * set (2D, or 3D with `dims` 3), or `input.data` read and checked from its folder (Node) or from
 * `source`. A sweep's U-Net runs train on this too (src/models/sweep_run.ts).
 */
export async function openTrainingSet(input: UNetTrainingInput, source?: DataSource, hooks?: OpenHooks, dims: 2 | 3 = 2): Promise<{ options: UNetTrainingOptions; set: TrainingSet }> {
  const layout = await readLayout(input, source, hooks);
  if (!layout) {
    const options = parseTrainingOptions(input, dims);
    return { options, set: new SyntheticSet(options, options.dims ?? dims) };
  }
  const options = parseTrainingOptions(input, layout.dims);
  return { options, set: await folderSet(await openFolder(options, layout, source, hooks), options, source) };
}

export function buildModel(o: UNetTrainingOptions, set: TrainingSet, name?: string): tfl.LayersModel {
  const common = { classes: set.classes, filters: o.filters, batchNorm: o.batchNorm, seed: o.seed, name };
  return set.dims === 3
    ? unet3d({ ...common, inputShape: set.inputShape as [number, number, number, number] })
    : unet2d({ ...common, inputShape: set.inputShape as [number, number, number] });
}

export interface ValidationPictures {
  /** [count, size, size]: the channels' mean (a volume's middle slice). */
  images: Float32Array;
  labels: Int32Array;
  /** The model's argmax predictions (batch norm in inference mode). */
  predicted: Int32Array;
  count: number;
  size: number;
}

/** `model`'s argmax predictions of `count` validation samples of `set` from `first`. */
function predictValidation(model: tfl.LayersModel, set: TrainingSet, first: number, count: number): Int32Array {
  const shape = set.inputShape;
  const size = shape.reduce((a, b) => a * b, 1);
  const images = set.validation.images.subarray(first * size, (first + count) * size);
  return tf.tidy(() => tf.argMax(model.predict(tf.tensor(images, [count, ...shape])) as tf.Tensor, -1).dataSync() as Int32Array);
}

/**
 * Accuracy and per-class Dice and IoU of `model`'s argmax predictions on `set`'s validation samples,
 * eight images or one volume at a time (UNetTrainer.evaluate, and a sweep's U-Net runs).
 */
export function validationScores(model: tfl.LayersModel, set: TrainingSet): ValidationScores {
  const { count, labels } = set.validation;
  const voxels = set.inputShape.slice(0, -1).reduce((a, b) => a * b, 1);
  const counts = emptyCounts(set.classes);
  const chunk = set.dims === 3 ? 1 : 8;
  for (let first = 0; first < count; first += chunk) {
    const n = Math.min(chunk, count - first);
    addPredictions(counts, predictValidation(model, set, first, n), labels.subarray(first * voxels, (first + n) * voxels));
  }
  return scoresOf(counts);
}

/** The first `count` validation samples of `set` with `model`'s predictions, as size × size pictures (UNetTrainer.predictions). */
export function validationPictures(model: tfl.LayersModel, set: TrainingSet, count: number): ValidationPictures {
  const shape = set.inputShape;
  const size = shape[0];
  const channels = shape[shape.length - 1];
  const n = Math.max(1, Math.min(count, set.validation.count));
  const pixels = size * size;
  const voxels = set.dims === 3 ? pixels * size : pixels;
  const slice = set.dims === 3 ? (size >> 1) * pixels : 0;
  const images = new Float32Array(n * pixels);
  const labels = new Int32Array(n * pixels);
  const predicted = new Int32Array(n * pixels);
  for (let k = 0; k < n; k++) {
    const p = predictValidation(model, set, k, 1);
    for (let i = 0; i < pixels; i++) {
      let sum = 0;
      for (let c = 0; c < channels; c++) sum += set.validation.images[(k * voxels + slice + i) * channels + c];
      images[k * pixels + i] = sum / channels;
      labels[k * pixels + i] = set.validation.labels[k * voxels + slice + i];
      predicted[k * pixels + i] = p[slice + i];
    }
  }
  return { images, labels, predicted, count: n, size };
}

/**
 * One training step of `model` on this thread's part of the batch (`images`: the collective's
 * `count` images; `labels`: the whole batch's): the loss on the whole batch's logits (gathered
 * from every thread), the gradients with every reduction over the batch in image order
 * (src/parallel/), and Adam when the loss is finite. Every thread gets the same loss and applies
 * the same update, so the replicas stay the same bits. Returns the loss.
 */
export function trainingStep(
  model: tfl.LayersModel, optimizer: FusedAdam, loss: TrainLossName, collective: Collective,
  inputShape: readonly number[], images: Float32Array, labels: Int32Array,
): number {
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const x = tf.tensor(images, [collective.count, ...inputShape]);
  const y = tf.tensor(labels, [collective.batch, ...inputShape.slice(0, -1)], 'int32');
  const lossFn = TRAIN_LOSSES[loss];
  try {
    const { value, grads } = withCollective(collective, () => tf.variableGrads(
      () => lossFn(y, gatherBatch(collective, model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar, variables));
    const result = value.dataSync()[0];
    value.dispose();
    if (Number.isFinite(result)) optimizer.applyGradients(grads);
    tf.dispose(Object.values(grads));
    return result;
  } finally {
    tf.dispose([x, y]);
  }
}

/** How a trainer runs, not what it trains: a run's log is the same bits for any of these. */
export interface ExecutionOptions {
  /**
   * Threads for one model's training step (data parallel: docs/threads.md), like PyTorch's
   * torch.set_num_threads. Default: the cores there are (Node: os.availableParallelism(); a
   * browser: navigator.hardwareConcurrency), at most one per image of the batch. In a browser the
   * threads are Web Workers, and need the trainer in a Worker of a cross-origin isolated page;
   * elsewhere a browser trains on one thread, with a notice when more were asked for.
   */
  threads?: number;
  /** Where notices go (a thread count lowered or shared cores); default console.warn. */
  onNotice?: (message: string) => void;
  /**
   * Browsers: the script of a training thread's Web Worker (segloss's train-replica-worker.js,
   * with tfjs's .wasm files beside it). Default: train-replica-worker.js beside segloss's module,
   * where the demo's build puts it.
   */
  replicaWorker?: URL | string;
}

/** Whether this is Node (worker_threads), where the trainer's threads are worker_threads. */
const inNode = () => typeof process !== 'undefined' && process.versions?.node != null && typeof SharedArrayBuffer === 'function';

/** A U-Net in training: one step at a time (`nextStep()`; `runStep()` for in-memory data), checkpoints on demand. */
export class UNetTrainer {
  /** The next step to run (the number of steps done). */
  step = 0;
  private pending: { step: number; batch: Promise<Batch> } | null = null;
  private replicas: Replicas | null = null;

  private constructor(
    readonly options: UNetTrainingOptions,
    readonly model: tfl.LayersModel,
    private readonly optimizer: FusedAdam,
    private readonly data: TrainingSet,
  ) {}

  /** A fresh trainer on the synthetic data set, on one thread: the data sets, the model (seeded), the optimizer. */
  static create(input: UNetTrainingInput): UNetTrainer {
    const o = parseTrainingOptions(input);
    if (o.data) throw new Error('segloss train: options.data is read from files: use `await UNetTrainer.open(options)`');
    if ((o.threads ?? 1) > 1) throw new Error('segloss train: threads start with the trainer: use `await UNetTrainer.open(options)`');
    const set = new SyntheticSet(o, o.dims ?? 2);
    return new UNetTrainer(o, buildModel(o, set), new FusedAdam(o.learningRate, 0.9, 0.999, 1e-7), set);
  }

  /**
   * A fresh trainer on any data: the synthetic set, or `options.data` read from its folder (Node)
   * or from `source` (a browser's FileList, File[] or DataFile[]). Rejects with a DataError listing
   * every problem of the data, each naming its file.
   */
  static async open(input: UNetTrainingInput, source?: DataSource, hooks?: OpenHooks): Promise<UNetTrainer> {
    const { options: o, set } = await openTrainingSet(input, source, hooks);
    const trainer = new UNetTrainer(o, buildModel(o, set), new FusedAdam(o.learningRate, 0.9, 0.999, 1e-7), set);
    return trainer.startThreads(input?.threads, hooks);
  }

  /** Threads this trainer's steps run on (1 until `open` or `resume` started more). */
  get threads(): number {
    return this.replicas?.size ?? 1;
  }

  /** Starts the other threads' replicas (Node's worker_threads, a browser's Web Workers), from this trainer's model and optimizer as they are now. */
  private async startThreads(requested: number | undefined, hooks: ExecutionOptions = {}): Promise<UNetTrainer> {
    const notice = hooks.onNotice ?? ((message: string) => console.warn(message));
    const { planThreads } = await import('../parallel/plan.js');
    const host = inNode() ? await import('../parallel/node.js') : await import('../parallel/web.js');
    const unavailable = 'unavailable' in host ? host.unavailable() : null;
    // Batch norm's statistics over every thread's images come from segloss's fused kernels only.
    const exact = !this.options.batchNorm || fusedLayersBatchNormInstalled();
    const plan = planThreads(requested, {
      cores: host.cores(), batch: this.options.batchSize,
      unavailable: unavailable ?? (exact ? null
        : 'batch norm runs on tfjs-layers\' own ops here (setupWasmKernels({ replaceTfjsKernels: false })), whose statistics cannot span threads'),
    });
    for (const message of plan.notices) notice(message);
    if (plan.threads === 1) return this;
    const source = {
      threads: plan.threads, options: this.options, model: this.model, optimizer: this.optimizer,
      dims: this.data.dims, inputShape: this.data.inputShape, classes: this.data.classes,
    };
    try {
      this.replicas = await ('unavailable' in host ? host.startReplicas(source, hooks.replicaWorker) : host.startReplicas(source));
    } catch (error) {
      this.dispose();
      throw error;
    }
    return this;
  }

  /** Spatial dimensions (2 or 3), classes and the input's channels of the model. */
  get dims(): 2 | 3 { return this.data.dims; }
  get classes(): number { return this.data.classes; }
  get inputShape(): number[] { return this.data.inputShape; }

  private variables(): tf.Variable[] {
    return this.model.trainableWeights.map((w) => w.read() as tf.Variable);
  }

  /**
   * One training step on data in memory (the synthetic set); its row (validation scores on
   * evaluation steps and the last). Data read from files needs `nextStep()`.
   */
  runStep(): TrainingRow {
    const batch = this.data.batch(this.step, this.options.batchSize);
    if (batch instanceof Promise) throw new Error('segloss train: this trainer reads its data from files: use `await trainer.nextStep()`');
    return this.stepOn(batch);
  }

  /** One training step on any data; the next step's batch is read while this one trains. */
  async nextStep(): Promise<TrainingRow> {
    const { batchSize, steps } = this.options;
    const batch = this.pending?.step === this.step ? this.pending.batch : Promise.resolve(this.data.batch(this.step, batchSize));
    this.pending = null;
    const current = await batch;
    if (this.step + 1 < steps) this.pending = { step: this.step + 1, batch: Promise.resolve(this.data.batch(this.step + 1, batchSize)) };
    // A rejected prefetch is reported by the step that awaits it, not as an unhandled rejection now.
    this.pending?.batch.catch(() => {});
    return this.stepOn(current);
  }

  private stepOn({ images, labels }: Batch): TrainingRow {
    const { batchSize, evalEvery, steps } = this.options;
    const shape = this.data.inputShape;
    const collective = this.replicas?.collective ?? localCollective(batchSize);
    const size = shape.reduce((a, b) => a * b, 1);
    this.replicas?.post(this.step, images, labels);
    let loss: number;
    try {
      loss = trainingStep(this.model, this.optimizer, this.options.loss, collective, shape,
        images.subarray(collective.first * size, (collective.first + collective.count) * size), labels);
    } catch (error) {
      throw this.replicas ? this.replicas.failed(error as Error) : error;
    }
    const row: TrainingRow = { step: this.step, loss };
    this.step++;
    if (row.step % evalEvery === 0 || row.step === steps - 1) row.eval = this.evaluate();
    return row;
  }

  /** Accuracy and per-class Dice and IoU of argmax predictions on the validation set (BN in inference mode). */
  evaluate(): ValidationScores {
    return validationScores(this.model, this.data);
  }

  /**
   * The first `count` validation samples as pictures: a grey image (the channels' mean; a volume's
   * middle slice), its labels and the model's argmax predictions, each size × size.
   */
  predictions(count: number): ValidationPictures {
    return validationPictures(this.model, this.data, count);
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
      format: CHECKPOINT_FORMAT, version: 1, options: runOptions(this.options), step: this.step,
      ...(this.data.fingerprint ? { dataFingerprint: this.data.fingerprint } : {}),
      accBeta1: state.accBeta1, accBeta2: state.accBeta2, moments: state.moments.map((m) => m.length),
    }, null, 2) + '\n');
  }

  /**
   * A trainer from a checkpoint of `save`, ready to run its next step; its result is the
   * uninterrupted run's, bit for bit. A run on your own data reads it again (from `source`, default
   * its path) and refuses to go on if the files changed since the run began.
   */
  static async resume(dir: string, source?: DataSource, hooks?: OpenHooks & ExecutionOptions): Promise<UNetTrainer> {
    const { join, readFileSync, fsio } = await fileSystem();
    const statePath = join(dir, 'state.json');
    const text = fsio('read', statePath, () => readFileSync(statePath, 'utf8'));
    let state: { format: string; version: number; options: UNetTrainingInput; step: number; accBeta1: number; accBeta2: number; moments: number[]; dataFingerprint?: string };
    try {
      state = JSON.parse(text);
    } catch (error) {
      throw new Error(`segloss train: ${statePath} is not JSON (${(error as Error).message}): not a checkpoint`);
    }
    if (state?.format !== CHECKPOINT_FORMAT || state.version !== 1) throw new Error(`segloss train: ${statePath} is not a segloss U-Net checkpoint`);
    const layout = await readLayout(state.options, source);
    const o = parseTrainingOptions(state.options, layout?.dims);
    let set: TrainingSet;
    if (layout) {
      const dataset = await openFolder(o, layout, source, hooks);
      if (state.dataFingerprint && dataset.fingerprint !== state.dataFingerprint) {
        throw new Error(`segloss train: the data in ${o.data!.path} changed since this run began (files added, removed or resized): `
          + 'resuming would train on other data than the run so far; restore the data or start a new run');
      }
      set = await folderSet(dataset, o, source);
    } else {
      set = new SyntheticSet(o, o.dims ?? 2);
    }
    const model = await tfl.loadLayersModel(`file://${join(dir, 'model', 'model.json')}`);
    const expected = buildModel(o, set, 'check');
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
    const trainer = new UNetTrainer(o, model, optimizer, set);
    optimizer.loadState(trainer.variables().map((v) => v.name), { accBeta1: state.accBeta1, accBeta2: state.accBeta2, moments });
    trainer.step = state.step;
    return trainer.startThreads(hooks?.threads, hooks);
  }

  /** Ends the trainer: its other threads, the data's decode workers, the optimizer's and model's tensors. */
  dispose(): void {
    this.pending = null;
    this.replicas?.close();
    this.replicas = null;
    this.data.dispose?.();
    this.optimizer.dispose();
    this.model.dispose();
  }
}
