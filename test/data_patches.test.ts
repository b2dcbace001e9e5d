/**
 * segloss/data's patches (src/data/patches.ts): padOrCrop against a per-voxel reference with
 * offsets worked out by hand from MONAI's SpatialPad / CenterSpatialCrop rules; PatchSampler's
 * positive ratio, fallbacks, placement and determinism; extractPatch against a per-voxel copy.
 */
import { describe, expect, it } from 'vitest';
import { Random } from '../src/experiment/random.js';
import { PatchSampler, extractPatch, padOrCrop, padToAtLeast } from '../src/data/patches.js';
import type { DecodedImage, DecodedLabels } from '../src/data/types.js';
import { expectClose } from './helpers/assert.js';

const EXACT = { abs: 0, rel: 0 };

/** A volume whose every value differs (channel c of voxel i is i·C + c + 1, channel 1 negative). */
function makeImage(shape: number[], channels: number): DecodedImage {
  const voxels = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(voxels * channels);
  for (let i = 0; i < data.length; i++) data[i] = (i % channels === 1 ? -1 : 1) * (i + 1);
  return { shape, channels, data, type: 'test' };
}

function makeLabels(shape: number[], label: (i: number) => number): DecodedLabels {
  const voxels = shape.reduce((a, b) => a * b, 1);
  return { shape, labels: Uint8Array.from({ length: voxels }, (_, i) => label(i)), type: 'test' };
}

const labelAt = (labels: DecodedLabels, p: number[]) => labels.labels[p.reduce((i, v, a) => i * labels.shape[a] + v, 0)];

/**
 * padOrCrop's per-axis rule as [input, output, offset]: output voxel i shows input voxel i + offset
 * (padding where that is outside). Worked out by hand: crop start ⌊in/2⌋ − ⌊out/2⌋; pad before
 * ⌊(out − in)/2⌋, the odd voxel after.
 */
const AXIS_CASES: [number, number, number][] = [
  [5, 5, 0],
  [5, 3, 1], // crop odd → odd: 2 − 1
  [6, 3, 2], // crop even → odd: 3 − 1 (the odd voxel goes before, as MONAI's centre does)
  [7, 4, 1], // crop odd → even: 3 − 2
  [6, 4, 1], // crop even → even: 3 − 2
  [5, 6, 0], // pad 1: 0 before, 1 after
  [4, 6, -1], // pad 2: 1 and 1
  [6, 9, -1], // pad 3: 1 before, 2 after
  [5, 8, -1],
  [3, 8, -2], // pad 5: 2 before, 3 after
];

/** The per-voxel reference: what padOrCrop should give, from the offsets table. */
function reference(image: DecodedImage, labels: DecodedLabels, size: number[], offsets: number[]): { data: Float32Array; labels: Uint8Array } {
  const C = image.channels;
  const minimum = Array.from({ length: C }, (_, c) => Math.min(...image.data.filter((_, i) => i % C === c)));
  const rank = size.length;
  const voxels = size.reduce((a, b) => a * b, 1);
  const data = new Float32Array(voxels * C);
  const out = new Uint8Array(voxels);
  for (let o = 0; o < voxels; o++) {
    const p: number[] = [];
    for (let a = rank - 1, rest = o; a >= 0; a--) {
      p[a] = rest % size[a] + offsets[a];
      rest = Math.floor(rest / size[a]);
    }
    const inside = p.every((v, a) => v >= 0 && v < image.shape[a]);
    const i = p.reduce((acc, v, a) => acc * image.shape[a] + v, 0);
    for (let c = 0; c < C; c++) data[o * C + c] = inside ? image.data[i * C + c] : minimum[c];
    out[o] = inside ? labels.labels[i] : 0;
  }
  return { data, labels: out };
}

