/**
 * Which files make a data set: pairs of image and mask found by the layouts people use, from a list
 * of paths (a folder in Node, a dropped folder or a FileList in a browser: see sources.ts), so the
 * rules are one pure function, the same everywhere.
 *
 * - **2D, Keras / smp**: `images/` and `masks/` (or `labels/`), matched by path without extension
 *   (`images/a/x.png` ↔ `masks/a/x.png`; a mask may add `_mask`: `x_mask.png`). A validation split
 *   in `val/images` + `val/masks` (or `validation/`), the training split then at the root or in `train/`.
 * - **3D, Medical Segmentation Decathlon / nnU-Net**: `imagesTr/` + `labelsTr/` of `.nii`/`.nii.gz`;
 *   nnU-Net's channel suffix (`case_0000.nii.gz`, `case_0001.nii.gz`: the channels of one case);
 *   `imagesVal/` + `labelsVal/` when present; `imagesTs/` (no labels) is listed, not trained on.
 *   `dataset.json`'s `labels` (either version's form) names the classes.
 * - **A manifest**: `manifest.csv` (columns image, mask or label, and optional split: train, val,
 *   test) or `manifest.json` (`[{ image, mask, split? }]`, or the Decathlon's `{ training: [{ image,
 *   label }], validation?, test? }`), paths relative to the manifest.
 *
 * Hidden files and `__MACOSX/` are ignored; a file of an image format segloss does not read (TIFF,
 * BMP, DICOM, …) in an image folder is a problem that says so.
 */
import { parse as parseCsv } from 'csv-parse/browser/esm/sync';
import type { DataProblem } from './types.js';

/** One file of a data set, wherever it lives. */
export interface DataFile {
  /** Relative to the data set's root, '/'-separated. */
  path: string;
  /** Bytes, when known without reading. */
  size?: number;
  /** Where the file is on disk, when it is (Node): decode workers read it there themselves. */
  fsPath?: string;
  /** The file's bytes. */
  read(): Promise<Uint8Array>;
}

/** Which split a pair belongs to: training, validation, or test (images without labels). */
export type Split = 'train' | 'val' | 'test';

/** One sample: its image file(s) (one per channel for nnU-Net's `_0000` suffixes) and its mask. */
export interface SamplePair {
  /** The case's name: the path without folder and extension (`x`, `sub/x`, `la_003`). */
  id: string;
  images: DataFile[];
  /** null for test images (imagesTs/, split test). */
  mask: DataFile | null;
  split: Split;
}

/**
 * The pairs discoverLayout found in a list of files: 2D or 3D, by which layout (images/ + masks/, the
 * Decathlon / nnU-Net folders or a manifest), and the problems found while pairing them.
 */
export interface DataLayout {
  dims: 2 | 3;
  kind: 'folders' | 'decathlon' | 'manifest';
  pairs: SamplePair[];
  problems: DataProblem[];
  /** Class names from dataset.json, index = class. */
  classNames?: string[];
  /** Files of no role (documentation, other formats), for the summary. */
  ignored: string[];
}

const IMAGE_2D = /\.(png|jpe?g)$/i;
const VOLUME = /\.nii(\.gz)?$/i;
const UNSUPPORTED = /\.(tiff?|bmp|gif|webp|dcm|mha|mhd|nrrd|npy|npz|h5)$/i;
const HIDDEN = /(^|\/)(\.|__MACOSX\/|Thumbs\.db$|desktop\.ini$)/;

const stripExtension = (name: string) => name.replace(/\.nii\.gz$/i, '').replace(/\.[^./]+$/, '');

function unsupported(path: string): DataProblem {
  const ext = /\.([^.]+)$/.exec(path)?.[1] ?? '';
  return { code: 'unreadable', file: path, message: `${ext.toUpperCase()} is not a format segloss reads: convert it to PNG or JPEG (2D) or NIfTI (3D)` };
}

function byPath(files: DataFile[]): Map<string, DataFile> {
  return new Map(files.map((f) => [f.path, f]));
}

/** Files directly or deeply under `folder/` (relative paths inside it). */
function under(files: DataFile[], folder: string): DataFile[] {
  const prefix = `${folder}/`;
  return files.filter((f) => f.path.startsWith(prefix));
}

function folderExists(files: DataFile[], folder: string): boolean {
  return files.some((f) => f.path.startsWith(`${folder}/`));
}

