/**
 * A training data set from the user's files: seeded batches of the model's size, decoded on
 * demand into a bounded cache, and a fixed validation set.
 *
 * - **2D**: each image is brought to the model's channels (grey ↔ RGB), resized to size × size
 *   (bilinear; masks nearest) and normalised, once, when first used; batches then draw random
 *   flips, quarter turns and intensity jitter (when enabled).
 * - **3D**: each volume is normalised whole and padded up to the patch size where smaller; a
 *   batch takes a random size³ patch per case whose centre is a foreground voxel with probability
 *   `positiveRatio` (MONAI's RandCropByPosNegLabel: the class-imbalance lever), then augments it.
 *   Validation takes `valPatches` fixed patches per validation case, drawn once from the seed.
 * - **Seeded**: batch k is a function of (files, options, seed, k) alone — the epoch's permutation
 *   of the training cases and a random stream per step — so it is the same bits after a resume, in
 *   any worker, in Node and in Chromium, and batch k + 1 can be prepared while step k trains.
 * - **Memory**: prepared cases are kept in a least-recently-used cache of `cacheMB`; a data set
 *   larger than that decodes again what was evicted (the validation set is always kept).
 */
import { Random } from '../experiment/random.js';
import type { DataReport } from './check.js';
import type { DataLayout, SamplePair } from './layout.js';
import type { MaskConvention } from './masks.js';
import { PatchSampler } from './patches.js';
import { prepareCase, type DecodeWorkers, type PrepareSettings } from './prepare.js';
import {
  NO_AUGMENTATION, augmentInto, checkNormalization, drawAugmentation, type Augmentation, type Normalization,
} from './transforms.js';
import { DataError, type DecodedImage, type DecodedLabels } from './types.js';

/** How a SegmentationDataset shapes its samples and batches; only `size` is required. */
export interface DatasetOptions {
  /** 2D: the model's input side (images are resized to size × size); 3D: the patch side. */
  size: number;
  /** Classes (default: the data check's: dataset.json, else the largest class present + 1). */
  classes?: number;
  masks?: MaskConvention;
  /** 2D input channels, 1 or 3 (default: 3 when any image is RGB, else 1). */
  channels?: number;
  /** Default: 'minmax' in 2D, 'zscore' in 3D. */
  normalize?: Normalization;
  augment?: Partial<Augmentation>;
  /**
   * The fraction of training cases held out for validation when the data has no validation split
   * (default 0.2, at least one case); 0 validates on the training cases themselves.
   */
  valFraction?: number;
  /** 3D: the probability that a patch is centred on a foreground voxel (default 0.5: MONAI's pos = neg = 1). */
  positiveRatio?: number;
  /** 3D: fixed validation patches per validation case (default 4). */
  valPatches?: number;
  seed?: number;
  /** The cache of prepared cases, in MB (default 1024). */
  cacheMB?: number;
}

/** `count` samples, channels last, as flat arrays: images as normalised floats, labels as class indices. */
export interface Batch {
  /** [n, ...spatial, channels] */
  images: Float32Array;
  /** [n, ...spatial] */
  labels: Int32Array;
  count: number;
}

interface Prepared {
  image: DecodedImage;
  labels: DecodedLabels;
  sampler: PatchSampler | null;
  bytes: number;
}

/** FNV-1a over a string, 2 × 32 bits (no crypto needed, the same in every engine). */
export function fingerprintOf(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193) >>> 0;
    b = Math.imul(b ^ c ^ (i & 0xff), 0x01000193) >>> 0;
  }
  return a.toString(16).padStart(8, '0') + b.toString(16).padStart(8, '0');
}

/**
 * A checked data set opened for training (see openDataset): the training and validation pairs, seeded
 * batches of `size` (2D images or 3D patches) and a fixed validation set, prepared cases in an LRU cache.
 */
export class SegmentationDataset {
  readonly dims: 2 | 3;
  readonly channels: number;
  readonly classes: number;
  readonly size: number;
  /** The sample shape with channels: [size, size, channels] or [size, size, size, channels]. */
  readonly inputShape: number[];
  readonly train: SamplePair[];
  readonly validation: SamplePair[];
  /** Of the files (paths and sizes) and the options that shape batches: a changed folder gives another. */
  readonly fingerprint: string;
  private readonly normalize: Normalization;
  private readonly augment: Augmentation;
  private readonly cache = new Map<number, Prepared>();
  private cachedBytes = 0;
  private readonly cacheBytes: number;
  private readonly seed: number;
  private readonly positiveRatio: number;
  private valSet: Promise<Batch> | null = null;
  private readonly inflight = new Map<number, Promise<Prepared>>();
  private workers: DecodeWorkers | null = null;
  private permutationCache: { epoch: number; order: number[] } | null = null;

