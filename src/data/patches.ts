/**
 * Patches of volumes (and of 2D images, with the same code): fitting a whole volume to a size, and
 * drawing the class-balanced training patches that make 3D segmentation of small structures work.
 *
 * - `padOrCrop` is MONAI's SpatialPad (symmetric, the odd voxel at the end) followed by its
 *   CenterSpatialCrop (start = ⌊shape/2⌋ − ⌊size/2⌋), per axis. Images are padded with each
 *   channel's own minimum (a CT's air, an MRI's empty space; MONAI's default 0 is water in a CT
 *   and mid-grey after z-scoring), labels with 0 (background).
 * - `PatchSampler` is MONAI's RandCropByPosNegLabel: with probability `positiveRatio` the patch is
 *   centred on a random foreground voxel (label > 0), otherwise on a random background voxel, and
 *   the centre is then moved just enough for the patch to lie inside the volume. Without this,
 *   a 64³ patch of an abdominal CT rarely holds any of a small organ, and the loss learns
 *   "background everywhere". The voxel lists are built once per label volume, as MONAI caches
 *   fg_indices / bg_indices: 4 bytes per voxel.
 * - `extractPatch` copies a patch into a batch buffer the caller allocated once, row by row.
 *
 * Shapes are [depth, height, width] or [height, width], channels last. Random draws come from the
 * caller's seeded Random, so the same state gives the same patches, bit for bit.
 */
import type { Random } from '../experiment/random.js';
import type { DecodedImage, DecodedLabels } from './types.js';

/**
 * `image` and `labels` brought to `size` ([d, h, w] or [h, w], the image's rank): per axis, a
 * centre crop where the volume is larger, a symmetric pad (the extra voxel at the end) where it is
 * smaller. Other fields of the image (its type, a NIfTI spacing) are kept.
 */
export function padOrCrop<I extends DecodedImage>(image: I, labels: DecodedLabels, size: readonly number[]): { image: I; labels: DecodedLabels };
export function padOrCrop<I extends DecodedImage>(image: I, labels: null, size: readonly number[]): { image: I; labels: null };
export function padOrCrop<I extends DecodedImage>(image: I, labels: DecodedLabels | null, size: readonly number[]): { image: I; labels: DecodedLabels | null };
export function padOrCrop<I extends DecodedImage>(image: I, labels: DecodedLabels | null, size: readonly number[]): { image: I; labels: DecodedLabels | null } {
  const rank = image.shape.length;
  if (rank !== 2 && rank !== 3) throw new RangeError(`padOrCrop: shape [${image.shape}] is neither [h, w] nor [d, h, w]`);
  checkSize('padOrCrop', size, rank);
  if (labels && labels.shape.join() !== image.shape.join()) {
    throw new RangeError(`padOrCrop: labels [${labels.shape}] and image [${image.shape}] differ in shape`);
  }
  const from = as3d(image.shape);
  const to = as3d(size);
  const fromStart = [0, 0, 0];
  const toStart = [0, 0, 0];
  const extent = [0, 0, 0];
  let pads = false;
  for (let a = 0; a < 3; a++) {
    if (from[a] > to[a]) {
      fromStart[a] = (from[a] >> 1) - (to[a] >> 1);
      extent[a] = to[a];
    } else {
      toStart[a] = (to[a] - from[a]) >> 1;
      extent[a] = from[a];
      pads ||= from[a] < to[a];
    }
  }
  const C = image.channels;
  const voxels = to[0] * to[1] * to[2];
  const data = new Float32Array(voxels * C);
  if (pads) {
    const minimum = channelMinima(image.data, C);
    for (let c = 0; c < C; c++) for (let i = c; i < data.length; i += C) data[i] = minimum[c];
  }
  copyBox(image.data, from, fromStart, data, to, toStart, extent, C);
  const paddedImage = { ...image, shape: [...size], data };
  if (!labels) return { image: paddedImage, labels: null };
  const out = new Uint8Array(voxels);
  copyBox(labels.labels, from, fromStart, out, to, toStart, extent, 1);
  return { image: paddedImage, labels: { ...labels, shape: [...size], labels: out } };
}

