/**
 * A synthetic segmentation data set, realistic enough to train a U-Net on and made without
 * downloads: each image is a background with a smooth intensity drift, foreground objects (ellipses
 * and rectangles in 2D, ellipsoids and boxes in 3D) brighter than it by a random contrast, then
 * blurred (the label stays sharp, as a scanner's point-spread blurs an organ's edge) and noisy.
 * The foreground fraction is controlled — down to 1%, the class imbalance the study is about —
 * and everything is seeded (src/experiment/random.ts's sfc32): the same options give the same bits.
 */
import { Random } from '../experiment/random.js';

/** What syntheticSegmentation makes: image shape and count, foreground, noise, blur, drift and seed. */
export interface SyntheticOptions {
  /** [height, width] (2D) or [depth, height, width] (3D), each ≥ 4. */
  shape: readonly number[];
  /** Images to make. */
  count: number;
  /**
   * Target fraction of foreground pixels per image, in [0.005, 0.6] (default 0.1). Each image
   * lands within ±10% of it when the target is at least 50 pixels (smaller objects rasterise
   * coarsely); `SyntheticData.foreground` says where.
   */
  foreground?: number;
  /** Standard deviation of the Gaussian noise added last (default 0.08; intensities are around 0…1). */
  noise?: number;
  /** Passes of a 3-wide box blur before the noise (default 1; 0 for sharp edges). */
  blur?: number;
  /** Peak-to-peak amplitude of the background's linear intensity drift (default 0.3). */
  drift?: number;
  /** Seeds everything (default 0). */
  seed?: number;
}

/** The images and their two-class labels that syntheticSegmentation made, as flat arrays. */
export interface SyntheticData {
  /** [count, ...shape, 1], channels last, float32. */
  images: Float32Array;
  /** [count, ...shape], 0 = background, 1 = foreground. */
  labels: Int32Array;
  /** The image shape with its channel: [...shape, 1]. */
  imageShape: number[];
  /** Each image's foreground fraction. */
  foreground: number[];
}

function check(o: SyntheticOptions): Required<SyntheticOptions> {
  const fail = (what: string) => { throw new Error(`segloss synthetic data: ${what}`); };
  if (!Array.isArray(o.shape) || (o.shape.length !== 2 && o.shape.length !== 3) || !o.shape.every((d) => Number.isInteger(d) && d >= 4 && d <= 4096)) {
    fail(`shape must be [height, width] or [depth, height, width] of integers from 4 to 4096, got ${JSON.stringify(o.shape)}`);
  }
  if (!Number.isInteger(o.count) || o.count < 1) fail(`count must be a positive integer, got ${String(o.count)}`);
  const foreground = o.foreground ?? 0.1;
  if (!(foreground >= 0.005 && foreground <= 0.6)) fail(`foreground must be in [0.005, 0.6], got ${String(foreground)}`);
  const noise = o.noise ?? 0.08;
  if (!(noise >= 0 && noise <= 1)) fail(`noise must be in [0, 1], got ${String(noise)}`);
  const blur = o.blur ?? 1;
  if (!Number.isInteger(blur) || blur < 0 || blur > 8) fail(`blur must be an integer from 0 to 8, got ${String(blur)}`);
  const drift = o.drift ?? 0.3;
  if (!(drift >= 0 && drift <= 1)) fail(`drift must be in [0, 1], got ${String(drift)}`);
  const seed = o.seed ?? 0;
  if (!Number.isInteger(seed) || seed < 0 || seed > 2 ** 32 - 1) fail(`seed must be an integer from 0 to 2^32 − 1, got ${String(seed)}`);
  return { shape: o.shape, count: o.count, foreground, noise, blur, drift, seed };
}

