/**
 * segloss/data in a real page (headless Chromium, the demo's "Train a U-Net in this tab"): a folder
 * chosen with <input webkitdirectory> or dropped on the page (Chromium's own drag and drop of a
 * directory, through the DevTools protocol) is checked in the demo's worker with the findings
 * Node's checkData has on the same folder — pairs, sizes, classes, frequencies, every problem's
 * file and message — and a folder with problems turns Train off; training batches are the bits
 * Node's are (decoding, resizing, normalisation, augmentation); the demo trains on a folder with
 * the losses UNetTrainer has in Node, bit for bit, draws the validation images with their labels
 * and predictions, and leaks no tensor. Last, examples/segment-page, bundled as an app would
 * bundle it, segments an image with a model trained and saved in Node, as that model does in Node.
 *
 * The data sets are written here with the libraries segloss reads them with (test/helpers/image_data.ts).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkData, decodeRaster, formatDataReport, normalizeInPlace, openDataset, rasterToImage, type DataReport, type DatasetOptions } from '../../src/data/index.js';
import { filesInDirectory } from '../../src/data/node_files.js';
import { resizeImage, toChannels } from '../../src/data/transforms.js';
import { UNetTrainer, type UNetTrainingOptions } from '../../src/models/index.js';
import { imageBytes, maskBytes, put, syntheticPair, writeImageSet, type ImageSetOptions, type MaskStyle } from '../helpers/image_data.js';
import { writeNifti } from '../helpers/nifti.js';
import { useWasm } from '../helpers/wasm.js';
import { launchChromium, openDemo, serve, type Served } from './chromium.js';
// @ts-expect-error: a plain .mjs script with no types
import { serveDemo } from '../../scripts/serve-web.mjs';

const SCREENSHOTS = 'test-output/browser';
const root = mkdtempSync(join(tmpdir(), 'segloss-browser-data-'));
/** 12 training and 4 validation pairs (val/), grey PNGs 32×32, masks of class indices 0/1. */
const tiles = join(root, 'tiles');
/** 10 pairs, no val/: JPEG, RGB, RGBA, 16-bit and grey PNGs of 40×40 and 48×48, three classes in palette and index masks. */
const mixed = join(root, 'mixed');
/** Problems: a mask without its image, a text file named .png, a mask of another size than its image. */
const broken = join(root, 'broken');
/** A NIfTI case in the Decathlon layout (3D), which the demo leaves to `segloss train --data`. */
const volumes = join(root, 'volumes');

/** The mixed set: sizes and file kinds that make decoding, channels and the resize do something. */
function writeMixed(dir: string): void {
  const kinds: NonNullable<ImageSetOptions['images']>[] = ['jpeg', 'rgb', 'grey16', 'grey', 'rgba'];
  for (let n = 0; n < 10; n++) {
    const size = n % 2 ? 40 : 48;
    const { image, labels } = syntheticPair(size, n, 0.25, 3);
    // The foreground's right half is class 2: three classes, the study's imbalance kept.
    const three = labels.map((v, i) => (v && i % size >= size / 2 ? 2 : v));
    const kind = kinds[n % kinds.length];
    const style: MaskStyle = n % 3 === 0 ? 'palette' : 'indices';
    put(join(dir, 'images', `case-${n}.${kind === 'jpeg' ? 'jpg' : 'png'}`), imageBytes(image, size, kind));
    put(join(dir, 'masks', `case-${n}.png`), maskBytes(three, size, style));
  }
}

function writeBroken(dir: string): void {
  writeImageSet(dir, { count: 3, size: 32 });
  put(join(dir, 'masks', 'orphan.png'), maskBytes(syntheticPair(32, 9).labels, 32, 'indices'));
  put(join(dir, 'images', 'notes.png'), 'These are my notes, not an image.\n');
  put(join(dir, 'masks', 'notes.png'), maskBytes(syntheticPair(32, 8).labels, 32, 'indices'));
  const { image } = syntheticPair(24, 7);
  put(join(dir, 'images', 'small.png'), imageBytes(image, 24, 'grey'));
  put(join(dir, 'masks', 'small.png'), maskBytes(syntheticPair(32, 7).labels, 32, 'indices'));
}