/** Pairs images/ with masks/ (2D) by path without extension; the mask may add `_mask`. */
function pairFolders(files: DataFile[], imageDir: string, maskDir: string, split: Split, problems: DataProblem[], ignored: string[]): SamplePair[] {
  const images = new Map<string, DataFile>();
  const masks = new Map<string, DataFile>();
  const collect = (dir: string, into: Map<string, DataFile>, isMask: boolean) => {
    for (const f of under(files, dir)) {
      const rel = f.path.slice(dir.length + 1);
      if (UNSUPPORTED.test(rel)) {
        problems.push(unsupported(f.path));
        continue;
      }
      if (!IMAGE_2D.test(rel) && !VOLUME.test(rel)) {
        ignored.push(f.path);
        continue;
      }
      let key = stripExtension(rel);
      if (isMask) key = key.replace(/[_-](mask|label|labels|gt)$/i, '');
      const other = into.get(key);
      if (other) {
        problems.push({ code: 'duplicate', file: f.path, message: `two files for ${isMask ? 'the mask' : 'the image'} '${key}': ${other.path} and ${f.path}` });
        continue;
      }
      into.set(key, f);
    }
  };
  collect(imageDir, images, false);
  collect(maskDir, masks, true);
  const pairs: SamplePair[] = [];
  for (const [key, image] of images) {
    const mask = masks.get(key);
    if (!mask) problems.push({ code: 'missing-mask', file: image.path, message: `no mask for this image in ${maskDir}/ (looked for ${maskDir}/${key}.png and other extensions)` });
    else pairs.push({ id: key, images: [image], mask, split });
  }
  for (const [key, mask] of masks) {
    if (!images.has(key)) problems.push({ code: 'missing-image', file: mask.path, message: `no image for this mask in ${imageDir}/ (looked for ${imageDir}/${key}.*)` });
  }
  return pairs;
}

/** imagesTr/ + labelsTr/ (and Val, Ts): cases grouped by nnU-Net's `_0000` channel suffix. */
function pairDecathlon(files: DataFile[], imageDir: string, labelDir: string | null, split: Split, problems: DataProblem[], ignored: string[]): SamplePair[] {
  const cases = new Map<string, Map<number, DataFile>>();
  for (const f of under(files, imageDir)) {
    const rel = f.path.slice(imageDir.length + 1);
    if (!VOLUME.test(rel)) {
      if (UNSUPPORTED.test(rel) || IMAGE_2D.test(rel)) problems.push(unsupported(f.path));
      else ignored.push(f.path);
      continue;
    }
    const base = stripExtension(rel);
    const m = /^(.*)_(\d{4})$/.exec(base);
    const [id, channel] = m ? [m[1], Number(m[2])] : [base, 0];
    const channels = cases.get(id) ?? new Map<number, DataFile>();
    if (channels.has(channel)) {
      problems.push({ code: 'duplicate', file: f.path, message: `two files for case '${id}' channel ${channel}: ${channels.get(channel)!.path} and ${f.path}` });
      continue;
    }
    channels.set(channel, f);
    cases.set(id, channels);
  }
  const labels = new Map<string, DataFile>();
  if (labelDir) {
    for (const f of under(files, labelDir)) {
      const rel = f.path.slice(labelDir.length + 1);
      if (!VOLUME.test(rel)) {
        ignored.push(f.path);
        continue;
      }
      labels.set(stripExtension(rel), f);
    }
  }
  const pairs: SamplePair[] = [];
  for (const [id, channels] of cases) {
    const order = [...channels.keys()].sort((a, b) => a - b);
    const gap = order.findIndex((c, k) => c !== k);
    if (gap >= 0) {
      problems.push({ code: 'missing-image', file: channels.get(order[gap])!.path, message: `case '${id}' has channels ${order.map((c) => `_${String(c).padStart(4, '0')}`).join(', ')}: channel _${String(gap).padStart(4, '0')} is missing` });
      continue;
    }
    const images = order.map((c) => channels.get(c)!);
    if (!labelDir) {
      pairs.push({ id, images, mask: null, split });
      continue;
    }
    const mask = labels.get(id);
    if (!mask) problems.push({ code: 'missing-mask', file: images[0].path, message: `no label volume for case '${id}' in ${labelDir}/ (looked for ${labelDir}/${id}.nii.gz)` });
    else pairs.push({ id, images, mask, split });
  }
  for (const [id, label] of labels) {
    if (!cases.has(id)) problems.push({ code: 'missing-image', file: label.path, message: `no image for this label volume in ${imageDir}/ (looked for ${imageDir}/${id}_0000.nii.gz or ${id}.nii.gz)` });
  }
  return pairs;
}

function parseSplit(value: unknown, file: string, line: number, problems: DataProblem[]): Split | null {
  const s = String(value ?? 'train').trim().toLowerCase();
  if (s === '' || s === 'train' || s === 'training') return 'train';
  if (s === 'val' || s === 'valid' || s === 'validation') return 'val';
  if (s === 'test') return 'test';
  problems.push({ code: 'manifest', file, message: `line ${line}: split '${String(value)}' is not train, val or test` });
  return null;
}

