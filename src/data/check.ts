/**
 * The data check (`segloss data check DIR`, and `segloss train --data` before it trains): reads
 * every pair once and reports what a user needs before training — how many pairs, their sizes and
 * file types, the classes present and **their frequencies** (the imbalance, overall and per image:
 * the study's subject) — and every problem, each naming its file. Problems never stop the check:
 * it goes on to the end, so one run lists them all.
 */
import type { DataLayout, Split } from './layout.js';
import { median } from '../report/series.js';
import { loadSample, problemsOf, type LoadedSample } from './load.js';
import type { MaskConvention } from './masks.js';
import { shapeText, type DataProblem } from './types.js';

/** How a data check reads masks, how many classes it expects, and where it reports progress. */
export interface DataCheckOptions {
  masks?: MaskConvention;
  /** The declared number of classes: label values from this up are problems. */
  classes?: number;
  /** After each pair: done of total. */
  onProgress?: (done: number, total: number, file: string) => void;
}

/** One checked pair of a DataReport: its id, split, file paths, size, channels and class fractions. */
export interface ImageSummary {
  id: string;
  split: Split;
  image: string;
  mask: string | null;
  /** width×height or x×y×z. */
  size: string;
  channels: number;
  /** Per class, the fraction of its pixels (null for test images). */
  frequencies: number[] | null;
}

/**
 * What a data check found: pairs per split, sizes, file types, channels, classes and their frequencies
 * (overall and per image), a summary of each image, every problem by file, and the files it ignored.
 */
export interface DataReport {
  dims: 2 | 3;
  layout: DataLayout['kind'];
  pairs: Record<Split, number>;
  /** Distinct sizes (width×height, x×y×z) → count of images. */
  sizes: Record<string, number>;
  /** 3D: distinct voxel spacings (x×y×z mm) → count of volumes. segloss trains on the voxel grid as stored, so mixed spacings are worth knowing. */
  spacings: Record<string, number>;
  /** File types → count ('png 8-bit grey', 'nifti-1 int16'), images and masks apart. */
  imageTypes: Record<string, number>;
  maskTypes: Record<string, number>;
  /** The model's input channels: the most any image has (grey images are repeated into RGB ones' three). */
  channels: number;
  /** Declared (option or dataset.json), or the largest class present + 1 (at least 2). */
  classes: number;
  classNames?: string[];
  /** The classes that occur in some mask. */
  classesPresent: number[];
  /** Per class, its fraction of all labelled pixels. */
  frequencies: number[];
  /** Per class, over the labelled images: the smallest, median and largest per-image fraction. */
  perImage: { min: number[]; median: number[]; max: number[] };
  images: ImageSummary[];
  problems: DataProblem[];
  ignored: string[];
}

const tally = (into: Record<string, number>, key: string) => { into[key] = (into[key] ?? 0) + 1; };

/** Checks every pair of `layout`; the report lists what was found and every problem. */
export async function checkDataset(layout: DataLayout, options: DataCheckOptions = {}): Promise<DataReport> {
  const problems: DataProblem[] = [...layout.problems];
  const pairs: Record<Split, number> = { train: 0, val: 0, test: 0 };
  const sizes: Record<string, number> = {};
  const spacings: Record<string, number> = {};
  const imageTypes: Record<string, number> = {};
  const maskTypes: Record<string, number> = {};
  const images: ImageSummary[] = [];
  const counts: number[] = [];
  let channels = 0;
  const channelFiles = new Map<number, string>();
  let done = 0;
  // The classes a user declared, or dataset.json named: values from there up are problems.
  const declared = options.classes ?? (layout.classNames?.length || undefined);
  for (const pair of layout.pairs) {
    let sample: LoadedSample | null = null;
    try {
      sample = await loadSample(pair, options.masks);
    } catch (error) {
      problems.push(...problemsOf(error, pair.images[0].path));
    }
    options.onProgress?.(++done, layout.pairs.length, pair.images[0].path);
    if (!sample) continue;
    pairs[pair.split]++;
    const size = shapeText(sample.image.shape);
    tally(sizes, size);
    if (sample.image.spacing) tally(spacings, `${[...sample.image.spacing].reverse().map((v) => +v.toPrecision(4)).join('×')} mm`);
    tally(imageTypes, sample.image.type);
    if (sample.labels) tally(maskTypes, sample.labels.type);
    if (!channelFiles.has(sample.image.channels)) channelFiles.set(sample.image.channels, pair.images[0].path);
    channels = Math.max(channels, sample.image.channels);
    let frequencies: number[] | null = null;
    if (sample.labels) {
      const own: number[] = [];
      for (const v of sample.labels.labels) own[v] = (own[v] ?? 0) + 1;
      const n = sample.labels.labels.length;
      frequencies = Array.from(own, (c) => (c ?? 0) / n);
      own.forEach((c, k) => { counts[k] = (counts[k] ?? 0) + (c ?? 0); });
      if (declared != null) {
        const outside = own.map((c, k) => (c ? k : -1)).filter((k) => k >= declared);
        if (outside.length > 0) {
          problems.push({
            code: 'class-values', file: pair.mask!.path,
            message: `class value${outside.length > 1 ? 's' : ''} ${outside.join(', ')} in a ${declared}-class set (classes 0…${declared - 1}${options.classes == null ? ', from dataset.json\'s labels' : ''})`,
          });
        }
      }
    }
    images.push({ id: pair.id, split: pair.split, image: pair.images[0].path, mask: pair.mask?.path ?? null, size, channels: sample.image.channels, frequencies });
  }
  // 3D: every case needs the same modalities; 2D: grey and RGB images mix (grey is repeated into three channels).
  if (layout.dims === 3 && channelFiles.size > 1) {
    const list = [...channelFiles].map(([c, f]) => `${c} (${f})`).join(', ');
    problems.push({ code: 'channels', file: [...channelFiles.values()][0], message: `cases have different numbers of channels: ${list}` });
  }
  const present = counts.map((c, k) => (c ? k : -1)).filter((k) => k >= 0);
  const classes = declared ?? Math.max(2, (present[present.length - 1] ?? 0) + 1);
  const total = counts.reduce((a, b) => a + (b ?? 0), 0);
  const frequencies = Array.from({ length: classes }, (_, k) => (total ? (counts[k] ?? 0) / total : 0));
  const labelled = images.filter((i) => i.frequencies);
  const per = (k: number) => labelled.map((i) => i.frequencies![k] ?? 0);
  const perImage = {
    min: frequencies.map((_, k) => (labelled.length ? per(k).reduce((a, b) => Math.min(a, b), 1) : 0)),
    median: frequencies.map((_, k) => (labelled.length ? median(per(k)) : 0)),
    max: frequencies.map((_, k) => per(k).reduce((a, b) => Math.max(a, b), 0)),
  };
  return {
    dims: layout.dims, layout: layout.kind, pairs, sizes, spacings, imageTypes, maskTypes, channels: Math.max(channels, 1), classes,
    classNames: layout.classNames, classesPresent: present, frequencies, perImage, images, problems, ignored: layout.ignored,
  };
}