  constructor(layout: DataLayout, report: DataReport, readonly options: DatasetOptions) {
    const problems = report.problems;
    if (problems.length > 0) throw new DataError(problems);
    const o = options;
    if (!Number.isInteger(o.size) || o.size < 4 || o.size > 4096) throw new Error(`data: size must be an integer from 4 to 4096, got ${String(o.size)}`);
    this.dims = layout.dims;
    this.size = o.size;
    this.classes = o.classes ?? report.classes;
    if (!Number.isInteger(this.classes) || this.classes < 2 || this.classes > 256) throw new Error(`data: classes must be an integer from 2 to 256, got ${String(this.classes)}`);
    const present = report.classesPresent.filter((k) => k >= this.classes);
    if (present.length > 0) throw new Error(`data: class values ${present.join(', ')} occur in the masks, but classes is ${this.classes}`);
    this.channels = this.dims === 2 ? (o.channels ?? report.channels) : report.channels;
    if (this.dims === 2 && this.channels !== 1 && this.channels !== 3) throw new Error(`data: channels must be 1 or 3, got ${String(o.channels)}`);
    this.normalize = checkNormalization(o.normalize ?? (this.dims === 2 ? 'minmax' : 'zscore'));
    this.augment = { ...NO_AUGMENTATION, ...o.augment };
    if (!(this.augment.intensity >= 0 && this.augment.intensity <= 1)) throw new Error(`data: augment.intensity must be in [0, 1], got ${String(this.augment.intensity)}`);
    this.seed = o.seed ?? 0;
    this.positiveRatio = o.positiveRatio ?? 0.5;
    if (!(this.positiveRatio >= 0 && this.positiveRatio <= 1)) throw new Error(`data: positiveRatio must be in [0, 1], got ${String(o.positiveRatio)}`);
    this.cacheBytes = (o.cacheMB ?? 1024) * 2 ** 20;
    if (!(this.cacheBytes >= 0)) throw new Error(`data: cacheMB must be ≥ 0, got ${String(o.cacheMB)}`);
    this.inputShape = [...Array(this.dims).fill(this.size), this.channels];
    const labelled = layout.pairs.filter((p) => p.mask);
    const train = labelled.filter((p) => p.split === 'train');
    let validation = labelled.filter((p) => p.split === 'val');
    if (validation.length === 0) {
      // A seeded hold-out: the same cases for the same seed and files.
      const fraction = o.valFraction ?? 0.2;
      if (!(fraction >= 0 && fraction < 1)) throw new Error(`data: valFraction must be in [0, 1), got ${String(o.valFraction)}`);
      const order = new Random(this.seed, 0x2000_0000).shuffled(train.length);
      const count = train.length < 2 || fraction === 0 ? 0 : Math.max(1, Math.round(fraction * train.length));
      const held = new Set(order.slice(0, count));
      this.train = train.filter((_, k) => !held.has(k));
      // valFraction 0, or a single case: validation on the training cases (better than none at all).
      validation = count > 0 ? train.filter((_, k) => held.has(k)) : train;
    } else {
      this.train = train;
    }
    this.validation = validation;
    if (this.train.length === 0) throw new DataError([{ code: 'empty-folder', file: '.', message: 'no training pairs' }]);
    const files = labelled.map((p) => [...p.images, p.mask!].map((f) => `${f.path}:${f.size ?? '?'}`).join('|')).join('\n');
    this.fingerprint = fingerprintOf(JSON.stringify([files, this.size, this.classes, this.channels, this.normalize, o.masks ?? 'auto', this.seed, o.valFraction ?? 0.2]));
  }

  private get settings(): PrepareSettings {
    return { dims: this.dims, size: this.size, channels: this.channels, normalize: this.normalize, masks: this.options.masks ?? 'auto' };
  }

  /** Decodes and prepares one case, in a decode worker when there are any (see prepare.ts). */
  private async prepare(pair: SamplePair): Promise<Prepared> {
    const { image, labels } = this.workers ? await this.workers.prepare(pair, this.settings) : await prepareCase(pair, this.settings);
    const sampler = this.dims === 3 ? new PatchSampler(labels, [this.size, this.size, this.size]) : null;
    return { image, labels, sampler, bytes: image.data.byteLength + labels.labels.byteLength + (sampler ? 4 * labels.labels.length : 0) };
  }