/** Node's data check of a folder, without its layout (functions, which a page cannot return). */
async function nodeCheck(dir: string): Promise<DataReport> {
  const { layoutOf: _layout, ...report } = await checkData(dir);
  return report;
}

/** The first element where two bit patterns differ, or null: a failure names the element and both values. */
function firstDifference(what: string, page: number[], node: Uint32Array): string | null {
  if (page.length !== node.length) return `${what}: ${page.length} values in Chromium, ${node.length} in Node`;
  const i = page.findIndex((v, k) => v !== node[k]);
  if (i < 0) return null;
  const f = (bits: number) => new Float32Array(new Uint32Array([bits]).buffer)[0];
  return `${what}[${i}]: Chromium ${f(page[i])} (0x${page[i].toString(16)}), Node ${f(node[i])} (0x${node[i].toString(16)})`;
}

let browser: Browser;
let server: Served;
let page: Page;
let errors: string[];

beforeAll(async () => {
  writeImageSet(tiles, { count: 12, size: 32, foreground: 0.2 });
  writeImageSet(tiles, { count: 4, size: 32, foreground: 0.2, split: 'val' });
  writeMixed(mixed);
  writeBroken(broken);
  browser = await launchChromium();
  server = await serve(true);
  ({ page, errors } = await openDemo(browser, server.url));
  mkdirSync(SCREENSHOTS, { recursive: true });
});

afterAll(async () => {
  await page?.close();
  await server?.close();
  await browser?.close();
  rmSync(root, { recursive: true, force: true });
});

const loads = () => page.evaluate(() => (globalThis as any).seglossDemo.unet.dataLoads as number);

/** Chooses `dir` with the section's <input webkitdirectory>; resolves when the page has checked it. */
async function chooseFolder(dir: string): Promise<void> {
  const before = await loads();
  await page.setInputFiles('#unet-folder', dir);
  await page.waitForFunction((n) => (globalThis as any).seglossDemo.unet.dataLoads > n, before, { timeout: 60_000 });
}

/** Drops `dir` on the section as a user drags a folder from a file manager (Chromium's drag and drop, by the DevTools protocol). */
async function dropFolder(dir: string): Promise<void> {
  const before = await loads();
  const cdp = await page.context().newCDPSession(page);
  const box = (await page.locator('#unet-drop').boundingBox())!;
  const at = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
  const data = { items: [], files: [dir], dragOperationsMask: 1 };
  for (const type of ['dragEnter', 'dragOver', 'drop']) await cdp.send('Input.dispatchDragEvent', { type: type as 'drop', ...at, data });
  await cdp.detach();
  await page.waitForFunction((n) => (globalThis as any).seglossDemo.unet.dataLoads > n, before, { timeout: 60_000 });
}

const loaded = () => page.evaluate(() => {
  const data = (globalThis as any).seglossDemo.unet.data;
  return data && { name: data.name as string, paths: (data.files as { path: string }[]).map((f) => f.path).sort(), report: data.report as DataReport };
});

/** What the overlay shows: per canvas its width, predicted (red-tinted) and label-outline (green) pixels; the caption. */
const overlay = () => page.evaluate(() => ({
  canvases: Array.from(document.querySelectorAll<HTMLCanvasElement>('#unet-images canvas')).map((c) => {
    const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let red = 0;
    let green = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i] > 150 && data[i + 1] < 130) red++;
      if (data[i] === 40 && data[i + 1] === 210 && data[i + 2] === 70) green++;
    }
    return { width: c.width, red, green };
  }),
  caption: document.getElementById('unet-caption')!.textContent,
}));