describe('padOrCrop', () => {
  for (const [n, m, offset] of AXIS_CASES) {
    it(`${n} → ${m} on each axis of a 3D volume (offset ${offset}), and of a 2D image`, () => {
      for (let axis = 0; axis < 3; axis++) {
        const shape = [4, 5, 3];
        const size = [4, 5, 3];
        shape[axis] = n;
        size[axis] = m;
        const offsets = [0, 0, 0];
        offsets[axis] = offset;
        const image = makeImage(shape, 2);
        const labels = makeLabels(shape, (i) => 1 + (i % 7));
        const out = padOrCrop(image, labels, size);
        const want = reference(image, labels, size, offsets);
        expect(out.image.shape).toEqual(size);
        expect(out.labels.shape).toEqual(size);
        expectClose(out.image.data, want.data, EXACT, `[${shape}] → [${size}] image`);
        expectClose(out.labels.labels, want.labels, EXACT, `[${shape}] → [${size}] labels`);
      }
      for (let axis = 0; axis < 2; axis++) {
        const shape = [4, 6];
        const size = [4, 6];
        shape[axis] = n;
        size[axis] = m;
        const offsets = [0, 0];
        offsets[axis] = offset;
        const image = makeImage(shape, 1);
        const labels = makeLabels(shape, (i) => i % 3);
        const out = padOrCrop(image, labels, size);
        const want = reference(image, labels, size, offsets);
        expectClose(out.image.data, want.data, EXACT, `2D [${shape}] → [${size}] image`);
        expectClose(out.labels.labels, want.labels, EXACT, `2D [${shape}] → [${size}] labels`);
      }
    });
  }

  it('pads and crops on different axes at once, each channel with its own minimum, labels with 0', () => {
    const image = makeImage([6, 3, 7], 3);
    const labels = makeLabels([6, 3, 7], () => 2);
    const out = padOrCrop(image, labels, [3, 8, 4]);
    expectClose(out.image.data, reference(image, labels, [3, 8, 4], [2, -2, 1]).data, EXACT, 'image');
    // Channel 1 is negative (minimum −(last index)), channels 0 and 2 positive (minimum 1 and 3).
    expect([...out.image.data.subarray(0, 3)]).toEqual([1, -(6 * 3 * 7 * 3 - 1), 3]);
    expect(out.labels.labels.filter((v) => v === 0).length).toBe(3 * (8 - 3) * 4);
    expect(out.labels.labels.filter((v) => v === 2).length).toBe(3 * 3 * 4);
  });

  it('keeps the image\'s other fields, leaves the inputs alone, and takes null labels', () => {
    const image = { ...makeImage([2, 3, 4], 1), spacing: [3, 1, 1] as [number, number, number], version: 1 as const };
    const before = image.data.slice();
    const out = padOrCrop(image, null, [4, 3, 2]);
    expect(out.labels).toBeNull();
    expect(out.image.spacing).toEqual([3, 1, 1]);
    expect(out.image.type).toBe('test');
    expect(image.shape).toEqual([2, 3, 4]);
    expectClose(image.data, before, EXACT, 'input untouched');
  });

  it('rejects sizes of the wrong rank or not positive integers, and labels of another shape', () => {
    const image = makeImage([2, 3, 4], 1);
    expect(() => padOrCrop(image, null, [3, 4])).toThrow(/size \[3,4\] must be 3 positive integers/);
    expect(() => padOrCrop(image, null, [2, 0, 4])).toThrow(/must be 3 positive integers/);
    expect(() => padOrCrop(image, makeLabels([2, 4, 3], () => 0), [2, 3, 4])).toThrow(/labels \[2,4,3\] and image \[2,3,4\] differ in shape/);
  });

  it('padToAtLeast pads only the axes shorter than the patch, and returns the inputs when none is', () => {
    const image = makeImage([3, 10, 5], 1);
    const labels = makeLabels([3, 10, 5], (i) => i % 2);
    const same = padToAtLeast(image, labels, [3, 8, 5]);
    expect(same.image).toBe(image);
    expect(same.labels).toBe(labels);
    const padded = padToAtLeast(image, labels, [4, 8, 8]);
    expect(padded.image.shape).toEqual([4, 10, 8]);
    expectClose(padded.image.data, reference(image, labels, [4, 10, 8], [0, 0, -1]).data, EXACT, 'padded');
  });
});

