/**
 * Preprocessing and augmentation, named as MONAI and albumentations name them: resize (2D:
 * bilinear for images, nearest for masks, half-pixel centres as tf.image.resizeBilinear and PIL),
 * intensity normalisation (min–max, z-score per image, or a fixed window such as CT's
 * [−1000, 1000]), and the random flips, 90° rotations and intensity jitter of training batches.
 *
 * Everything is plain float64 arithmetic (+, ×, floor, sqrt: exactly rounded in IEEE 754) on
 * seeded draws (src/experiment/random.ts), so a batch is the same bits in Node and in Chromium,
 * in any worker.
 */
import type { Random } from '../experiment/random.js';
import type { DecodedImage, DecodedLabels } from './types.js';

/** How intensities are scaled before training. */
export type Normalization =
  | 'minmax' // per image to [0, 1] (MONAI's ScaleIntensity)
  | 'zscore' // per image to mean 0, standard deviation 1 (MONAI's NormalizeIntensity, nnU-Net's default for MRI)
  | 'none'
  | { window: [number, number] }; // clip to [lo, hi], then to [0, 1] (CT: [−1000, 1000]; MONAI's ScaleIntensityRange with clip)

/** The random augmentations drawn per training sample (none by default: NO_AUGMENTATION). */
export interface Augmentation {
  /** Random flips along each spatial axis (MONAI's RandFlip, albumentations' HorizontalFlip / VerticalFlip). */
  flip: boolean;
  /** Random rotations by 0, 90, 180 or 270° in the height–width plane (RandRotate90). */
  rotate90: boolean;
  /** Scale by 1 + U(−a, a) and shift by U(−a, a) after normalisation (RandScaleIntensity + RandShiftIntensity); 0 for none. */
  intensity: number;
}

export const NO_AUGMENTATION: Augmentation = { flip: false, rotate90: false, intensity: 0 };

/** Checks a normalisation option; throws naming what is wrong. */
export function checkNormalization(n: unknown): Normalization {
  if (n === 'minmax' || n === 'zscore' || n === 'none') return n;
  const w = (n as { window?: unknown })?.window;
  if (Array.isArray(w) && w.length === 2 && w.every((v) => Number.isFinite(v)) && w[0] < w[1]) return { window: [w[0], w[1]] };
  throw new Error(`normalize must be 'minmax', 'zscore', 'none' or { window: [lo, hi] } with lo < hi, got ${JSON.stringify(n)}`);
}

/** Normalises `data` in place over all its values (every channel together, as MONAI does by default). */
export function normalizeInPlace(data: Float32Array, how: Normalization): void {
  if (how === 'none' || data.length === 0) return;
  if (typeof how === 'object') {
    const [lo, hi] = how.window;
    for (let i = 0; i < data.length; i++) data[i] = (Math.min(Math.max(data[i], lo), hi) - lo) / (hi - lo);
    return;
  }
  if (how === 'minmax') {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < data.length; i++) {
      if (data[i] < lo) lo = data[i];
      if (data[i] > hi) hi = data[i];
    }
    const range = hi - lo;
    for (let i = 0; i < data.length; i++) data[i] = range > 0 ? (data[i] - lo) / range : 0;
    return;
  }
  let sum = 0;
  for (let i = 0; i < data.length; i++) sum += data[i];
  const mean = sum / data.length;
  let squares = 0;
  for (let i = 0; i < data.length; i++) squares += (data[i] - mean) * (data[i] - mean);
  const std = Math.sqrt(squares / data.length);
  for (let i = 0; i < data.length; i++) data[i] = std > 0 ? (data[i] - mean) / std : 0;
}

/** Grey ↔ RGB: grey repeated into three channels, RGB to grey by ITU-R BT.601 luma (PIL's convert('L')). */
export function toChannels(image: DecodedImage, channels: number): DecodedImage {
  if (image.channels === channels) return image;
  const pixels = image.data.length / image.channels;
  const data = new Float32Array(pixels * channels);
  if (image.channels === 1) {
    for (let i = 0; i < pixels; i++) for (let c = 0; c < channels; c++) data[i * channels + c] = image.data[i];
  } else if (image.channels === 3 && channels === 1) {
    for (let i = 0; i < pixels; i++) data[i] = 0.299 * image.data[3 * i] + 0.587 * image.data[3 * i + 1] + 0.114 * image.data[3 * i + 2];
  } else {
    throw new Error(`cannot turn ${image.channels} channels into ${channels}`);
  }
  return { ...image, channels, data };
}

