/**
 * Your own data (issue #21): how fast segloss/data turns files into batches, and what it costs a
 * training step.
 *
 * 1. 2D: 256² RGB PNGs with 0/255 masks, prepared for a 128² model (decode, resize, normalise)
 *    and augmented (flips, quarter turns, intensity): cases per second decoded every time (cache
 *    0: a data set larger than memory) and from the cache.
 * 2. 3D: 128×128×112 int16 .nii.gz volumes with their labels, 96³ patches (RandCropByPosNegLabel,
 *    then augmented): volumes decoded per second, patches per second from the cache.
 * 3. The U-Net step of `segloss bench unet` (batch 4, 128², filters 16–128, BN, Dice + CE) on
 *    synthetic data in memory, and on a folder of 512² PNGs resized to 128²: cached after the
 *    first epoch; with no cache and a decode worker (the next step's images decode while a step
 *    trains); with no cache and no worker. Interleaved in one process: ms per step and the ratio
 *    to synthetic. (The worker exists in the build: run it as `segloss bench data`.)
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'fflate';
import { encode as encodePng } from 'fast-png';
import type { BenchContext } from './suite.js';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

function put(path: string, bytes: Uint8Array): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, bytes);
}

/** A NIfTI-1 .nii.gz of int16 (images) or uint8 (labels) voxels, [z][y][x] in, x fastest on disk. */
function niftiGz(shape: [number, number, number], data: Int16Array | Uint8Array): Uint8Array {
  const header = new DataView(new ArrayBuffer(352));
  header.setInt32(0, 348, true);
  const dims = [3, shape[2], shape[1], shape[0], 1, 1, 1, 1];
  dims.forEach((d, k) => header.setInt16(40 + 2 * k, d, true));
  const int16 = data instanceof Int16Array;
  header.setInt16(70, int16 ? 4 : 2, true); // datatype: int16 | uint8
  header.setInt16(72, int16 ? 16 : 8, true); // bitpix
  for (let k = 0; k < 8; k++) header.setFloat32(76 + 4 * k, 1, true); // pixdim
  header.setFloat32(108, 352, true); // vox_offset
  [0x6e, 0x2b, 0x31, 0].forEach((b, k) => header.setUint8(344 + k, b)); // "n+1\0"
  const file = new Uint8Array(352 + data.byteLength);
  file.set(new Uint8Array(header.buffer));
  file.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 352);
  return gzipSync(file, { level: 6 });
}

async function timeBatches(dataset: { batch(step: number, n: number): Promise<unknown> }, steps: number, batch: number): Promise<number> {
  const t0 = performance.now();
  for (let s = 0; s < steps; s++) await dataset.batch(s, batch);
  return (performance.now() - t0) / 1000;
}

