/**
 * segloss/data: the layouts, every mask convention, the data check's findings and messages, and
 * the training data set's seeded batches — on small data sets the tests write themselves with the
 * libraries segloss reads them with (fast-png, jpeg-js; NIfTI with test/helpers/nifti.ts).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode as encodePng } from 'fast-png';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DataError, checkData, decodeRaster, decodeWorkers, discoverLayout, filesFromBlobs, filesFromUrls, formatDataReport, openDataset, rasterToLabels,
  type DataFile,
} from '../src/data/index.js';
import { normalizeInPlace, augmentInto, resizeImage } from '../src/data/transforms.js';
import { imageBytes, maskBytes, put, syntheticPair, writeImageSet } from './helpers/image_data.js';
import { writeNifti } from './helpers/nifti.js';

const roots: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'segloss-data-'));
  roots.push(dir);
  return dir;
}
afterAll(() => { for (const d of roots) rmSync(d, { recursive: true, force: true }); });

/** In-memory files at the given paths (contents unread by layout discovery). */
const paths = (...list: string[]): DataFile[] => list.map((path) => ({ path, read: async () => new Uint8Array(0) }));

describe('layouts', () => {
  it('pairs images/ with masks/ by path without extension, a mask may add _mask, and names the unpaired', async () => {
    const layout = await discoverLayout(paths('images/a.png', 'images/sub/b.jpg', 'images/c.png', 'masks/a.png', 'masks/sub/b_mask.png', 'masks/d.png', 'images/notes.txt', 'README.md', '.DS_Store'));
    expect(layout.dims).toBe(2);
    expect(layout.pairs.map((p) => [p.id, p.images[0].path, p.mask!.path])).toEqual([['a', 'images/a.png', 'masks/a.png'], ['sub/b', 'images/sub/b.jpg', 'masks/sub/b_mask.png']]);
    expect(layout.problems).toEqual([
      { code: 'missing-mask', file: 'images/c.png', message: expect.stringContaining('no mask for this image in masks/') },
      { code: 'missing-image', file: 'masks/d.png', message: expect.stringContaining('no image for this mask in images/') },
    ]);
    expect(layout.ignored).toEqual(['images/notes.txt']);
  });

  it('takes train/ and val/ splits, names duplicates and formats it does not read', async () => {
    const layout = await discoverLayout(paths('train/images/a.png', 'train/images/a.jpg', 'train/masks/a.png', 'train/images/t.tif', 'val/images/v.png', 'val/masks/v.png'));
    expect(layout.pairs.map((p) => [p.id, p.split])).toEqual([['a', 'train'], ['v', 'val']]);
    expect(layout.problems.map((p) => [p.code, p.file])).toEqual([['duplicate', 'train/images/a.png'], ['unreadable', 'train/images/t.tif']]);
    expect(layout.problems[1].message).toMatch(/TIF is not a format segloss reads/);
  });

  it('reads the Decathlon / nnU-Net layout: channel suffixes, validation and test folders, dataset.json labels', async () => {
    const json = new TextEncoder().encode(JSON.stringify({ labels: { background: 0, liver: 1, tumour: 2 } }));
    const files = [...paths('imagesTr/c1_0000.nii.gz', 'imagesTr/c1_0001.nii.gz', 'labelsTr/c1.nii.gz', 'imagesTr/c2_0001.nii.gz', 'labelsTr/c2.nii.gz',
      'labelsTr/c3.nii.gz', 'imagesTs/t1_0000.nii.gz', 'imagesVal/v1.nii', 'labelsVal/v1.nii'), { path: 'dataset.json', read: async () => json }];
    const layout = await discoverLayout(files);
    expect(layout.dims).toBe(3);
    expect(layout.classNames).toEqual(['background', 'liver', 'tumour']);
    expect(layout.pairs.map((p) => [p.id, p.split, p.images.length, p.mask?.path ?? null])).toEqual([
      ['c1', 'train', 2, 'labelsTr/c1.nii.gz'], ['v1', 'val', 1, 'labelsVal/v1.nii'], ['t1', 'test', 1, null]]);
    expect(layout.problems.map((p) => [p.code, p.file])).toEqual([['missing-image', 'imagesTr/c2_0001.nii.gz'], ['missing-image', 'labelsTr/c3.nii.gz']]);
    expect(layout.problems[0].message).toMatch(/channel _0000 is missing/);
  });

  it('reads manifests (CSV and JSON, paths relative to the manifest) and names bad lines and missing files', async () => {
    const csv = 'image,mask,split\nimgs/a.png,lbl/a.png,train\n./imgs/b.png,lbl/b.png,validation\nimgs/c.png,lbl/c.png,holdout\nimgs/z.png,lbl/z.png,train\n';
    const layout = await discoverLayout([...paths('imgs/a.png', 'lbl/a.png', 'imgs/b.png', 'lbl/b.png', 'imgs/c.png', 'lbl/c.png'),
      { path: 'manifest.csv', read: async () => new TextEncoder().encode(csv) }]);
    expect(layout.kind).toBe('manifest');
    expect(layout.pairs.map((p) => [p.images[0].path, p.mask!.path, p.split])).toEqual([['imgs/a.png', 'lbl/a.png', 'train'], ['imgs/b.png', 'lbl/b.png', 'val']]);
    expect(layout.problems.map((p) => [p.code, p.file, p.message])).toEqual([
      ['manifest', 'manifest.csv', "line 4: split 'holdout' is not train, val or test"],
      ['missing-image', 'imgs/z.png', 'listed in manifest.csv (line 5) but not there'],
    ]);
    const json = JSON.stringify({ training: [{ image: './x/a.png', label: './y/a.png' }], test: ['./x/t.png'] });
    const decathlon = await discoverLayout([...paths('d/x/a.png', 'd/y/a.png', 'd/x/t.png'), { path: 'd/list.json', read: async () => new TextEncoder().encode(json) }], { manifest: 'd/list.json' });
    expect(decathlon.pairs.map((p) => [p.images[0].path, p.mask?.path ?? null, p.split])).toEqual([['d/x/a.png', 'd/y/a.png', 'train'], ['d/x/t.png', null, 'test']]);
  });

  it('says what it found when there is no layout, and that a folder is empty', async () => {
    const none = await discoverLayout(paths('pics/a.png', 'notes.txt'));
    expect(none.problems).toEqual([{ code: 'no-layout', file: '.', message: expect.stringMatching(/found notes.txt, pics\/\).*images\/ \+ masks\//) }]);
    const empty = await discoverLayout([]);
    expect(empty.problems).toEqual([{ code: 'empty-folder', file: '.', message: 'the folder is empty' }]);
  });
});

describe('decoding and mask conventions', () => {
  const size = 12;
  const { image, labels } = syntheticPair(size, 3, 0.3);

  it('decodes PNG (8- and 16-bit, grey, RGB, RGBA with alpha dropped) and JPEG to the values written', () => {
    const grey = decodeRaster(imageBytes(image, size, 'grey'), 'g.png');
    expect([grey.channels, grey.bitDepth, Array.from(grey.data)]).toEqual([1, 8, Array.from(image)]);
    const deep = decodeRaster(imageBytes(image, size, 'grey16'), 'g16.png');
    expect([deep.bitDepth, deep.data[5]]).toEqual([16, image[5] * 257]);
    const rgba = decodeRaster(imageBytes(image, size, 'rgba'), 'c.png');
    expect([rgba.channels, rgba.droppedAlpha, rgba.data[3 * 7], rgba.data[3 * 7 + 1]]).toEqual([3, true, image[7], 255 - image[7]]);
    const jpg = decodeRaster(imageBytes(image, size, 'jpeg'), 'j.jpg');
    expect(jpg.channels).toBe(1); // a grey JPEG
    const worst = Math.max(...Array.from(jpg.data, (v, i) => Math.abs(v - image[i])));
    expect(worst).toBeLessThan(40); // lossy at quality 95, but the same picture
  });

  it('reads masks stored as indices, 0/255, palette indices and a colour map to the same classes', () => {
    for (const style of ['indices', 'binary255', 'palette'] as const) {
      expect(Array.from(rasterToLabels(decodeRaster(maskBytes(labels, size, style), 'm.png'), 'm.png').labels), style).toEqual(Array.from(labels));
    }
    const colours = decodeRaster(maskBytes(labels, size, 'colors'), 'm.png');
    expect(() => rasterToLabels(colours, 'm.png')).toThrow(/m.png: an RGB colour-coded mask.*--mask-colors/s);
    expect(Array.from(rasterToLabels(colours, 'm.png', { colors: { '#000000': 0, '255,0,0': 1 } }).labels)).toEqual(Array.from(labels));
    expect(() => rasterToLabels(colours, 'm.png', { colors: { '#000000': 0 } })).toThrow(/1 colour not in the colour map: #ff0000 \(\d+ pixels\)/);
  });

  it('names a 0/128/255 mask and a lossy JPEG mask, and reads them with the option it suggests', () => {
    const three = Uint8Array.from(labels, (v, i) => (v ? 255 : i % 7 === 0 ? 128 : 0));
    const png = decodeRaster(encodePng({ width: size, height: size, data: three, channels: 1, depth: 8 }), 'three.png');
    expect(() => rasterToLabels(png, 'three.png')).toThrow(/mask values 0, 128, 255 are not class indices 0…63: .*--mask-colors '0=0,128=1,255=2'/);
    const mapped = rasterToLabels(png, 'three.png', { colors: { 0: 0, 128: 1, 255: 2 } }).labels;
    expect(Array.from(mapped)).toEqual(Array.from(three, (v) => (v === 255 ? 2 : v === 128 ? 1 : 0)));
    const jpg = decodeRaster(maskBytes(labels, size, 'jpeg'), 'm.jpg');
    expect(() => rasterToLabels(jpg, 'm.jpg')).toThrow(/JPEG masks are lossy/);
    const binary = rasterToLabels(jpg, 'm.jpg', 'binary').labels;
    expect(binary.filter((v, i) => v !== labels[i]).length).toBe(0);
  });

  it('names what a file with a known extension really is', () => {
    expect(() => decodeRaster(new TextEncoder().encode('not an image at all'), 'a.png')).toThrow(/a.png: it is not a PNG or JPEG image \(it holds text\)/);
    const nifti = writeNifti({ shape: [1, 4, 4], data: new Array(16).fill(1), datatype: 'uint8', gzip: true });
    expect(() => decodeRaster(nifti, 'b.png')).toThrow(/b.png: it is not a PNG or JPEG image \(it looks like gzip data\)/);
    const png = imageBytes(image, size, 'grey');
    expect(() => decodeRaster(png.subarray(0, png.length - 30), 'c.png')).toThrow(/c.png: a damaged or truncated PNG/);
  });
});

describe('segloss data check', () => {
  it('counts class frequencies exactly, overall and per image', async () => {
    const dir = tempDir();
    const written = writeImageSet(dir, { count: 5, size: 20, masks: 'binary255', foreground: 0.15 });
    const report = await checkData(dir);
    expect(report.problems).toEqual([]);
    const all = [...written.values()];
    const fg = all.reduce((n, l) => n + l.reduce((a, b) => a + b, 0), 0) / (all.length * 400);
    expect(report.frequencies[1]).toBeCloseTo(fg, 12);
    expect(report.frequencies[0]).toBeCloseTo(1 - fg, 12);
    const perImage = all.map((l) => l.reduce((a, b) => a + b, 0) / 400).sort((a, b) => a - b);
    expect(report.perImage.min[1]).toBeCloseTo(perImage[0], 12);
    expect(report.perImage.max[1]).toBeCloseTo(perImage[4], 12);
    expect(report.perImage.median[1]).toBeCloseTo(perImage[2], 12);
    expect([report.classes, report.channels, report.sizes]).toEqual([2, 1, { '20×20': 5 }]);
  });

  it('lists every problem, each naming its file', async () => {
    const dir = tempDir();
    writeImageSet(dir, { count: 3, size: 16, masks: 'indices' });
    put(join(dir, 'images', 'orphan.png'), imageBytes(new Uint8Array(256), 16, 'grey'));
    put(join(dir, 'masks', 'lonely.png'), maskBytes(new Uint8Array(256), 16, 'indices'));
    put(join(dir, 'images', 'small.png'), imageBytes(new Uint8Array(64), 8, 'grey'));
    put(join(dir, 'masks', 'small.png'), maskBytes(new Uint8Array(256), 16, 'indices'));
    put(join(dir, 'images', 'three.png'), imageBytes(new Uint8Array(256), 16, 'grey'));
    put(join(dir, 'masks', 'three.png'), maskBytes(Uint8Array.from({ length: 256 }, (_, i) => i % 4), 16, 'indices'));
    put(join(dir, 'images', 'empty.png'), new Uint8Array(0));
    put(join(dir, 'masks', 'empty.png'), maskBytes(new Uint8Array(256), 16, 'indices'));
    const report = await checkData(dir, { classes: 2 });
    const found = report.problems.map((p) => `${p.file}: ${p.message}`);
    expect(found).toEqual([
      'images/orphan.png: no mask for this image in masks/ (looked for masks/orphan.png and other extensions)',
      'masks/lonely.png: no image for this mask in images/ (looked for images/lonely.*)',
      'images/empty.png: the file is empty',
      'masks/small.png: the mask is 16×16, its image images/small.png is 8×8',
      'masks/three.png: class values 2, 3 in a 2-class set (classes 0…1)',
    ]);
    const text = formatDataReport(report, dir);
    expect(text).toContain('5 problems:');
    for (const line of found) expect(text).toContain(`  ${line}`);
  });

  it('holds masks to the classes dataset.json names, and walks a folder that links back to itself once', async () => {
    const dir = tempDir();
    writeImageSet(dir, { count: 2, size: 16, masks: 'indices' });
    put(join(dir, 'masks', 'img-001.png'), maskBytes(Uint8Array.from({ length: 256 }, (_, i) => i % 3), 16, 'indices'));
    put(join(dir, 'dataset.json'), JSON.stringify({ labels: { 0: 'background', 1: 'cell' } }));
    symlinkSync(dir, join(dir, 'images', 'loop'));
    const report = await checkData(dir);
    expect(report.classNames).toEqual(['background', 'cell']);
    expect(report.problems.map((p) => `${p.file}: ${p.message}`)).toEqual([
      "masks/img-001.png: class value 2 in a 2-class set (classes 0…1, from dataset.json's labels)",
    ]);
  });

  it('checks NIfTI volumes: shapes of image and label, label values', async () => {
    const dir = tempDir();
    const volume = (d: number, value: (i: number) => number, datatype: 'int16' | 'uint8' | 'float32' = 'int16', spacing?: [number, number, number]) =>
      writeNifti({ shape: [d, 8, 8], data: Array.from({ length: d * 64 }, (_, i) => value(i)), datatype, gzip: true, spacing });
    put(join(dir, 'imagesTr', 'a_0000.nii.gz'), volume(6, (i) => i - 100, 'int16', [2.5, 0.75, 0.75]));
    put(join(dir, 'labelsTr', 'a.nii.gz'), volume(6, (i) => (i % 9 === 0 ? 1 : 0), 'uint8'));
    put(join(dir, 'imagesTr', 'b_0000.nii.gz'), volume(6, (i) => i));
    put(join(dir, 'labelsTr', 'b.nii.gz'), volume(5, () => 0, 'uint8'));
    put(join(dir, 'imagesTr', 'c_0000.nii.gz'), volume(6, (i) => i));
    put(join(dir, 'labelsTr', 'c.nii.gz'), volume(6, (i) => (i === 3 ? 0.5 : 0), 'float32'));
    const report = await checkData(dir);
    expect(report.dims).toBe(3);
    expect(report.problems.map((p) => `${p.file}: ${p.message}`)).toEqual([
      'labelsTr/b.nii.gz: the mask is 8×8×5, its image imagesTr/b_0000.nii.gz is 8×8×6',
      'labelsTr/c.nii.gz: label values must be class indices (integers 0…255), found 0.5',
    ]);
    expect(report.frequencies[1]).toBeCloseTo(Math.ceil(384 / 9) / 384, 12);
    expect(report.spacings).toEqual({ '0.75×0.75×2.5 mm': 1 }); // a's (x×y×z); b and c have problems
    expect(formatDataReport(report, dir)).toContain('voxel spacing: 0.75×0.75×2.5 mm (1)');
  });
});

describe('the training data set', () => {
  it('gives the same batches for the same seed in any order of requests, and other batches for another seed', async () => {
    const dir = tempDir();
    writeImageSet(dir, { count: 10, size: 24, masks: 'binary255', images: 'rgb' });
    const options = { size: 16, augment: { flip: true, rotate90: true, intensity: 0.1 }, seed: 3 };
    const a = (await openDataset(dir, options)).dataset;
    const b = (await openDataset(dir, { ...options, cacheMB: 0 })).dataset; // no cache: every case decoded again
    expect([a.channels, a.classes, a.inputShape, a.train.length, a.validation.length]).toEqual([3, 2, [16, 16, 3], 8, 2]);
    const first = [await a.batch(0, 3), await a.batch(1, 3), await a.batch(7, 3)];
    const again = [await b.batch(7, 3), await b.batch(1, 3), await b.batch(0, 3)].reverse();
    first.forEach((batch, k) => {
      expect(Buffer.from(again[k].images.buffer).equals(Buffer.from(batch.images.buffer)), `batch ${k}`).toBe(true);
      expect(Array.from(again[k].labels)).toEqual(Array.from(batch.labels));
    });
    expect(b.cachedMB).toBe(0);
    const other = (await openDataset(dir, { ...options, seed: 4 })).dataset;
    expect(Buffer.from((await other.batch(0, 3)).images.buffer).equals(Buffer.from(first[0].images.buffer))).toBe(false);
    expect(a.fingerprint).not.toBe(other.fingerprint);
  });

  it('holds out a seeded validation split, or takes val/ when there', async () => {
    const dir = tempDir();
    writeImageSet(dir, { count: 10, size: 16 });
    const [x, y] = [(await openDataset(dir, { size: 16, seed: 1 })).dataset, (await openDataset(dir, { size: 16, seed: 1 })).dataset];
    expect(x.validation.map((p) => p.id)).toEqual(y.validation.map((p) => p.id));
    expect(x.validation.length).toBe(2);
    writeImageSet(dir, { count: 3, size: 16, split: 'val' });
    const z = (await openDataset(dir, { size: 16, seed: 1 })).dataset;
    expect([z.train.length, z.validation.map((p) => p.split)]).toEqual([10, ['val', 'val', 'val']]);
  });

  it('resizes, normalises and augments as the transforms say', async () => {
    const data = Float32Array.from([2, 4, 6, 10]);
    normalizeInPlace(data, 'minmax');
    expect(Array.from(data)).toEqual([0, 0.25, 0.5, 1]);
    const z = Float32Array.from([1, 2, 3, 4, 5]);
    normalizeInPlace(z, 'zscore');
    expect(z.reduce((a, b) => a + b, 0)).toBeCloseTo(0, 6);
    expect(Math.sqrt(z.reduce((a, b) => a + b * b, 0) / 5)).toBeCloseTo(1, 6);
    const ct = Float32Array.from([-2000, -1000, 0, 1000, 3000]);
    normalizeInPlace(ct, { window: [-1000, 1000] });
    expect(Array.from(ct)).toEqual([0, 0, 0.5, 1, 1]);
    // A 2×2 image resized to 4×4 keeps its corners and averages in between (half-pixel centres).
    const up = resizeImage({ shape: [2, 2], channels: 1, data: Float32Array.from([0, 1, 2, 3]), type: '' }, 4, 4);
    expect(Array.from(up.data.subarray(0, 4))).toEqual([0, 0.25, 0.75, 1]);
    // A quarter turn with flips, against the definition on a 3×3 image.
    const src = Float32Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    const labels = Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    const out = new Float32Array(9);
    const outLabels = new Int32Array(9);
    augmentInto(src, labels, [1, 3, 3], [0, 0, 0], [1, 3, 3], 1, { flips: [false, false, true], quarterTurns: 1, scale: 2, shift: 1 }, out, 0, outLabels, 0);
    // Flip x of the output, then source (y, x) = (x', 2 − y') for a counter-clockwise quarter turn.
    const expected = [];
    for (let y = 0; y < 3; y++) for (let x = 0; x < 3; x++) { const xx = 2 - x; expected.push(xx * 3 + (2 - y)); }
    expect(Array.from(outLabels)).toEqual(expected);
    expect(Array.from(out)).toEqual(expected.map((v) => 2 * v + 1));
  });

  it('takes 3D patches centred on foreground as often as asked, from volumes smaller than the patch too', async () => {
    const dir = tempDir();
    for (const id of ['a', 'b', 'c']) {
      const shape = id === 'c' ? [6, 10, 12] : [12, 14, 16];
      const n = shape[0] * shape[1] * shape[2];
      const fg = (i: number) => (i % 97 === 0 ? 1 : 0);
      const spacing = id === 'c' ? [3, 0.8, 0.8] : [1, 1, 1];
      put(join(dir, 'imagesTr', `${id}_0000.nii.gz`), writeNifti({ shape, spacing, data: Array.from({ length: n }, (_, i) => fg(i) * 100 + (i % 13)), datatype: 'int16', gzip: true }));
      put(join(dir, 'labelsTr', `${id}.nii.gz`), writeNifti({ shape, data: Array.from({ length: n }, (_, i) => fg(i)), datatype: 'uint8', gzip: true }));
    }
    const { dataset, report } = await openDataset(dir, { size: 8, positiveRatio: 1, valFraction: 0, seed: 2 });
    expect(formatDataReport(report, dir)).toContain('voxel spacing: 1×1×1 mm (2), 0.8×0.8×3 mm (1): mixed — segloss trains on the voxel grid as stored');
    expect([dataset.dims, dataset.inputShape]).toEqual([3, [8, 8, 8, 1]]);
    for (let step = 0; step < 10; step++) {
      const batch = await dataset.batch(step, 2);
      for (let b = 0; b < 2; b++) expect(batch.labels.subarray(b * 512, (b + 1) * 512).some((v) => v === 1), `step ${step} patch ${b}`).toBe(true);
    }
    const again = (await openDataset(dir, { size: 8, positiveRatio: 1, valFraction: 0, seed: 2 })).dataset;
    expect(Array.from((await again.batch(4, 2)).images)).toEqual(Array.from((await dataset.batch(4, 2)).images));
    const validation = await dataset.validationSet();
    expect(validation.count).toBe(3 * 4);
  });

  it('refuses data with problems, listing them; reads Blobs as a browser would', async () => {
    const dir = tempDir();
    writeImageSet(dir, { count: 2, size: 16 });
    put(join(dir, 'masks', 'stray.png'), maskBytes(new Uint8Array(256), 16, 'indices'));
    await expect(openDataset(dir, { size: 16 })).rejects.toThrow(DataError);
    await expect(openDataset(dir, { size: 16 })).rejects.toThrow(/masks\/stray.png: no image for this mask/);
    const { image, labels } = syntheticPair(16, 1);
    const blobs = filesFromBlobs({ 'images/x.png': new Blob([new Uint8Array(imageBytes(image, 16, 'grey'))]), 'masks/x.png': new Blob([new Uint8Array(maskBytes(labels, 16, 'palette'))]) });
    const report = await checkData(blobs);
    expect([report.problems, report.pairs.train]).toEqual([[], 1]);
  });

  it('reads files from URLs (a local server), and names a URL that fails with its status', async () => {
    const dir = tempDir();
    writeImageSet(dir, { count: 3, size: 16, masks: 'binary255' });
    const server = createServer((request, response) => {
      const path = join(dir, decodeURIComponent(new URL(request.url!, 'http://x').pathname.replace(/^\/data\//, '')));
      if (!existsSync(path)) return void response.writeHead(404, 'Not Found').end();
      response.writeHead(200).end(readFileSync(path));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const base = `http://127.0.0.1:${(server.address() as { port: number }).port}/data/`;
      const names = ['img-000', 'img-001', 'img-002'];
      const files = filesFromUrls(base, names.flatMap((n) => [`images/${n}.png`, `masks/${n}.png`]));
      const fromUrls = await checkData(files);
      const { layoutOf: _l, ...fromDisk } = await checkData(dir);
      const { layoutOf: _m, ...plain } = fromUrls;
      expect(plain).toEqual(fromDisk);
      const missing = await checkData(filesFromUrls(base, ['images/gone.png', 'masks/gone.png']));
      expect(missing.problems.map((p) => `${p.file}: ${p.message}`)).toEqual([
        `images/gone.png: cannot be read (${base}images/gone.png: HTTP 404 Not Found)`,
        `masks/gone.png: cannot be read (${base}masks/gone.png: HTTP 404 Not Found)`,
      ]);
    } finally {
      server.close();
    }
  });
});

// The worker script is a build product (dist/data-worker.js): `npm test` builds first.
const workerScript = new URL('../dist/data-worker.js', import.meta.url);
const built = existsSync(fileURLToPath(workerScript));

describe.skipIf(!built)('decode workers (skipped without the build: dist/data-worker.js)', () => {
  it('give the same batches, bit for bit, as decoding on this thread, in 2D and 3D', async () => {
    const dir = tempDir();
    writeImageSet(dir, { count: 6, size: 24, masks: 'palette', images: 'rgba' });
    const options = { size: 16, augment: { flip: true, rotate90: true, intensity: 0.2 }, cacheMB: 0, seed: 9 };
    const here = (await openDataset(dir, options)).dataset;
    const there = (await openDataset(dir, options)).dataset;
    const workers = decodeWorkers(2, workerScript)!;
    there.useWorkers(workers);
    try {
      for (const step of [0, 3, 5]) {
        const [a, b] = [await here.batch(step, 4), await there.batch(step, 4)];
        expect(Buffer.from(b.images.buffer).equals(Buffer.from(a.images.buffer)), `step ${step}`).toBe(true);
        expect(Buffer.from(b.labels.buffer).equals(Buffer.from(a.labels.buffer))).toBe(true);
      }
      const volumes = tempDir();
      for (const id of ['a', 'b']) {
        const data = Array.from({ length: 6 * 10 * 12 }, (_, i) => (i % 11 === 0 ? 1 : 0));
        put(join(volumes, 'imagesTr', `${id}_0000.nii.gz`), writeNifti({ shape: [6, 10, 12], data: data.map((v, i) => 50 * v + (i % 5)), datatype: 'int16', gzip: true }));
        put(join(volumes, 'labelsTr', `${id}.nii.gz`), writeNifti({ shape: [6, 10, 12], data, datatype: 'uint8', gzip: true }));
      }
      const v1 = (await openDataset(volumes, { size: 8, cacheMB: 0, valFraction: 0 })).dataset;
      const v2 = (await openDataset(volumes, { size: 8, cacheMB: 0, valFraction: 0 })).dataset;
      v2.useWorkers(workers);
      expect(Array.from((await v2.batch(1, 2)).images)).toEqual(Array.from((await v1.batch(1, 2)).images));
    } finally {
      await workers.close();
    }
  });

  it('name a file that fails in the worker as on this thread', async () => {
    const dir = tempDir();
    writeImageSet(dir, { count: 3, size: 16 });
    const { dataset } = await openDataset(dir, { size: 16, cacheMB: 0, valFraction: 0 });
    const workers = decodeWorkers(1, workerScript)!;
    dataset.useWorkers(workers);
    try {
      put(join(dir, 'images', 'img-001.png'), 'replaced by text after the check');
      await expect(dataset.batch(0, 3)).rejects.toThrow(/images\/img-001.png: it is not a PNG or JPEG image/);
    } finally {
      await workers.close();
    }
  });
});