/** Bilinear resize of a 2D image to size × size (half-pixel centres, edges clamped). */
export function resizeImage(image: DecodedImage, height: number, width: number): DecodedImage {
  const [h, w] = image.shape;
  const c = image.channels;
  if (h === height && w === width) return image;
  const out = new Float32Array(height * width * c);
  const sy = h / height;
  const sx = w / width;
  for (let y = 0; y < height; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), h - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, h - 1);
    const ty = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), w - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, w - 1);
      const tx = fx - x0;
      for (let k = 0; k < c; k++) {
        const a = image.data[(y0 * w + x0) * c + k];
        const b = image.data[(y0 * w + x1) * c + k];
        const d = image.data[(y1 * w + x0) * c + k];
        const e = image.data[(y1 * w + x1) * c + k];
        out[(y * width + x) * c + k] = (a * (1 - tx) + b * tx) * (1 - ty) + (d * (1 - tx) + e * tx) * ty;
      }
    }
  }
  return { ...image, shape: [height, width], data: out };
}

/** Nearest-neighbour resize of a 2D label map (classes stay classes). */
export function resizeLabels(labels: DecodedLabels, height: number, width: number): DecodedLabels {
  const [h, w] = labels.shape;
  if (h === height && w === width) return labels;
  const out = new Uint8Array(height * width);
  for (let y = 0; y < height; y++) {
    const sy = Math.min(Math.floor(((y + 0.5) * h) / height), h - 1);
    for (let x = 0; x < width; x++) out[y * width + x] = labels.labels[sy * w + Math.min(Math.floor(((x + 0.5) * w) / width), w - 1)];
  }
  return { ...labels, shape: [height, width], labels: out };
}

/** One sample's random augmentation, drawn in a fixed order whatever is enabled (so enabling one does not shift the others' draws). */
export interface AugmentDraw {
  flips: [boolean, boolean, boolean]; // z, y, x
  quarterTurns: number;
  scale: number;
  shift: number;
}

export function drawAugmentation(random: Random, a: Augmentation, dims: 2 | 3): AugmentDraw {
  const f = [random.nextFloat(), random.nextFloat(), random.nextFloat()];
  const r = random.nextFloat();
  const s = random.nextFloat();
  const o = random.nextFloat();
  return {
    flips: [a.flip && dims === 3 && f[0] < 0.5, a.flip && f[1] < 0.5, a.flip && f[2] < 0.5],
    quarterTurns: a.rotate90 ? Math.floor(r * 4) : 0,
    scale: 1 + a.intensity * (2 * s - 1),
    shift: a.intensity * (2 * o - 1),
  };
}

/**
 * Writes an augmented copy of the box at `start` of size `box` ([d, h, w]; h = w when rotating) of
 * a [D, H, W, c] sample (2D: D = d = 1) into the outputs at `imageOffset` / `labelsOffset` (in
 * values / pixels): out(z, y, x) = in(start + the flipped and rotated (z, y, x)).
 */
export function augmentInto(
  image: Float32Array, labels: Uint8Array, dims: readonly number[], start: readonly number[], box: readonly number[],
  channels: number, draw: AugmentDraw, imageOut: Float32Array, imageOffset: number, labelsOut: Int32Array, labelsOffset: number,
): void {
  const [, H, W] = dims;
  const [z0, y0, x0] = start;
  const [d, h, w] = box;
  const turns = h === w ? draw.quarterTurns : 0;
  const [fz, fy, fx] = draw.flips;
  for (let z = 0; z < d; z++) {
    const sz = z0 + (fz ? d - 1 - z : z);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        // Flip the output coordinate, then turn it back to the source's (counter-clockwise quarter turns).
        const yy = fy ? h - 1 - y : y;
        const xx = fx ? w - 1 - x : x;
        let sy = yy;
        let sx = xx;
        if (turns === 1) { sy = xx; sx = w - 1 - yy; } else if (turns === 2) { sy = h - 1 - yy; sx = w - 1 - xx; } else if (turns === 3) { sy = h - 1 - xx; sx = yy; }
        const src = (sz * H + y0 + sy) * W + x0 + sx;
        const dst = (z * h + y) * w + x;
        labelsOut[labelsOffset + dst] = labels[src];
        for (let c = 0; c < channels; c++) imageOut[imageOffset + dst * channels + c] = image[src * channels + c] * draw.scale + draw.shift;
      }
    }
  }
}