export async function benchData(c: BenchContext): Promise<unknown> {
  const { openDataset } = await import('../data/index.js');
  const { syntheticSegmentation } = await import('../models/synthetic.js');
  const root = mkdtempSync(join(tmpdir(), 'segloss-bench-data-'));
  const rows: Record<string, number> = {};
  try {
    // 1. 2D PNGs.
    const side = c.quick ? 64 : 256;
    const count = c.quick ? 8 : 32;
    const set2d = join(root, 'png');
    const synth = syntheticSegmentation({ shape: [side, side], count, foreground: 0.1, seed: 5 });
    const pixels = side * side;
    for (let n = 0; n < count; n++) {
      const rgb = new Uint8Array(pixels * 3);
      for (let i = 0; i < pixels; i++) {
        const v = Math.max(0, Math.min(255, Math.round(255 * synth.images[n * pixels + i])));
        rgb.set([v, 255 - v, v >> 1], 3 * i);
      }
      const mask = Uint8Array.from(synth.labels.subarray(n * pixels, (n + 1) * pixels), (l) => 255 * l);
      put(join(set2d, 'images', `${n}.png`), encodePng({ width: side, height: side, data: rgb, channels: 3, depth: 8 }));
      put(join(set2d, 'masks', `${n}.png`), encodePng({ width: side, height: side, data: mask, channels: 1, depth: 8 }));
    }
    const augment = { flip: true, rotate90: true, intensity: 0.1 };
    const size2d = c.quick ? 32 : 128;
    const steps2d = c.quick ? 4 : 24;
    const cold = (await openDataset(set2d, { size: size2d, augment, cacheMB: 0, valFraction: 0 })).dataset;
    const coldSeconds = await timeBatches(cold, steps2d, 4);
    const warm = (await openDataset(set2d, { size: size2d, augment, valFraction: 0 })).dataset;
    await timeBatches(warm, Math.ceil(count / 4), 4); // one epoch fills the cache
    const warmSeconds = await timeBatches(warm, steps2d * 4, 4);
    rows.png2dDecodedPerSecond = (steps2d * 4) / coldSeconds;
    rows.png2dCachedPerSecond = (steps2d * 16) / warmSeconds;
    c.print(`2D: ${count} RGB PNGs of ${side}² with 0/255 masks → ${size2d}² batches of 4, augmented`);
    c.print(`  decoded each time (cache 0):  ${rows.png2dDecodedPerSecond.toFixed(0).padStart(6)} images/s (decode + resize + normalise + augment)`);
    c.print(`  from the cache:               ${rows.png2dCachedPerSecond.toFixed(0).padStart(6)} images/s (augment)`);

    // 2. 3D NIfTI volumes and patches.
    const shape: [number, number, number] = c.quick ? [40, 48, 48] : [112, 128, 128];
    const patch = c.quick ? 32 : 96;
    const volumes = c.quick ? 2 : 4;
    const set3d = join(root, 'nifti');
    const voxels = shape[0] * shape[1] * shape[2];
    for (let v = 0; v < volumes; v++) {
      const image = new Int16Array(voxels);
      const labels = new Uint8Array(voxels);
      for (let i = 0; i < voxels; i++) {
        const [z, y, x] = [Math.floor(i / (shape[1] * shape[2])), Math.floor(i / shape[2]) % shape[1], i % shape[2]];
        const inside = (z - shape[0] / 2) ** 2 + (y - shape[1] / 2 - 5 * v) ** 2 + (x - shape[2] / 2) ** 2 < (shape[1] / 6) ** 2;
        labels[i] = inside ? 1 : 0;
        image[i] = (inside ? 300 : -200) + ((i * 2654435761) >>> 24) - 128;
      }
      put(join(set3d, 'imagesTr', `case${v}_0000.nii.gz`), niftiGz(shape, image));
      put(join(set3d, 'labelsTr', `case${v}.nii.gz`), niftiGz(shape, labels));
    }
    const steps3d = c.quick ? 2 : 6;
    const cold3d = (await openDataset(set3d, { size: patch, augment, cacheMB: 0, valFraction: 0 })).dataset;
    const cold3dSeconds = await timeBatches(cold3d, steps3d, 1);
    const warm3d = (await openDataset(set3d, { size: patch, augment, valFraction: 0 })).dataset;
    await timeBatches(warm3d, volumes, 1);
    const warm3dSeconds = await timeBatches(warm3d, steps3d * 4, 1);
    rows.nifti3dDecodedPerSecond = steps3d / cold3dSeconds;
    rows.nifti3dPatchesPerSecond = (steps3d * 4) / warm3dSeconds;
    c.print(`3D: ${volumes} int16 .nii.gz volumes of ${[...shape].reverse().join('×')} with labels → ${patch}³ patches (pos/neg 1:1), augmented`);
    c.print(`  decoded each time (cache 0):  ${rows.nifti3dDecodedPerSecond.toFixed(2).padStart(6)} volumes/s (gunzip + decode + z-score + pad + fg/bg index + patch)`);
    c.print(`  from the cache:               ${rows.nifti3dPatchesPerSecond.toFixed(1).padStart(6)} patches/s (sample + crop + augment)`);

    // 3. The U-Net step on synthetic data and on a folder, interleaved.
    const tf = await import('@tensorflow/tfjs-core');
    await import('@tensorflow/tfjs-backend-wasm');
    const { setupWasmKernels } = await import('../setup.js');
    const { UNetTrainer } = await import('../models/train.js');
    await tf.setBackend('wasm');
    await setupWasmKernels();
    const size = c.quick ? 32 : 128;
    const source = 4 * size;
    const images = c.quick ? 8 : 64;
    const folder = join(root, 'unet');
    const data = syntheticSegmentation({ shape: [source, source], count: images, foreground: 0.1, seed: 0 });
    const area = source * source;
    for (let n = 0; n < images; n++) {
      const grey = Uint8Array.from(data.images.subarray(n * area, (n + 1) * area), (v) => Math.max(0, Math.min(255, Math.round(255 * v))));
      const mask = Uint8Array.from(data.labels.subarray(n * area, (n + 1) * area), (l) => 255 * l);
      put(join(folder, 'images', `${n}.png`), encodePng({ width: source, height: source, data: grey, channels: 1, depth: 8 }));
      put(join(folder, 'masks', `${n}.png`), encodePng({ width: source, height: source, data: mask, channels: 1, depth: 8 }));
    }
    const common = { imageSize: size, filters: c.quick ? [4, 8] : [16, 32, 64, 128], steps: 1_000_000, evalEvery: 1_000_000, seed: 1 };
    const trainers = {
      synthetic: await UNetTrainer.open({ ...common, trainImages: images }),
      cached: await UNetTrainer.open({ ...common, data: { path: folder, valFraction: 0.05, augment: { flip: true, rotate90: true, intensity: 0.1 } } }),
      'cache 0, worker': await UNetTrainer.open({ ...common, data: { path: folder, valFraction: 0.05, cacheMB: 0, augment: { flip: true, rotate90: true, intensity: 0.1 } } }),
      'cache 0, no worker': await UNetTrainer.open({ ...common, data: { path: folder, valFraction: 0.05, cacheMB: 0, decodeWorkers: 0, augment: { flip: true, rotate90: true, intensity: 0.1 } } }),
    };
    // Warm-up: compile the kernels, and one epoch so that the cached folder holds every image.
    for (const t of Object.values(trainers)) for (let s = 0; s < 2; s++) await t.nextStep();
    const cachedTrainer = trainers.cached;
    while (cachedTrainer.step < Math.ceil(images / 4) + 2) await cachedTrainer.nextStep();
    const times: Record<string, number[]> = Object.fromEntries(Object.keys(trainers).map((k) => [k, []]));
    const rounds = c.quick ? 2 : (c.steps ?? 4);
    for (let round = 0; round < rounds; round++) {
      for (const [name, t] of Object.entries(trainers)) {
        for (let s = 0; s < 5; s++) {
          const t0 = performance.now();
          await t.nextStep();
          times[name].push(performance.now() - t0);
        }
      }
    }
    const base = median(times.synthetic);
    c.print(`U-Net step, batch 4 of ${size}², filters [${common.filters.join(', ')}], BN, Dice + CE; the folder: ${images} grey PNGs of ${source}² resized to ${size}²;`
      + ` ${rounds} rounds of 5 steps each, interleaved:`);
    for (const [name, ts] of Object.entries(times)) {
      const m = median(ts);
      rows[`unetStepMs:${name}`] = m;
      c.print(`  ${(name === 'synthetic' ? name : `folder, ${name}`).padEnd(26)} ${m.toFixed(1).padStart(8)} ms  (${(m / base).toFixed(3)}× synthetic)`);
    }
    for (const t of Object.values(trainers)) t.dispose();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return rows;
}