/**
 * Pads (never crops) `image` and `labels` so that every axis is at least `patch`: what PatchSampler
 * and extractPatch need of a volume smaller than the patch. Returns the inputs themselves when no
 * axis is smaller.
 */
export function padToAtLeast<I extends DecodedImage>(image: I, labels: DecodedLabels, patch: readonly number[]): { image: I; labels: DecodedLabels } {
  checkSize('padToAtLeast', patch, image.shape.length);
  if (image.shape.every((n, a) => n >= patch[a])) return { image, labels };
  return padOrCrop(image, labels, image.shape.map((n, a) => Math.max(n, patch[a])));
}

/** Class-balanced patch positions for one label volume (see the module's header). */
export class PatchSampler {
  /** Flat indices (row-major over the shape) of the voxels with label > 0, ascending. */
  readonly foreground: Uint32Array;
  /** Flat indices of the voxels with label 0, ascending. */
  readonly background: Uint32Array;
  private readonly shape: number[];
  private readonly patch: number[];

  constructor(labels: DecodedLabels, patch: readonly number[]) {
    const rank = labels.shape.length;
    if (rank !== 2 && rank !== 3) throw new RangeError(`PatchSampler: shape [${labels.shape}] is neither [h, w] nor [d, h, w]`);
    checkSize('PatchSampler', patch, rank);
    const values = labels.labels;
    const voxels = labels.shape.reduce((a, b) => a * b, 1);
    if (values.length !== voxels) throw new RangeError(`PatchSampler: ${values.length} labels for shape [${labels.shape}]`);
    if (voxels === 0) throw new RangeError(`PatchSampler: the label volume [${labels.shape}] has no voxels`);
    let count = 0;
    for (let i = 0; i < voxels; i++) if (values[i] > 0) count++;
    this.foreground = new Uint32Array(count);
    this.background = new Uint32Array(voxels - count);
    for (let i = 0, f = 0, b = 0; i < voxels; i++) {
      if (values[i] > 0) this.foreground[f++] = i;
      else this.background[b++] = i;
    }
    this.shape = [...labels.shape];
    this.patch = [...patch];
  }

  /**
   * The start corner ([z0, y0, x0] or [y0, x0]) of a patch centred on a foreground voxel with
   * probability `positiveRatio` (MONAI's pos / (pos + neg)), else on a background voxel. With no
   * voxel of the wanted kind it takes the other kind, as MONAI does. The centre then moves just
   * enough for the patch to fit: start = clamp(centre − ⌊patch/2⌋, 0, shape − patch); on an axis
   * shorter than the patch the start is 0 (pad first: padToAtLeast). Always three draws from `random`.
   */
  sample(random: Random, positiveRatio: number): number[] {
    if (!(positiveRatio >= 0 && positiveRatio <= 1)) throw new RangeError(`PatchSampler: positiveRatio ${positiveRatio} is not in [0, 1]`);
    // Drawn even when one list is empty, so that a volume's draws do not depend on its content.
    const wantForeground = random.nextFloat() < positiveRatio;
    const list = (wantForeground && this.foreground.length > 0) || this.background.length === 0 ? this.foreground : this.background;
    let rest = list[randomBelow(random, list.length)];
    const start = new Array<number>(this.shape.length);
    for (let a = this.shape.length - 1; a >= 0; a--) {
      const n = this.shape[a];
      const centre = rest % n;
      rest = (rest - centre) / n;
      const p = this.patch[a];
      start[a] = n >= p ? Math.min(Math.max(centre - (p >> 1), 0), n - p) : 0;
    }
    return start;
  }
}

/**
 * Copies the patch of `size` at `start` from `image` and `labels` into slot `slot` of batch
 * buffers [batch, ...size, channels] and [batch, ...size]. The patch must lie inside the volume
 * (PatchSampler's starts do once the volume is at least the patch size: padToAtLeast). Nothing is
 * allocated but one subarray view per row: row copies with `set` (a memcpy) beat an element loop.
 */