/** Entries of a manifest: CSV (header image,mask|label[,split]) or JSON (a list, or the Decathlon's dataset.json). */
function manifestEntries(text: string, file: string, problems: DataProblem[]): { image: string; mask: string | null; split: Split; line: number }[] {
  const out: { image: string; mask: string | null; split: Split; line: number }[] = [];
  if (/\.json$/i.test(file)) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      problems.push({ code: 'manifest', file, message: `not JSON: ${(error as Error).message}` });
      return out;
    }
    const lists: [unknown, Split][] = Array.isArray(json)
      ? [[json, 'train']]
      : [[(json as Record<string, unknown>).training, 'train'], [(json as Record<string, unknown>).validation, 'val'], [(json as Record<string, unknown>).test, 'test']];
    for (const [list, split] of lists) {
      if (list == null) continue;
      if (!Array.isArray(list)) {
        problems.push({ code: 'manifest', file, message: `'${split === 'train' ? 'training' : split === 'val' ? 'validation' : 'test'}' is not a list` });
        continue;
      }
      list.forEach((entry, k) => {
        // The Decathlon's test list holds bare paths.
        const e = (typeof entry === 'string' ? { image: entry } : entry) as Record<string, unknown>;
        const image = e?.image;
        const mask = e?.mask ?? e?.label ?? null;
        const s = e?.split != null ? parseSplit(e.split, file, k + 1, problems) : split;
        if (typeof image !== 'string' || (mask != null && typeof mask !== 'string')) {
          problems.push({ code: 'manifest', file, message: `entry ${k + 1}: needs "image" and "mask" (or "label") paths, got ${JSON.stringify(entry).slice(0, 120)}` });
          return;
        }
        if (s) out.push({ image, mask: mask as string | null, split: s, line: k + 1 });
      });
    }
    return out;
  }
  let rows: Record<string, string>[];
  try {
    rows = parseCsv(text, { columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()), skip_empty_lines: true, trim: true });
  } catch (error) {
    problems.push({ code: 'manifest', file, message: `not CSV: ${(error as Error).message}` });
    return out;
  }
  rows.forEach((row, k) => {
    const image = row.image;
    const mask = row.mask ?? row.label ?? '';
    const s = parseSplit(row.split, file, k + 2, problems);
    if (!image || (!mask && s !== 'test')) {
      problems.push({ code: 'manifest', file, message: `line ${k + 2}: needs an image and a mask (columns image, mask or label, optional split), got ${JSON.stringify(row).slice(0, 120)}` });
      return;
    }
    if (s) out.push({ image, mask: mask || null, split: s, line: k + 2 });
  });
  return out;
}

const normalise = (base: string, path: string) => {
  const parts: string[] = base ? base.split('/') : [];
  for (const p of path.replace(/\\/g, '/').split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') parts.pop();
    else parts.push(p);
  }
  return parts.join('/');
};