const percent = (f: number) => (f === 0 ? '0%' : f < 0.0001 ? '<0.01%' : `${(100 * f).toFixed(f < 0.1 ? 2 : 1)}%`);

/** The report as the CLI prints it: a summary, then each problem on its own line naming its file. */
export function formatDataReport(report: DataReport, root: string): string {
  const lines: string[] = [];
  const { pairs } = report;
  const kinds = Object.entries(report.sizes).sort((a, b) => b[1] - a[1]);
  lines.push(`${root}: ${report.dims}D, ${report.layout === 'decathlon' ? 'Decathlon / nnU-Net layout' : report.layout === 'manifest' ? 'a manifest' : 'images/ + masks/'}; `
    + `${pairs.train} training pair${pairs.train === 1 ? '' : 's'}${pairs.val ? `, ${pairs.val} validation` : ''}${pairs.test ? `, ${pairs.test} test image${pairs.test === 1 ? '' : 's'} (no labels)` : ''}`);
  lines.push(`  sizes: ${kinds.slice(0, 6).map(([s, n]) => `${s} (${n})`).join(', ')}${kinds.length > 6 ? `, … (${kinds.length} sizes)` : ''}`);
  const spacings = Object.entries(report.spacings).sort((a, b) => b[1] - a[1]);
  if (spacings.length) {
    lines.push(`  voxel spacing: ${spacings.slice(0, 4).map(([s, n]) => `${s} (${n})`).join(', ')}${spacings.length > 4 ? `, … (${spacings.length} spacings)` : ''}`
      + (spacings.length > 1 ? ': mixed — segloss trains on the voxel grid as stored (no resampling)' : ''));
  }
  lines.push(`  images: ${Object.entries(report.imageTypes).map(([t, n]) => `${t} (${n})`).join(', ') || 'none readable'}; ${report.channels} channel${report.channels > 1 ? 's' : ''}`);
  if (Object.keys(report.maskTypes).length) lines.push(`  masks: ${Object.entries(report.maskTypes).map(([t, n]) => `${t} (${n})`).join(', ')}`);
  const name = (k: number) => (report.classNames?.[k] ? `${k} ${report.classNames[k]}` : `${k}`);
  lines.push(`  classes: ${report.classes} (present: ${report.classesPresent.join(', ') || 'none'})`);
  lines.push('  class frequencies (of all labelled pixels; per image: min / median / max):');
  report.frequencies.forEach((f, k) => {
    lines.push(`    ${name(k).padEnd(14)} ${percent(f).padStart(7)}   per image ${percent(report.perImage.min[k])} / ${percent(report.perImage.median[k])} / ${percent(report.perImage.max[k])}`);
  });
  const minority = report.frequencies.reduce((m, f, k) => (f > 0 && f < report.frequencies[m] ? k : m), 0);
  if (report.frequencies[minority] > 0 && report.frequencies[minority] < 0.1) {
    lines.push(`  imbalance: class ${name(minority)} is ${percent(report.frequencies[minority])} of the pixels — the setting where the loss matters (see segloss's study)`);
  }
  if (report.ignored.length) lines.push(`  ignored: ${report.ignored.length} other file${report.ignored.length > 1 ? 's' : ''} (${report.ignored.slice(0, 3).join(', ')}${report.ignored.length > 3 ? ', …' : ''})`);
  if (report.problems.length === 0) {
    lines.push('no problems found');
  } else {
    lines.push(`${report.problems.length} problem${report.problems.length > 1 ? 's' : ''}:`);
    for (const p of report.problems) lines.push(`  ${p.file}: ${p.message}`);
  }
  return lines.join('\n');
}
