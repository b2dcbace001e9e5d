/**
 * Prediction overlays (issue #22): a finished U-Net run keeps a few validation images with its
 * labels and final predictions (PredictionSamples, in its completion marker); the report draws
 * them per cell as a PNG strip — each image, and beside it the same image with the prediction
 * against the labels in colour: correct foreground green, false foreground red, missed
 * foreground blue. Pure JS (fast-png), the same bytes in Node and browsers.
 */
import { encode as encodePng } from 'fast-png';
import { decodeBase64, encodeBase64 } from '../base64.js';

/** A run's validation pictures as its completion marker keeps them (2 bytes a pixel, base64). */
export interface PredictionSamples {
  /** Pictures are size × size (a volume's middle slice). */
  size: number;
  count: number;
  /** [count, size, size] grey levels, each picture stretched to 0…255. */
  image: string;
  /** [count, size, size] label | prediction << 1 (two classes). */
  codes: string;
}

/** Packs pictures (UNetTrainer.predictions / validationPictures) into PredictionSamples. */
export function packSamples(p: { images: Float32Array; labels: Int32Array; predicted: Int32Array; count: number; size: number }): PredictionSamples {
  const pixels = p.size * p.size;
  const image = new Uint8Array(p.count * pixels);
  const codes = new Uint8Array(p.count * pixels);
  for (let k = 0; k < p.count; k++) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = k * pixels; i < (k + 1) * pixels; i++) {
      lo = Math.min(lo, p.images[i]);
      hi = Math.max(hi, p.images[i]);
    }
    const scale = hi > lo ? 255 / (hi - lo) : 0;
    for (let i = k * pixels; i < (k + 1) * pixels; i++) {
      image[i] = Math.round((p.images[i] - lo) * scale);
      codes[i] = (p.labels[i] > 0 ? 1 : 0) | (p.predicted[i] > 0 ? 2 : 0);
    }
  }
  return { size: p.size, count: p.count, image: encodeBase64(image), codes: encodeBase64(codes) };
}

/** Whether `value` is PredictionSamples whose arrays have their sizes (a marker may be of an older segloss, or edited). */
export function validSamples(value: unknown): value is PredictionSamples {
  const s = value as PredictionSamples;
  if (!s || typeof s !== 'object' || !Number.isInteger(s.size) || !Number.isInteger(s.count) || s.size < 1 || s.count < 1) return false;
  if (typeof s.image !== 'string' || typeof s.codes !== 'string') return false;
  const bytes = s.count * s.size * s.size;
  return Math.floor(s.image.length * 3 / 4) >= bytes && Math.floor(s.codes.length * 3 / 4) >= bytes;
}

const COLOURS: Record<number, [number, number, number] | null> = {
  0: null, // background, predicted background: the image as it is
  1: [40, 110, 255], // foreground missed
  2: [230, 40, 40], // background predicted foreground
  3: [40, 200, 70], // foreground found
};
const GAP = 4;

/** The overlay strip as PNG bytes: per picture, the image, then the image with the prediction in colour; scaled to at least 96 px. */
export function overlayPng(samples: PredictionSamples): Uint8Array {
  const { size, count } = samples;
  const image = decodeBase64(samples.image);
  const codes = decodeBase64(samples.codes);
  const zoom = Math.max(1, Math.ceil(96 / size));
  const side = size * zoom;
  const width = count * (2 * side + GAP) + (count - 1) * 2 * GAP;
  const data = new Uint8Array(width * side * 3).fill(255);
  for (let k = 0; k < count; k++) {
    const left = k * (2 * side + 3 * GAP);
    for (let y = 0; y < side; y++) {
      for (let x = 0; x < side; x++) {
        const i = k * size * size + Math.floor(y / zoom) * size + Math.floor(x / zoom);
        const grey = image[i];
        const plain = (y * width + left + x) * 3;
        data.fill(grey, plain, plain + 3);
        const colour = COLOURS[codes[i] & 3];
        const tinted = (y * width + left + side + GAP + x) * 3;
        for (let c = 0; c < 3; c++) data[tinted + c] = colour ? Math.round(0.45 * grey + 0.55 * colour[c]) : grey;
      }
    }
  }
  return encodePng({ width, height: side, data, channels: 3, depth: 8 });
}