async function fromManifest(files: DataFile[], manifest: DataFile, problems: DataProblem[]): Promise<SamplePair[]> {
  const text = new TextDecoder().decode(await manifest.read());
  const base = manifest.path.includes('/') ? manifest.path.slice(0, manifest.path.lastIndexOf('/')) : '';
  const all = byPath(files);
  const pairs: SamplePair[] = [];
  const seen = new Set<string>();
  for (const entry of manifestEntries(text, manifest.path, problems)) {
    const imagePath = normalise(base, entry.image);
    const maskPath = entry.mask ? normalise(base, entry.mask) : null;
    const image = all.get(imagePath);
    const mask = maskPath ? all.get(maskPath) : null;
    if (!image) {
      problems.push({ code: 'missing-image', file: imagePath, message: `listed in ${manifest.path} (line ${entry.line}) but not there` });
      continue;
    }
    if (maskPath && !mask) {
      problems.push({ code: 'missing-mask', file: maskPath, message: `listed in ${manifest.path} (line ${entry.line}) as ${imagePath}'s mask but not there` });
      continue;
    }
    if (seen.has(imagePath)) {
      problems.push({ code: 'duplicate', file: imagePath, message: `listed twice in ${manifest.path}` });
      continue;
    }
    seen.add(imagePath);
    if (UNSUPPORTED.test(imagePath)) {
      problems.push(unsupported(imagePath));
      continue;
    }
    pairs.push({ id: stripExtension(imagePath.replace(/^.*\//, '')), images: [image], mask: mask ?? null, split: entry.split });
  }
  return pairs;
}

/** Class names from a Decathlon (`{"0": "background"}`) or nnU-Net v2 (`{"background": 0}`) dataset.json. */
function classNamesOf(json: unknown): string[] | undefined {
  const labels = (json as { labels?: Record<string, unknown> })?.labels;
  if (labels == null || typeof labels !== 'object') return undefined;
  const names: string[] = [];
  for (const [k, v] of Object.entries(labels)) {
    if (/^\d+$/.test(k) && typeof v === 'string') names[Number(k)] = v;
    else if (typeof v === 'number' && Number.isInteger(v)) names[v] = k;
  }
  return names.length > 0 && names.every((n) => typeof n === 'string') ? names : undefined;
}

/**
 * Finds the data set's pairs in `files` (paths relative to its root). `manifest` names a manifest
 * file among them (default: manifest.csv or manifest.json at the root, when there).
 */
export async function discoverLayout(allFiles: DataFile[], options: { manifest?: string } = {}): Promise<DataLayout> {
  const files = allFiles.filter((f) => !HIDDEN.test(f.path)).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const problems: DataProblem[] = [];
  const ignored: string[] = [];
  const at = byPath(files);
  const manifestPath = options.manifest ?? ['manifest.csv', 'manifest.json'].find((p) => at.has(p));
  let classNames: string[] | undefined;
  const datasetJson = at.get('dataset.json');
  let decathlonJson: unknown;
  if (datasetJson) {
    try {
      decathlonJson = JSON.parse(new TextDecoder().decode(await datasetJson.read()));
      classNames = classNamesOf(decathlonJson);
    } catch (error) {
      problems.push({ code: 'manifest', file: 'dataset.json', message: `not JSON: ${(error as Error).message}` });
    }
  }
  const result = (kind: DataLayout['kind'], pairs: SamplePair[]): DataLayout => {
    if (pairs.length === 0 && !problems.some((p) => p.code !== 'unreadable')) {
      problems.unshift({ code: 'empty-folder', file: '.', message: 'no image with its mask found' });
    }
    const dims = pairs.some((p) => VOLUME.test(p.images[0].path)) || kind === 'decathlon' ? 3 : 2;
    return { dims, kind, pairs, problems, classNames, ignored };
  };
  if (manifestPath) {
    const manifest = at.get(manifestPath);
    if (!manifest) {
      problems.push({ code: 'manifest', file: manifestPath, message: 'the manifest is not there' });
      return result('manifest', []);
    }
    return result('manifest', await fromManifest(files, manifest, problems));
  }
  if (folderExists(files, 'imagesTr')) {
    if (!folderExists(files, 'labelsTr')) problems.push({ code: 'missing-mask', file: 'labelsTr', message: 'imagesTr/ is here but labelsTr/ is not' });
    const pairs = [
      ...pairDecathlon(files, 'imagesTr', folderExists(files, 'labelsTr') ? 'labelsTr' : null, 'train', problems, ignored)
        .filter((p) => p.mask != null),
      ...(folderExists(files, 'imagesVal') ? pairDecathlon(files, 'imagesVal', 'labelsVal', 'val', problems, ignored) : []),
      ...(folderExists(files, 'imagesTs') ? pairDecathlon(files, 'imagesTs', null, 'test', problems, ignored) : []),
    ];
    return result('decathlon', pairs);
  }
  const valRoot = ['val', 'validation'].find((d) => folderExists(files, `${d}/images`));
  const trainRoot = folderExists(files, 'images') ? '' : folderExists(files, 'train/images') ? 'train' : null;
  if (trainRoot != null) {
    const join = (root: string, dir: string) => (root ? `${root}/${dir}` : dir);
    const maskDir = (root: string) => ['masks', 'labels'].map((d) => join(root, d)).find((d) => folderExists(files, d)) ?? join(root, 'masks');
    const pairs = pairFolders(files, join(trainRoot, 'images'), maskDir(trainRoot), 'train', problems, ignored);
    if (valRoot) pairs.push(...pairFolders(files, `${valRoot}/images`, maskDir(valRoot), 'val', problems, ignored));
    return result('folders', pairs);
  }
  if (files.length === 0) {
    problems.push({ code: 'empty-folder', file: '.', message: 'the folder is empty' });
    return { dims: 2, kind: 'folders', pairs: [], problems, ignored };
  }
  const top = [...new Set(files.map((f) => f.path.split('/')[0] + (f.path.includes('/') ? '/' : '')))].slice(0, 8);
  problems.push({
    code: 'no-layout', file: '.',
    message: `no data set layout here (found ${top.join(', ')}${top.length === 8 ? ', …' : ''}): segloss reads images/ + masks/ (2D), imagesTr/ + labelsTr/ (3D, NIfTI) or a manifest.csv / manifest.json`,
  });
  return { dims: 2, kind: 'folders', pairs: [], problems, ignored };
}