/** A standard normal draw (Box–Muller on two 24-bit uniforms). */
function gaussian(random: Random): number {
  const u = 1 - random.nextFloat();
  const v = random.nextFloat();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** One 3-wide box blur along every axis of a [d, h, w] volume (d = 1 for 2D), edges clamped. */
function boxBlur(data: Float32Array, dims: [number, number, number], tmp: Float32Array): void {
  const [d, h, w] = dims;
  const strides = [h * w, w, 1];
  for (let axis = 0; axis < 3; axis++) {
    const size = dims[axis];
    if (size < 2) continue;
    const s = strides[axis];
    tmp.set(data);
    for (let i = 0; i < d * h * w; i++) {
      const k = Math.floor(i / s) % size;
      const prev = k > 0 ? tmp[i - s] : tmp[i];
      const next = k < size - 1 ? tmp[i + s] : tmp[i];
      data[i] = (prev + tmp[i] + next) / 3;
    }
  }
}

/** Makes the data set; see SyntheticOptions. */
export function syntheticSegmentation(options: SyntheticOptions): SyntheticData {
  const o = check(options);
  const dims: [number, number, number] = o.shape.length === 3 ? [o.shape[0], o.shape[1], o.shape[2]] : [1, o.shape[0], o.shape[1]];
  const [d, h, w] = dims;
  const pixels = d * h * w;
  const images = new Float32Array(o.count * pixels);
  const labels = new Int32Array(o.count * pixels);
  const fractions: number[] = [];
  const random = new Random(o.seed, 11);
  const image = new Float32Array(pixels);
  const tmp = new Float32Array(pixels);
  const target = o.foreground * pixels;
  for (let n = 0; n < o.count; n++) {
    const label = labels.subarray(n * pixels, (n + 1) * pixels);
    // Objects until the foreground reaches the target (overlaps make a painted count short of the sum).
    let painted = 0;
    const contrasts: number[] = [];
    const owner = new Int32Array(pixels).fill(-1);
    for (let attempt = 0; attempt < 64 && painted < 0.95 * target; attempt++) {
      const remaining = target - painted;
      // An object covering 30–100% of what is left (at least 4 pixels unless less is left), of random aspect.
      const volume = Math.max(Math.min(4, remaining), remaining * (0.3 + 0.7 * random.nextFloat()));
      const box = random.nextFloat() < 0.35;
      const aspect = [1, 0.5 + random.nextFloat(), 0.5 + random.nextFloat()];
      const k = d > 1 ? (box ? 8 : (4 / 3) * Math.PI) : (box ? 4 : Math.PI);
      const scale = d > 1 ? Math.cbrt(volume / (k * aspect[0] * aspect[1] * aspect[2])) : Math.sqrt(volume / (k * aspect[1] * aspect[2]));
      const radii = [d > 1 ? Math.max(0.5, scale * aspect[0]) : 0.5, Math.max(0.5, scale * aspect[1]), Math.max(0.5, scale * aspect[2])];
      const centre = [d > 1 ? random.nextFloat() * d : 0, random.nextFloat() * h, random.nextFloat() * w];
      const contrast = 0.25 + 0.5 * random.nextFloat();
      const id = contrasts.length;
      contrasts.push(contrast);
      const lo = radii.map((r, a) => Math.max(0, Math.floor(centre[a] - r)));
      const hi = radii.map((r, a) => Math.min(dims[a] - 1, Math.ceil(centre[a] + r)));
      for (let z = lo[0]; z <= hi[0]; z++) {
        for (let y = lo[1]; y <= hi[1]; y++) {
          for (let x = lo[2]; x <= hi[2]; x++) {
            const q = [(z + 0.5 - centre[0]) / radii[0], (y + 0.5 - centre[1]) / radii[1], (x + 0.5 - centre[2]) / radii[2]];
            if (d === 1) q[0] = 0;
            const inside = box ? Math.max(Math.abs(q[0]), Math.abs(q[1]), Math.abs(q[2])) <= 1 : q[0] * q[0] + q[1] * q[1] + q[2] * q[2] <= 1;
            if (!inside) continue;
            const i = (z * h + y) * w + x;
            if (label[i] === 0) painted++;
            label[i] = 1;
            owner[i] = id;
          }
        }
      }
    }
    fractions.push(painted / pixels);
    // Intensities: a drifting background, objects brighter by their contrast; blur; noise.
    const base = 0.2 + 0.2 * random.nextFloat();
    const slope = [gaussian(random), gaussian(random), gaussian(random)];
    const norm = Math.hypot(d > 1 ? slope[0] : 0, slope[1], slope[2]) || 1;
    for (let z = 0; z < d; z++) {
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const i = (z * h + y) * w + x;
          const t = ((d > 1 ? slope[0] * (z / d - 0.5) : 0) + slope[1] * (y / h - 0.5) + slope[2] * (x / w - 0.5)) / norm;
          image[i] = base + o.drift * t + (owner[i] >= 0 ? contrasts[owner[i]] : 0);
        }
      }
    }
    for (let pass = 0; pass < o.blur; pass++) boxBlur(image, dims, tmp);
    for (let i = 0; i < pixels; i++) images[n * pixels + i] = image[i] + o.noise * gaussian(random);
  }
  return { images, labels, imageShape: [...o.shape, 1], foreground: fractions };
}