export function extractPatch(
  image: DecodedImage,
  labels: DecodedLabels,
  start: readonly number[],
  size: readonly number[],
  outImage: Float32Array,
  outLabels: Uint8Array | Int32Array,
  slot = 0,
): void {
  const shape = image.shape;
  const rank = shape.length;
  if ((rank !== 2 && rank !== 3) || start.length !== rank || size.length !== rank || labels.shape.length !== rank) {
    throw new RangeError(`extractPatch: image [${shape}], labels [${labels.shape}], start [${start}] and size [${size}] must all be [d, h, w] or [h, w]`);
  }
  let voxels = 1;
  for (let a = 0; a < rank; a++) {
    if (labels.shape[a] !== shape[a]) throw new RangeError(`extractPatch: labels [${labels.shape}] and image [${shape}] differ in shape`);
    if (!(start[a] >= 0 && size[a] >= 1 && start[a] + size[a] <= shape[a])) {
      throw new RangeError(`extractPatch: a patch of [${size}] at [${start}] does not fit in [${shape}] (pad first: padToAtLeast)`);
    }
    voxels *= size[a];
  }
  const C = image.channels;
  if ((slot + 1) * voxels * C > outImage.length || (slot + 1) * voxels > outLabels.length) {
    throw new RangeError(`extractPatch: slot ${slot} of [${size}] × ${C} does not fit buffers of ${outImage.length} values and ${outLabels.length} labels`);
  }
  // Rank 2 is depth 1; spelled out per axis so that the hot path builds no arrays.
  const d = rank === 3 ? 1 : 0;
  const H = shape[d];
  const W = shape[d + 1];
  const z0 = d ? start[0] : 0;
  const y0 = start[d];
  const x0 = start[d + 1];
  const pd = d ? size[0] : 1;
  const ph = size[d];
  const pw = size[d + 1];
  let imageAt = slot * voxels * C;
  let labelsAt = slot * voxels;
  for (let z = z0; z < z0 + pd; z++) {
    for (let y = y0; y < y0 + ph; y++) {
      const row = (z * H + y) * W + x0;
      outImage.set(image.data.subarray(row * C, (row + pw) * C), imageAt);
      outLabels.set(labels.labels.subarray(row, row + pw), labelsAt);
      imageAt += pw * C;
      labelsAt += pw;
    }
  }
}

/** A uniform integer in [0, n) from 53 random bits: 32 would bias indices by up to n / 2^32 (2% for a 512² × 300 CT). */
function randomBelow(random: Random, n: number): number {
  const high = random.nextUint32() >>> 5; // 27 bits
  const low = random.nextUint32() >>> 6; // 26 bits
  // (high · 2^26 + low) / 2^53 < 1, and the product with n < 2^32 cannot round up to n.
  return Math.floor(((high * 67108864 + low) / 9007199254740992) * n);
}

function checkSize(where: string, size: readonly number[], rank: number): void {
  if (size.length !== rank || !size.every((n) => Number.isInteger(n) && n >= 1)) {
    throw new RangeError(`${where}: size [${size}] must be ${rank} positive integers`);
  }
}

function as3d(shape: readonly number[]): number[] {
  return shape.length === 2 ? [1, shape[0], shape[1]] : [...shape];
}

function channelMinima(data: Float32Array, channels: number): Float32Array {
  const minimum = new Float32Array(channels).fill(Infinity);
  for (let i = 0; i < data.length; i++) {
    const c = i % channels;
    if (data[i] < minimum[c]) minimum[c] = data[i];
  }
  // A channel with no voxel (or only NaN) has no minimum: pad it with 0.
  for (let c = 0; c < channels; c++) if (minimum[c] === Infinity) minimum[c] = 0;
  return minimum;
}

/** Copies a box of `extent` voxels × `channels` between two row-major volumes, one row at a time. */
function copyBox(
  src: Float32Array | Uint8Array,
  srcShape: number[],
  srcStart: number[],
  dst: Float32Array | Uint8Array,
  dstShape: number[],
  dstStart: number[],
  extent: number[],
  channels: number,
): void {
  const row = extent[2] * channels;
  for (let z = 0; z < extent[0]; z++) {
    for (let y = 0; y < extent[1]; y++) {
      const s = (((srcStart[0] + z) * srcShape[1] + srcStart[1] + y) * srcShape[2] + srcStart[2]) * channels;
      const d = (((dstStart[0] + z) * dstShape[1] + dstStart[1] + y) * dstShape[2] + dstStart[2]) * channels;
      dst.set(src.subarray(s, s + row), d);
    }
  }
}