  /**
   * Training case `index`, from the cache or freshly prepared (then cached, evicting the least
   * recently used). A case being prepared is not prepared twice.
   */
  private trainCase(index: number): Promise<Prepared> {
    const hit = this.cache.get(index);
    if (hit) {
      this.cache.delete(index);
      this.cache.set(index, hit);
      return Promise.resolve(hit);
    }
    let pending = this.inflight.get(index);
    if (!pending) {
      pending = this.prepareAndCache(index).finally(() => this.inflight.delete(index));
      this.inflight.set(index, pending);
    }
    return pending;
  }

  private async prepareAndCache(index: number): Promise<Prepared> {
    const prepared = await this.prepare(this.train[index]);
    if (prepared.bytes <= this.cacheBytes) {
      for (const [key, value] of this.cache) {
        if (this.cachedBytes + prepared.bytes <= this.cacheBytes) break;
        this.cache.delete(key);
        this.cachedBytes -= value.bytes;
      }
      this.cache.set(index, prepared);
      this.cachedBytes += prepared.bytes;
    }
    return prepared;
  }

  /** The training cases of step `step`'s batch: each epoch a seeded permutation of the training set. */
  batchIndices(step: number, batchSize: number): number[] {
    const n = this.train.length;
    const out: number[] = [];
    for (let k = step * batchSize; k < (step + 1) * batchSize; k++) {
      const epoch = Math.floor(k / n);
      if (this.permutationCache?.epoch !== epoch) this.permutationCache = { epoch, order: new Random(this.seed, 1000 + epoch).shuffled(n) };
      out.push(this.permutationCache.order[k % n]);
    }
    return out;
  }

  /**
   * The batch of step `step`: the same bits for the same files, options, seed and step. Its cases
   * are all asked for at once, before the first await, so decode workers start on them at the
   * call (the trainer calls it for the next step before it trains this one).
   */
  async batch(step: number, batchSize: number): Promise<Batch> {
    const indices = this.batchIndices(step, batchSize);
    const cases = indices.map((i) => this.trainCase(i));
    // If one fails, the batch rejects with it; the others' failures are the same story, not unhandled rejections.
    for (const c of cases) c.catch(() => {});
    const voxels = this.size ** this.dims;
    const images = new Float32Array(batchSize * voxels * this.channels);
    const labels = new Int32Array(batchSize * voxels);
    const random = new Random(this.seed, 0x4000_0000 + step);
    for (let b = 0; b < indices.length; b++) {
      const c = await cases[b];
      const start = c.sampler ? c.sampler.sample(random, this.positiveRatio) : [0, 0, 0];
      this.write(c, start, drawAugmentation(random, this.augment, this.dims), images, labels, b);
    }
    return { images, labels, count: batchSize };
  }

  private write(c: Prepared, start: readonly number[], draw: ReturnType<typeof drawAugmentation>, images: Float32Array, labels: Int32Array, b: number): void {
    const voxels = this.size ** this.dims;
    const dims = this.dims === 2 ? [1, ...c.image.shape] : c.image.shape;
    const box = this.dims === 2 ? [1, this.size, this.size] : [this.size, this.size, this.size];
    augmentInto(c.image.data, c.labels.labels, dims, start, box, this.channels, draw, images, b * voxels * this.channels, labels, b * voxels);
  }

  /** The validation set, prepared once: every validation image (2D) or `valPatches` fixed patches per case (3D). */
  validationSet(): Promise<Batch> {
    this.valSet ??= (async () => {
      const perCase = this.dims === 2 ? 1 : (this.options.valPatches ?? 4);
      const count = this.validation.length * perCase;
      const voxels = this.size ** this.dims;
      const images = new Float32Array(count * voxels * this.channels);
      const labels = new Int32Array(count * voxels);
      for (let v = 0; v < this.validation.length; v++) {
        const c = await this.prepare(this.validation[v]);
        const random = new Random(this.seed, 0x3000_0000 + v);
        for (let k = 0; k < perCase; k++) {
          const start = c.sampler ? c.sampler.sample(random, this.positiveRatio) : [0, 0, 0];
          this.write(c, start, drawAugmentation(random, NO_AUGMENTATION, this.dims), images, labels, v * perCase + k);
        }
      }
      return { images, labels, count };
    })();
    return this.valSet;
  }

  /**
   * Decodes in these workers from now on (Node: decodeWorkers() of segloss/data): the next
   * step's cases decode on another core while this step trains. The batches stay the same bits.
   */
  useWorkers(workers: DecodeWorkers | null): void {
    this.workers = workers;
  }

  /** Bytes of prepared cases held in the cache now. */
  get cachedMB(): number {
    return this.cachedBytes / 2 ** 20;
  }
}