/** Fills the U-Net form and trains; resolves when the page is idle again. */
async function train(fields: Record<string, string>): Promise<void> {
  for (const [id, value] of Object.entries(fields)) {
    if (id === 'unet-size') await page.selectOption(`#${id}`, value);
    else await page.fill(`#${id}`, value);
  }
  const ended = await page.evaluate(() => (globalThis as any).seglossDemo.unet.ended);
  await page.click('#unet-run');
  await page.waitForFunction((n) => (globalThis as any).seglossDemo.unet.ended > n, ended, { timeout: 120_000 });
}

describe('your own images in the demo', () => {
  it('checks a folder chosen with <input webkitdirectory> as Node checks it, and shows the report and a first batch', async () => {
    await page.selectOption('#unet-size', '32');
    await chooseFolder(tiles);
    const data = await loaded();
    const node = await nodeCheck(tiles);
    expect(data.name).toBe('tiles');
    // Paths inside the chosen folder, as Node lists them.
    expect(data.paths).toEqual([...node.images.map((i) => i.image), ...node.images.map((i) => i.mask!)].sort());
    expect(data.report).toEqual(node);
    expect(node).toMatchObject({ pairs: { train: 12, val: 4, test: 0 }, classes: 2, problems: [] });
    expect(await page.textContent('#unet-data-report')).toBe(formatDataReport(node, 'tiles'));
    expect(await page.textContent('#unet-data-status')).toMatch(/^Training on "tiles": 12 training pairs and 4 validation, read in this tab/);
    expect(await page.isEnabled('#unet-run')).toBe(true);
    expect(await page.isDisabled('#unet-fg')).toBe(true);
    // The first training batch as the model gets it: four 32×32 images, their labels outlined, no predictions yet.
    const shown = await overlay();
    expect(shown.caption).toBe('training batch 0 of "tiles" as the model gets it: 32×32, augmented (flips, quarter turns, intensity); labels outlined in green');
    expect(shown.canvases.map((c) => c.width)).toEqual([32, 32, 32, 32]);
    for (const c of shown.canvases) expect(c.green).toBeGreaterThan(0);
  });

  it('names every problem of a folder by its file, as Node does, and keeps Train off until another folder is clean', async () => {
    await chooseFolder(broken);
    const data = await loaded();
    const node = await nodeCheck(broken);
    expect(data.report.problems).toEqual(node.problems);
    expect(data.report).toEqual(node);
    expect(node.problems.map((p) => [p.code, p.file])).toEqual([
      ['missing-image', 'masks/orphan.png'], ['unreadable', 'images/notes.png'], ['size-mismatch', 'masks/small.png'],
    ]);
    const text = await page.textContent('#unet-data-report');
    for (const p of node.problems) expect(text).toContain(`${p.file}: ${p.message}`);
    expect(text).toContain('images/notes.png: it is not a PNG or JPEG image (it holds text)');
    expect(await page.textContent('#unet-data-status')).toMatch(/^"broken": 3 problems \(below, each naming its file\)\. Train is off/);
    expect(await page.isDisabled('#unet-run')).toBe(true);
    // Enter in the form submits it: still nothing trains.
    const ended = await page.evaluate(() => (globalThis as any).seglossDemo.unet.ended);
    await page.press('#unet-steps', 'Enter');
    expect(await page.evaluate(() => (globalThis as any).seglossDemo.unet.ended)).toBe(ended);
    // Back to the synthetic shapes: Train is on again.
    await page.click('#unet-data-clear');
    expect(await loaded()).toBeNull();
    expect(await page.isEnabled('#unet-run')).toBe(true);
    expect(await page.isHidden('#unet-data-report')).toBe(true);
    expect(await page.textContent('#unet-data-status')).toBe('Training on synthetic shapes.');
  });

  it('walks a dropped folder (Chromium\'s drag and drop of a directory) with the paths Node reads', async () => {
    await dropFolder(mixed);
    const data = await loaded();
    const node = await nodeCheck(mixed);
    expect(data.name).toBe('mixed');
    expect(data.paths).toEqual(filesInDirectory(mixed).map((f) => f.path).sort());
    expect(data.report).toEqual(node);
    // The set is what this file says it is: RGB among the images (3 channels), three classes, no problem.
    expect(node).toMatchObject({ channels: 3, classes: 3, classesPresent: [0, 1, 2], pairs: { train: 10, val: 0 }, problems: [] });
    expect(Object.keys(node.sizes).sort()).toEqual(['40×40', '48×48']);
  });

  it('makes training batches (decoded, resized, normalised, augmented) that are Node\'s, bit for bit', async () => {
    await page.selectOption('#unet-size', '32');
    await chooseFolder(mixed);
    // Augment is on by default.
    expect(await page.isChecked('#unet-augment')).toBe(true);
    const steps = [0, 1, 4, 9];
    const batchSize = 3;
    const inPage = await page.evaluate(async ([steps, batchSize]) => {
      const { options, batches } = await (globalThis as any).seglossDemo.unet.batches(steps, batchSize);
      return {
        options: options as DatasetOptions,
        batches: (batches as { images: Float32Array; labels: Int32Array }[]).map((b) => ({
          images: Array.from(new Uint32Array(b.images.buffer, b.images.byteOffset, b.images.length)), labels: Array.from(b.labels),
        })),
      };
    }, [steps, batchSize] as const);
    expect(inPage.options).toEqual({ size: 32, seed: 0, augment: { flip: true, rotate90: true, intensity: 0.1 } });
    const { dataset } = await openDataset(mixed, inPage.options);
    expect(dataset.inputShape).toEqual([32, 32, 3]);
    for (const [k, step] of steps.entries()) {
      const b = await dataset.batch(step, batchSize);
      const images = firstDifference(`batch ${step} images`, inPage.batches[k].images, new Uint32Array(b.images.buffer, b.images.byteOffset, b.images.length));
      expect(images, images ?? undefined).toBeNull();
      const labels = firstDifference(`batch ${step} labels`, inPage.batches[k].labels, new Uint32Array(b.labels.buffer, b.labels.byteOffset, b.labels.length));
      expect(labels, labels ?? undefined).toBeNull();
    }
    // The augmentation did something: batch 0 is not the unaugmented one.
    const { dataset: plain } = await openDataset(mixed, { ...inPage.options, augment: undefined });
    const unaugmented = new Uint32Array((await plain.batch(0, batchSize)).images.buffer);
    expect(firstDifference('batch 0 images', inPage.batches[0].images, unaugmented)).not.toBeNull();
  });

  it('trains on a dropped folder in the worker with the losses Node computes, bit for bit; draws the overlay; leaks no tensor', async () => {
    await dropFolder(tiles);
    await train({ 'unet-size': '32', 'unet-filters': '4, 8', 'unet-steps': '40', 'unet-batch': '4', 'unet-lr': '0.01', 'unet-threads': '1' });
    expect(await page.textContent('#unet-error')).toBe('');
    const { options, losses, result } = await page.evaluate(() => {
      const u = (globalThis as any).seglossDemo.unet;
      return { options: u.options as UNetTrainingOptions, losses: u.losses as { step: number; loss: number }[], result: u.result };
    });
    expect(options).toMatchObject({ imageSize: 32, filters: [4, 8], steps: 40, batchSize: 4, data: { path: 'tiles', augment: { flip: true, rotate90: true, intensity: 0.1 } } });
    expect(result).toMatchObject({ steps: 40, stopped: false });
    expect(await page.textContent('#unet-status')).toMatch(/^done after 40 steps in [\d.]+ s, \d+ ms a step \(1 thread, segloss simd\); validation foreground Dice [\d.]+$/);

    // The same run in Node on the same folder: the same bits.
    await useWasm('simd');
    const trainer = await UNetTrainer.open({ ...options, data: { ...options.data!, path: tiles } });
    const node: number[] = [];
    try {
      while (trainer.step < options.steps) node.push((await trainer.nextStep()).loss);
    } finally {
      trainer.dispose();
    }
    expect(losses.map((l) => l.loss)).toEqual(node);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(node.slice(-10))).toBeLessThan(0.8 * mean(node.slice(0, 10)));
    // No tensor leaks in the worker: the count after every step is the same.
    expect(new Set(result.numTensors).size).toBe(1);

    // The four validation images (val/), each with its labels outlined and, somewhere, predicted foreground.
    const shown = await overlay();
    expect(shown.caption).toMatch(/^validation images at step 39: foreground Dice [\d.]+, IoU [\d.]+, accuracy [\d.]+$/);
    expect(shown.canvases.map((c) => c.width)).toEqual([32, 32, 32, 32]);
    for (const c of shown.canvases) expect(c.green).toBeGreaterThan(0);
    expect(shown.canvases.some((c) => c.red > 0)).toBe(true);
    await page.screenshot({ path: `${SCREENSHOTS}/demo-own-data.png`, fullPage: true });
  });

  it('trains on three classes from RGB, JPEG and 16-bit images', async () => {
    await chooseFolder(mixed);
    await train({ 'unet-steps': '4', 'unet-batch': '2' });
    expect(await page.textContent('#unet-error')).toBe('');
    expect(await page.evaluate(() => (globalThis as any).seglossDemo.unet.result)).toMatchObject({ steps: 4, stopped: false });
    expect(await page.textContent('#unet-status')).toMatch(/validation mean foreground Dice [\d.]+$/);
    // Validation: two of the ten cases, held out by the seed (there is no val/).
    const shown = await overlay();
    expect(shown.caption).toMatch(/^validation images at step 3: mean foreground Dice [\d.]+, IoU [\d.]+, accuracy [\d.]+$/);
    expect(shown.canvases).toHaveLength(2);
  });

  it('says that volumes train with segloss train --data, and keeps Train off', async () => {
    const volume = (values: (i: number) => number) => writeNifti({ shape: [8, 8, 8], datatype: 'uint8', data: Array.from({ length: 512 }, (_, i) => values(i)), gzip: true });
    put(join(volumes, 'imagesTr', 'case_0000.nii.gz'), volume((i) => i % 200));
    put(join(volumes, 'labelsTr', 'case.nii.gz'), volume((i) => (i % 7 === 0 ? 1 : 0)));
    await chooseFolder(volumes);
    expect((await loaded()).report).toEqual(await nodeCheck(volumes));
    expect(await page.textContent('#unet-data-status')).toBe('"volumes" holds volumes (3D): this demo trains on 2D images; train on volumes with segloss train --data.');
    expect(await page.isDisabled('#unet-run')).toBe(true);
    await page.click('#unet-data-clear');
  });

  it('raised no page, console or worker error', () => {
    expect(errors).toEqual([]);
  });
});