describe('PatchSampler', () => {
  const SHAPE = [20, 18, 16];
  const index = (z: number, y: number, x: number) => (z * SHAPE[1] + y) * SHAPE[2] + x;
  /** Foreground: a 2 × 2 × 2 blob at (3..4, 12..13, 5..6), 8 of 5,760 voxels. */
  const blob = makeLabels(SHAPE, (i) => {
    const x = i % 16;
    const y = Math.floor(i / 16) % 18;
    const z = Math.floor(i / (16 * 18));
    return z >= 3 && z <= 4 && y >= 12 && y <= 13 && x >= 5 && x <= 6 ? 1 : 0;
  });

  it('lists foreground and background voxels once each, ascending', () => {
    const labels = makeLabels([3, 4], (i) => [0, 2, 0, 0, 1, 1, 0, 0, 0, 0, 3, 0][i]);
    const sampler = new PatchSampler(labels, [1, 1]);
    expect([...sampler.foreground]).toEqual([1, 4, 5, 10]);
    expect([...sampler.background]).toEqual([0, 2, 3, 6, 7, 8, 9, 11]);
  });

  it('with ratio 1, every patch holds foreground and lies inside the volume', () => {
    const patch = [8, 6, 10];
    const sampler = new PatchSampler(blob, patch);
    const random = new Random(11, 0);
    for (let k = 0; k < 500; k++) {
      const [z0, y0, x0] = sampler.sample(random, 1);
      for (let a = 0; a < 3; a++) {
        const start = [z0, y0, x0][a];
        expect(start >= 0 && start + patch[a] <= SHAPE[a], `draw ${k}: start [${z0},${y0},${x0}] axis ${a}`).toBe(true);
      }
      let foreground = 0;
      for (let z = z0; z < z0 + patch[0]; z++) for (let y = y0; y < y0 + patch[1]; y++) for (let x = x0; x < x0 + patch[2]; x++) foreground += blob.labels[index(z, y, x)];
      expect(foreground, `draw ${k}: patch at [${z0},${y0},${x0}]`).toBeGreaterThan(0);
    }
  });

  // With a 1-voxel patch the start is the centre itself.
  it('with ratio 0, every centre is background, even where background is rare', () => {
    const mostlyForeground = makeLabels(SHAPE, (i) => (i % 10 === 0 ? 0 : 1));
    const sampler = new PatchSampler(mostlyForeground, [1, 1, 1]);
    const random = new Random(12, 0);
    for (let k = 0; k < 500; k++) {
      const centre = sampler.sample(random, 0);
      expect(labelAt(mostlyForeground, centre), `draw ${k}: centre [${centre}]`).toBe(0);
    }
  });

  it('at ratio 0.5, half the centres are foreground (2,000 draws), where uniform sampling would give 0.14%', () => {
    const sampler = new PatchSampler(blob, [1, 1, 1]);
    const random = new Random(13, 0);
    let foreground = 0;
    for (let k = 0; k < 2000; k++) foreground += labelAt(blob, sampler.sample(random, 0.5));
    // Binomial standard deviation √(2000 · 0.25) ≈ 22 draws, 1.1%: ±3.5% is over 3 sigma.
    expect(Math.abs(foreground / 2000 - 0.5)).toBeLessThan(0.035);
    let quarter = 0;
    for (let k = 0; k < 2000; k++) quarter += labelAt(blob, sampler.sample(random, 0.25));
    expect(Math.abs(quarter / 2000 - 0.25)).toBeLessThan(0.035);
  });

  it('draws every voxel of the chosen kind equally often', () => {
    const sampler = new PatchSampler(blob, [1, 1, 1]);
    const random = new Random(14, 0);
    const counts = new Map<number, number>();
    for (let k = 0; k < 8000; k++) {
      const [z, y, x] = sampler.sample(random, 1);
      counts.set(index(z, y, x), (counts.get(index(z, y, x)) ?? 0) + 1);
    }
    expect([...counts.keys()].sort((a, b) => a - b)).toEqual([...sampler.foreground]);
    // 1,000 expected each, standard deviation ≈ 30.
    for (const [voxel, count] of counts) expect(Math.abs(count - 1000), `voxel ${voxel}: ${count} draws`).toBeLessThan(120);
  });

  it('reaches the whole of a long list, evenly (20,000 draws over 90,000 voxels)', () => {
    const sampler = new PatchSampler(makeLabels([300, 300], () => 0), [1, 1]);
    const random = new Random(16, 0);
    const seen = new Set<number>();
    const tenths = new Array(10).fill(0);
    for (let k = 0; k < 20000; k++) {
      const [y, x] = sampler.sample(random, 0);
      seen.add(y * 300 + x);
      tenths[Math.floor(y / 30)]++;
    }
    // Distinct voxels expected: 90,000 · (1 − e^(−20,000 / 90,000)) ≈ 17,990.
    expect(seen.size).toBeGreaterThan(17500);
    // 2,000 expected per tenth, standard deviation ≈ 42.
    for (const [t, count] of tenths.entries()) expect(Math.abs(count - 2000), `rows ${30 * t}–${30 * t + 29}: ${count} draws`).toBeLessThan(180);
  });

  it('falls back to background without foreground, and to foreground without background', () => {
    const empty = new PatchSampler(makeLabels(SHAPE, () => 0), [4, 4, 4]);
    const full = new PatchSampler(makeLabels(SHAPE, () => 3), [4, 4, 4]);
    expect(empty.foreground.length).toBe(0);
    expect(full.background.length).toBe(0);
    const random = new Random(15, 0);
    for (let k = 0; k < 100; k++) {
      for (const start of [empty.sample(random, 1), full.sample(random, 0), empty.sample(random, 0.5)]) {
        expect(start.every((v, a) => v >= 0 && v + 4 <= SHAPE[a]), `start [${start}]`).toBe(true);
      }
    }
  });

  it('moves the centre just enough for the patch to fit: start = clamp(centre − ⌊patch/2⌋, 0, shape − patch)', () => {
    const single = (z: number, y: number, x: number) => makeLabels(SHAPE, (i) => (i === index(z, y, x) ? 1 : 0));
    const startFor = (voxel: [number, number, number], patch: number[]) => new PatchSampler(single(...voxel), patch).sample(new Random(1, 0), 1);
    expect(startFor([0, 0, 0], [8, 8, 8])).toEqual([0, 0, 0]);
    expect(startFor([19, 17, 15], [8, 8, 8])).toEqual([12, 10, 8]);
    expect(startFor([10, 9, 8], [8, 8, 8])).toEqual([6, 5, 4]);
    expect(startFor([10, 9, 8], [5, 7, 3])).toEqual([8, 6, 7]);
    expect(startFor([2, 16, 14], [5, 7, 3])).toEqual([0, 11, 13]);
    // Axes shorter than the patch start at 0 (the caller pads first); the others are unaffected.
    expect(startFor([10, 9, 8], [30, 8, 20])).toEqual([0, 5, 0]);
  });

  it('samples 2D label maps', () => {
    const labels = makeLabels([12, 9], (i) => (i === 5 * 9 + 7 ? 1 : 0));
    const sampler = new PatchSampler(labels, [4, 4]);
    expect(sampler.sample(new Random(3, 0), 1)).toEqual([3, 5]);
  });

  it('is deterministic: the same Random state gives the same starts, another seed others', () => {
    const draw = (seed: number) => {
      const sampler = new PatchSampler(blob, [6, 6, 6]);
      const random = new Random(seed, 7);
      return Array.from({ length: 200 }, () => sampler.sample(random, 0.5).join(','));
    };
    expect(draw(42)).toEqual(draw(42));
    expect(draw(43)).not.toEqual(draw(42));
  });

  it('rejects a ratio outside [0, 1] and a patch of the wrong rank', () => {
    const sampler = new PatchSampler(blob, [4, 4, 4]);
    for (const ratio of [-0.1, 1.5, NaN]) expect(() => sampler.sample(new Random(1, 0), ratio)).toThrow(/positiveRatio .* is not in \[0, 1\]/);
    expect(() => new PatchSampler(blob, [4, 4])).toThrow(/size \[4,4\] must be 3 positive integers/);
  });
});

describe('extractPatch', () => {
  /** The per-voxel reference copy. */
  function naive(image: DecodedImage, labels: DecodedLabels, start: number[], size: number[]) {
    const [D, H, W] = image.shape.length === 2 ? [1, ...image.shape] : image.shape;
    const [z0, y0, x0] = start.length === 2 ? [0, ...start] : start;
    const [pd, ph, pw] = size.length === 2 ? [1, ...size] : size;
    const C = image.channels;
    const data: number[] = [];
    const out: number[] = [];
    for (let z = 0; z < pd; z++) {
      for (let y = 0; y < ph; y++) {
        for (let x = 0; x < pw; x++) {
          const i = ((z0 + z) * H + y0 + y) * W + x0 + x;
          expect(z0 + z < D).toBe(true);
          for (let c = 0; c < C; c++) data.push(image.data[i * C + c]);
          out.push(labels.labels[i]);
        }
      }
    }
    return { data, labels: out };
  }

  it('copies patches at the corners, edges and inside into their batch slot, channels last', () => {
    const shape = [9, 10, 11];
    const size = [4, 5, 6];
    const image = makeImage(shape, 2);
    const labels = makeLabels(shape, (i) => (i * 7) % 5);
    const voxels = 4 * 5 * 6;
    for (const start of [[0, 0, 0], [5, 5, 5], [2, 3, 4], [5, 0, 5], [0, 5, 0]]) {
      for (const outLabels of [new Uint8Array(3 * voxels), new Int32Array(3 * voxels)]) {
        const outImage = new Float32Array(3 * voxels * 2).fill(-0.5);
        outLabels.fill(99);
        extractPatch(image, labels, start, size, outImage, outLabels, 1);
        const want = naive(image, labels, start, size);
        expectClose(outImage.subarray(voxels * 2, 2 * voxels * 2), want.data, EXACT, `image at [${start}]`);
        expectClose(outLabels.subarray(voxels, 2 * voxels), want.labels, EXACT, `labels at [${start}]`);
        // Slots 0 and 2 are not touched.
        expect(outImage.subarray(0, voxels * 2).every((v) => v === -0.5) && outImage.subarray(2 * voxels * 2).every((v) => v === -0.5)).toBe(true);
        expect(outLabels.subarray(0, voxels).every((v) => v === 99) && outLabels.subarray(2 * voxels).every((v) => v === 99)).toBe(true);
      }
    }
  });

  it('copies 2D patches', () => {
    const image = makeImage([7, 8], 3);
    const labels = makeLabels([7, 8], (i) => i % 4);
    const outImage = new Float32Array(3 * 4 * 3);
    const outLabels = new Int32Array(3 * 4);
    extractPatch(image, labels, [4, 2], [3, 4], outImage, outLabels);
    const want = naive(image, labels, [4, 2], [3, 4]);
    expectClose(outImage, want.data, EXACT, '2D image');
    expectClose(outLabels, want.labels, EXACT, '2D labels');
  });

  it('refuses a patch outside the volume and buffers too small for the slot', () => {
    const image = makeImage([4, 4, 4], 1);
    const labels = makeLabels([4, 4, 4], () => 0);
    const out = () => [new Float32Array(2 * 8), new Uint8Array(2 * 8)] as const;
    expect(() => extractPatch(image, labels, [3, 0, 0], [2, 2, 2], ...out())).toThrow(/a patch of \[2,2,2\] at \[3,0,0\] does not fit in \[4,4,4\]/);
    expect(() => extractPatch(image, labels, [-1, 0, 0], [2, 2, 2], ...out())).toThrow(/does not fit/);
    expect(() => extractPatch(image, labels, [0, 0, 0], [2, 2, 2], ...out(), 2)).toThrow(/slot 2 of \[2,2,2\] × 1 does not fit buffers of 16 values and 16 labels/);
  });
});