describe('examples/segment-page', () => {
  const repo = resolve('.');
  const app = join(repo, 'test-output', 'segment-page');
  let exampleServer: Served;
  let model: tfl.LayersModel;

  beforeAll(async () => {
    rmSync(app, { recursive: true, force: true });
    cpSync(join(repo, 'examples', 'segment-page'), app, { recursive: true });
    // The app's node_modules/segloss is this package (as `npm install segloss` would put it).
    mkdirSync(join(app, 'node_modules'));
    symlinkSync(repo, join(app, 'node_modules', 'segloss'), 'dir');
    const bundle = spawnSync(process.execPath, [join(repo, 'node_modules', 'rollup', 'dist', 'bin', 'rollup'), '-c', '--silent'], { cwd: app, encoding: 'utf8' });
    if (bundle.status !== 0) throw new Error(`rollup failed on examples/segment-page:\n${bundle.stderr}`);
    const wasm = join(repo, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist');
    mkdirSync(join(app, 'wasm'));
    for (const file of readdirSync(wasm).filter((f) => f.endsWith('.wasm'))) cpSync(join(wasm, file), join(app, 'wasm', file));
    // A model as `segloss train --data` leaves it: checkpoint/model/ and checkpoint/state.json, here after 30 steps.
    await useWasm('simd');
    const trainer = await UNetTrainer.open({ imageSize: 32, filters: [4, 8], steps: 30, batchSize: 4, learningRate: 0.01, evalEvery: 1000, data: { path: tiles } });
    try {
      while (trainer.step < trainer.options.steps) await trainer.nextStep();
      await trainer.save(join(app, 'run', 'checkpoint'));
    } finally {
      trainer.dispose();
    }
    model = await tfl.loadLayersModel(`file://${join(app, 'run', 'checkpoint', 'model', 'model.json')}`);
    exampleServer = await serveDemo({ root: app, port: 0, base: '/segment/', isolation: false });
  });

  afterAll(async () => {
    model?.dispose();
    await exampleServer?.close();
  });

  it('segments a chosen image with a model saved by UNetTrainer, as that model does in Node', async () => {
    const example = await browser.newPage();
    const pageErrors: string[] = [];
    example.on('pageerror', (e) => pageErrors.push(e.message));
    await example.goto(`${exampleServer.url}?model=run/checkpoint/model/model.json`);
    await example.waitForFunction(() => (globalThis as any).segmentReady != null, null, { timeout: 60_000 });
    const ready = await example.evaluate(() => (globalThis as any).segmentReady);
    expect(ready).toMatchObject({ inputShape: [32, 32, 1], normalize: 'minmax' });
    // An image of another size than the model's: 48×48, resized to 32×32 as training resized.
    const { image } = syntheticPair(48, 3, 0.2);
    const file = join(root, 'test-image.png');
    writeFileSync(file, imageBytes(image, 48, 'grey'));
    await example.setInputFiles('#image', file);
    await example.waitForFunction(() => (globalThis as any).segmented != null, null, { timeout: 60_000 });
    const segmented = await example.evaluate(() => (globalThis as any).segmented);
    expect(segmented.numTensors).toBe(ready.numTensors);
    expect(await example.textContent('#status')).toMatch(/^test-image\.png: 48×48, segmented at 32×32; class 0 [\d.]+%, class 1 [\d.]+%$/);

    // Node: segloss/data's own preparation (toChannels, resizeImage, minmax), the same model.
    const decoded = rasterToImage(decodeRaster(new Uint8Array(readFileSync(file)), file), '');
    const prepared = resizeImage(toChannels(decoded, 1), 32, 32);
    const data = prepared.data.slice();
    normalizeInPlace(data, 'minmax');
    const expected = tf.tidy(() => tf.argMax(model.predict(tf.tensor4d(data, [1, 32, 32, 1])) as tf.Tensor, -1).dataSync());
    // The page prepares with segloss/data's own transforms: the same input, the same classes, pixel for pixel.
    const differing = segmented.predicted.filter((k: number, i: number) => k !== expected[i]).length;
    expect(differing).toBe(0);
    expect(new Set(segmented.predicted).size).toBeGreaterThan(1);
    // The classes are drawn over the image at the image's size.
    const drawn = await example.evaluate(() => {
      const c = document.getElementById('canvas') as HTMLCanvasElement;
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let tinted = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i] > d[i + 1] + 40) tinted++;
      return { width: c.width, height: c.height, tinted };
    });
    expect(drawn).toMatchObject({ width: 48, height: 48 });
    expect(drawn.tinted).toBeGreaterThan(0);
    expect(pageErrors).toEqual([]);
    await example.close();
  });
});
