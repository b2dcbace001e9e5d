/**
 * The demo's "Train a U-Net in this tab": the form, a worker of web/unet_worker.ts (kept while its
 * thread count stays the same), live curves (vega-lite, as the report draws its figures) and the
 * predictions on validation images over their labels. Also `unetBench`, the U-Net step benchmark
 * in a fresh worker (scripts/bench-browser.mjs --unet).
 *
 * Your own images: a folder dropped on the section (its entries walked, webkitGetAsEntry) or chosen
 * with <input webkitdirectory>, laid out as `segloss train --data` reads it (images/ + masks/,
 * optionally val/images/ + val/masks/). The worker checks it (`segloss data check`: the summary and
 * every problem by file, shown here; Train stays off while there is a problem), shows a training
 * batch as the model gets it, and trains on it (UNetTrainer.open with the File objects, which the
 * worker reads locally: nothing is uploaded).
 */
import * as Comlink from 'comlink';
import { specToSvg } from '../src/report/render.js';
import { movingAverage } from '../src/report/series.js';
import { TRAIN_LOSS_NAMES } from '../src/models/loss_names.js';
import type { UNetTrainingInput, UNetTrainingOptions } from '../src/models/index.js';
import type { UNetBenchRow } from '../src/bench/unet.js';
import type { Augmentation, Batch, DataReport, DatasetOptions } from '../src/data/api.js';
// sources.ts alone (not all of segloss/data's api.ts): the page only lists files; the worker decodes them.
import { filesFromFileList } from '../src/data/sources.js';
import type { FolderFile, UNetTrainResult, UNetUpdate, UNetWorkerApi, UNetWorkerInfo } from './unet_train.js';

const unetWorkerUrl = new URL('./unet-worker.js', import.meta.url);
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const SERIES = ['training loss', 'validation Dice (foreground)', 'validation accuracy'];
const COLORS = ['#1f77b4', '#2ca02c', '#7f7f7f'];
const DRAW_EVERY_MS = 400;
const PREVIEW_IMAGES = 4;
/** Predicted classes 1, 2, … tinted in these colours (cycling); label outlines are green. */
const CLASS_TINTS = [[230, 40, 40], [40, 90, 230], [240, 160, 20], [160, 60, 200], [20, 170, 170]];
const OUTLINE = [40, 210, 70];
/** The seed of the model's initial weights, the batches' order and the augmentation. */
const SEED = 0;
/** The form's "augment": segloss/data's random flips, quarter turns and ±10% intensity scale and shift. */
const AUGMENTATION: Augmentation = { flip: true, rotate90: true, intensity: 0.1 };

/** A folder of the user's images, as checked by the worker. */
interface LoadedFolder {
  /** The folder's name: the run's data.path (a browser has no path to give). */
  name: string;
  files: FolderFile[];
  report: DataReport;
  /** The data check as `segloss data check` prints it. */
  summary: string;
}

interface UNetWorker {
  worker: Worker;
  api: Comlink.Remote<UNetWorkerApi>;
  info: UNetWorkerInfo;
}

const unet = {
  current: null as UNetWorker | null,
  running: false,
  /** Trainings ended (done, stopped or failed): the tests wait on it. */
  ended: 0,
  losses: [] as { step: number; loss: number }[],
  evals: [] as { step: number; accuracy: number; dice: number }[],
  stepMs: [] as number[],
  lastDraw: 0,
  lossName: '',
  /** The options of the last training, as the worker read them (defaults filled in). */
  options: null as UNetTrainingOptions | null,
  /** What the last training's trainer said about its threads. */
  notices: [] as string[],
  /** The last result, for the tests: the run's end and the tensors live after each step. */
  result: null as (UNetTrainResult & { numTensors: number[] }) | null,
  /** The user's folder once checked (null: the synthetic shapes). */
  data: null as LoadedFolder | null,
  /** A folder is being read or checked. */
  checking: false,
  /** Folders loaded (checked, or failed to): the tests wait on it. */
  dataLoads: 0,
  /** For the tests: training batches `steps` of the loaded folder with the form's options, and those options. */
  batches: (steps: number[], batchSize: number) => folderBatches(steps, batchSize),
};

async function startWorker(): Promise<UNetWorker> {
  const worker = new Worker(unetWorkerUrl, { type: 'module', name: 'segloss-unet' });
  const api = Comlink.wrap<UNetWorkerApi>(worker);
  try {
    const info = await api.init();
    return { worker, api, info };
  } catch (error) {
    api[Comlink.releaseProxy]();
    worker.terminate();
    throw error;
  }
}

function stopWorker(): void {
  if (!unet.current) return;
  unet.current.api[Comlink.releaseProxy]();
  unet.current.worker.terminate();
  unet.current = null;
}

/** The page's U-Net worker (started once; again after a failure). */
async function trainingWorker(): Promise<UNetWorker> {
  unet.current ??= await startWorker();
  return unet.current;
}

/** The form's thread count (undefined: the cores there are; the worker checks it). */
function formThreads(): number | undefined {
  const threadsText = $<HTMLInputElement>('unet-threads').value.trim();
  return threadsText === '' ? undefined : Number(threadsText);
}

const augmentation = (): Augmentation | undefined => ($<HTMLInputElement>('unet-augment').checked ? AUGMENTATION : undefined);

/** The form's options (with the loaded folder as data), or an Error naming the bad field (the worker validates the rest). */
function formOptions(): UNetTrainingInput {
  const num = (id: string) => Number(($(id) as HTMLInputElement).value);
  const filtersText = $<HTMLInputElement>('unet-filters').value;
  const filters = filtersText.split(/[\s,]+/).filter(Boolean).map(Number);
  if (!filters.length || filters.some((f) => !Number.isInteger(f) || f < 1)) {
    throw new Error(`Filters per level: positive integers separated by commas, e.g. "8, 16, 32"; got "${filtersText}"`);
  }
  const steps = num('unet-steps');
  const options: UNetTrainingInput = {
    imageSize: num('unet-size'), filters, loss: $<HTMLSelectElement>('unet-loss').value as UNetTrainingInput['loss'],
    foreground: num('unet-fg'), steps, batchSize: num('unet-batch'), learningRate: num('unet-lr'),
    batchNorm: $<HTMLInputElement>('unet-bn').checked, trainImages: 64, validationImages: 8,
    evalEvery: Math.max(1, Math.round(steps / 20)), seed: SEED,
  };
  const threads = formThreads();
  if (threads != null) options.threads = threads;
  const augment = augmentation();
  if (unet.data) options.data = { path: unet.data.name, ...(augment ? { augment } : {}) };
  return options;
}

/**
 * The data set options UNetTrainer.open gives segloss/data for the form's options: the size, the
 * augmentation and the seed; everything else at the defaults that both share.
 */
function datasetOptions(): DatasetOptions {
  const augment = augmentation();
  return { size: Number($<HTMLSelectElement>('unet-size').value), seed: SEED, ...(augment ? { augment } : {}) };
}

function curvesSpec(): Record<string, unknown> {
  const window = Math.max(1, Math.min(11, Math.floor(unet.losses.length / 5)));
  const smooth = movingAverage(unet.losses.map((r) => r.loss), window);
  const color = { field: 'series', type: 'nominal', title: null, scale: { domain: SERIES, range: COLORS }, legend: { orient: 'bottom' } };
  const x = { field: 'step', type: 'quantitative', title: 'step' };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    width: 440, height: 220,
    layer: [
      {
        data: { values: unet.losses.map((r, i) => ({ step: r.step, value: smooth[i], series: SERIES[0] })) },
        mark: { type: 'line', strokeWidth: 1.5 },
        encoding: { x, y: { field: 'value', type: 'quantitative', title: `training loss (${unet.lossName}, moving average of ${window})` }, color },
      },
      {
        data: { values: unet.evals.flatMap((e) => [{ step: e.step, value: e.dice, series: SERIES[1] }, { step: e.step, value: e.accuracy, series: SERIES[2] }]) },
        mark: { type: 'line', point: true, strokeDash: [4, 2] },
        encoding: { x, y: { field: 'value', type: 'quantitative', title: 'validation', scale: { domain: [0, 1] } }, color },
      },
    ],
    resolve: { scale: { y: 'independent' } },
  };
}

async function drawCurves(force = false): Promise<void> {
  const now = performance.now();
  if (!force && now - unet.lastDraw < DRAW_EVERY_MS) return;
  unet.lastDraw = now;
  if (!unet.losses.length) return;
  $('unet-curves').innerHTML = await specToSvg(curvesSpec());
}

/** Samples as pictures: grey images (size × size each), their labels and, after training, the model's argmax. */
interface Pictures {
  images: Float32Array;
  labels: Int32Array;
  predicted?: Int32Array;
  count: number;
  size: number;
}

/**
 * Each image in grey, its predicted classes tinted (class 1 red, then blue, orange, …), the
 * labels' outlines (the edges of every labelled region) in green.
 */
function drawOverlay({ images, labels, predicted, count, size }: Pictures, caption: string): void {
  const holder = $('unet-images');
  while (holder.children.length > count) holder.lastChild!.remove();
  while (holder.children.length < count) holder.append(document.createElement('canvas'));
  const pixels = size * size;
  for (let n = 0; n < count; n++) {
    const canvas = holder.children[n] as HTMLCanvasElement;
    canvas.width = size;
    canvas.height = size;
    const image = images.subarray(n * pixels, (n + 1) * pixels);
    const label = labels.subarray(n * pixels, (n + 1) * pixels);
    const pred = predicted?.subarray(n * pixels, (n + 1) * pixels);
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of image) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    const scale = hi > lo ? 255 / (hi - lo) : 0;
    const out = new ImageData(size, size);
    for (let i = 0; i < pixels; i++) {
      const grey = (image[i] - lo) * scale;
      let [r, g, b] = [grey, grey, grey];
      if (pred && pred[i] > 0) {
        const [tr, tg, tb] = CLASS_TINTS[(pred[i] - 1) % CLASS_TINTS.length];
        [r, g, b] = [0.55 * r + 0.45 * tr, 0.55 * g + 0.45 * tg, 0.55 * b + 0.45 * tb];
      }
      const y = Math.floor(i / size);
      const x = i % size;
      const k = label[i];
      const edge = k > 0 && (x === 0 || y === 0 || x === size - 1 || y === size - 1
        || label[i - 1] !== k || label[i + 1] !== k || label[i - size] !== k || label[i + size] !== k);
      if (edge) [r, g, b] = OUTLINE;
      out.data.set([r, g, b, 255], 4 * i);
    }
    canvas.getContext('2d')!.putImageData(out, 0, 0);
  }
  $('unet-caption').textContent = caption;
}

/** A batch of [n, size, size, channels] as pictures: each pixel the mean of its channels (as trainer.predictions shows them). */
function batchPictures(batch: Batch, size: number): Pictures {
  const pixels = size * size;
  const channels = batch.images.length / (batch.count * pixels);
  const images = new Float32Array(batch.count * pixels);
  for (let i = 0; i < images.length; i++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += batch.images[i * channels + c];
    images[i] = sum / channels;
  }
  return { images, labels: batch.labels, count: batch.count, size };
}

/** The mean over the foreground classes (1 …): with two classes, the foreground's. */
const foregroundMean = (perClass: number[]) => perClass.slice(1).reduce((a, b) => a + b, 0) / Math.max(1, perClass.length - 1);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function trainFromForm(event: Event): Promise<void> {
  event.preventDefault();
  if (unet.running || unet.checking || folderRefused()) return;
  const errorEl = $('unet-error');
  errorEl.hidden = true;
  const noticeEl = $('unet-notice');
  noticeEl.hidden = true;
  const status = $('unet-status');
  const progress = $<HTMLProgressElement>('unet-progress');
  const stop = $<HTMLButtonElement>('unet-stop');
  unet.running = true;
  updateButtons();
  document.body.dataset.unet = 'running';
  const numTensors: number[] = [];
  const folder = unet.data;
  try {
    const options = formOptions();
    status.textContent = folder ? `starting tfjs in a worker, reading "${folder.name}"…` : 'starting tfjs in a worker…';
    const { api, info } = await trainingWorker();
    stop.disabled = false;
    let where = `1 thread, segloss ${info.variant}`;
    let steps = 0;
    let classes = 2;
    const onUpdate = async (update: UNetUpdate) => {
      if (update.kind === 'start') {
        steps = update.options.steps;
        classes = update.classes;
        unet.losses = [];
        unet.evals = [];
        unet.stepMs = [];
        unet.lossName = update.options.loss;
        unet.options = update.options;
        unet.notices = update.notices;
        progress.max = steps;
        where = `${update.threads} thread${update.threads > 1 ? 's' : ''}, segloss ${info.variant}`;
        const on = folder
          ? ` on "${folder.name}" (${update.classes} classes, ${update.channels} channel${update.channels > 1 ? 's' : ''}${update.options.data?.augment ? ', augmented' : ''})`
          : '';
        status.textContent = `unet2d ${update.options.imageSize}² filters [${update.options.filters.join(', ')}], `
          + `${update.parameters.toLocaleString('en')} parameters${on}; ${where}`;
        noticeEl.textContent = update.notices.join('\n');
        noticeEl.hidden = update.notices.length === 0;
        return;
      }
      const { row, ms } = update;
      numTensors.push(update.numTensors);
      unet.losses.push({ step: row.step, loss: row.loss });
      if (!row.eval) unet.stepMs.push(ms);
      if (unet.stepMs.length > 25) unet.stepMs.shift();
      progress.value = row.step + 1;
      status.textContent = `step ${row.step + 1} / ${steps} · loss ${row.loss.toFixed(4)} · `
        + `${unet.stepMs.length ? median(unet.stepMs).toFixed(0) : '–'} ms a step (${where})`;
      if (row.eval) {
        const dice = foregroundMean(row.eval.dice);
        unet.evals.push({ step: row.step, accuracy: row.eval.accuracy, dice });
        if (update.preview) {
          const which = classes > 2 ? 'mean foreground' : 'foreground';
          drawOverlay(update.preview, `validation images at step ${row.step}: ${which} Dice ${dice.toFixed(3)}, `
            + `IoU ${foregroundMean(row.eval.iou).toFixed(3)}, accuracy ${row.eval.accuracy.toFixed(3)}`);
        }
      }
      await drawCurves(row.eval != null);
    };
    const result = await api.train(options, Comlink.proxy(onUpdate), folder?.files);
    await drawCurves(true);
    unet.result = { ...result, numTensors };
    status.textContent = `${result.stopped ? 'stopped' : 'done'} after ${result.steps} steps in ${result.seconds.toFixed(1)} s`
      + (unet.stepMs.length ? `, ${median(unet.stepMs).toFixed(0)} ms a step` : '') + ` (${where})`
      + (result.last?.eval ? `; validation ${classes > 2 ? 'mean foreground' : 'foreground'} Dice ${foregroundMean(result.last.eval.dice).toFixed(3)}` : '');
  } catch (error) {
    errorEl.textContent = error instanceof Error ? error.message : String(error);
    errorEl.hidden = false;
    status.textContent = 'failed.';
    // A worker that failed mid-run (out of memory, say) may be in any state: start afresh next time.
    if (!(error instanceof Error && /invalid options|Filters per level|threads must be|the data set has problems/.test(error.message))) stopWorker();
  } finally {
    unet.running = false;
    unet.ended++;
    stop.disabled = true;
    updateButtons();
    document.body.dataset.unet = 'idle';
  }
}

// ---- Your own images ---------------------------------------------------------------------------

/** Whether the loaded folder cannot be trained on here: it has problems, or it holds volumes (3D: `segloss train --data`). */
function folderRefused(): boolean {
  return unet.data != null && (unet.data.report.problems.length > 0 || unet.data.report.dims !== 2);
}

/** Train is off while training, while a folder is checked, and while the loaded folder has problems. */
function updateButtons(): void {
  $<HTMLButtonElement>('unet-run').disabled = unet.running || unet.checking || folderRefused();
  $<HTMLInputElement>('unet-folder').disabled = unet.running;
  // The synthetic set's foreground fraction means nothing for a folder.
  $<HTMLInputElement>('unet-fg').disabled = unet.data != null;
}

/** Reads the children of a dropped folder: readEntries gives them in batches (Chromium: 100) until an empty one. */
async function childrenOf(dir: FileSystemDirectoryEntry): Promise<FileSystemEntry[]> {
  const reader = dir.createReader();
  const all: FileSystemEntry[] = [];
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) return all;
    all.push(...batch);
  }
}

/**
 * The files under dropped entries, each with its path relative to the drop. One dropped folder is
 * the data set's root (its name is the data set's); several items are the root's contents.
 */
async function filesFromEntries(entries: FileSystemEntry[]): Promise<{ name: string; files: FolderFile[] }> {
  const root = entries.length === 1 && entries[0].isDirectory ? entries[0] as FileSystemDirectoryEntry : null;
  const files: FolderFile[] = [];
  const walk = async (entry: FileSystemEntry, prefix: string): Promise<void> => {
    if (entry.isFile) {
      files.push({ path: prefix + entry.name, file: await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject)) });
    } else if (entry.isDirectory) {
      for (const child of await childrenOf(entry as FileSystemDirectoryEntry)) await walk(child, `${prefix}${entry.name}/`);
    }
  };
  for (const entry of root ? await childrenOf(root) : entries) await walk(entry, '');
  return { name: root?.name ?? 'dropped files', files };
}

/** The files of an <input webkitdirectory>: paths inside the chosen folder (segloss/data's filesFromFileList), whose name is the data set's. */
function filesFromInput(list: FileList): { name: string; files: FolderFile[] } {
  const chosen = Array.from(list);
  const paths = filesFromFileList(chosen);
  const name = chosen[0]?.webkitRelativePath.split('/')[0] || 'the chosen folder';
  return { name, files: chosen.map((file, k) => ({ path: paths[k].path, file })) };
}

/** Shows the loaded folder's check: the summary and problems, and whether Train uses it. */
function showFolder(): void {
  const data = unet.data;
  const report = $('unet-data-report');
  const status = $('unet-data-status');
  $('unet-data-clear').hidden = data == null;
  report.hidden = data == null;
  report.classList.toggle('problems', folderRefused());
  if (!data) {
    status.textContent = 'Training on synthetic shapes.';
    return;
  }
  report.textContent = data.summary;
  const { pairs, problems, dims } = data.report;
  if (problems.length > 0) {
    status.textContent = `"${data.name}": ${problems.length} problem${problems.length > 1 ? 's' : ''} (below, each naming its file). `
      + 'Train is off until they are fixed: fix the files, then drop or choose the folder again.';
  } else if (dims !== 2) {
    status.textContent = `"${data.name}" holds volumes (3D): this demo trains on 2D images; train on volumes with segloss train --data.`;
  } else {
    status.textContent = `Training on "${data.name}": ${pairs.train} training pair${pairs.train === 1 ? '' : 's'}`
      + `${pairs.val ? ` and ${pairs.val} validation` : ' (a seeded fifth of them held out for validation)'}, read in this tab (nothing is uploaded).`;
  }
}

/** Training batches `steps` of the loaded folder with the form's options: what the trainer would train on. */
async function folderBatches(steps: number[], batchSize: number): Promise<{ options: DatasetOptions; batches: Batch[] }> {
  const data = unet.data;
  if (!data) throw new Error('no folder loaded: drop one on the U-Net section or choose one');
  const options = datasetOptions();
  const { api } = await trainingWorker();
  return { options, batches: await api.batches(data.files, options, steps, batchSize) };
}

/** Draws the first training batch as the model gets it (resized, normalised, augmented), labels outlined. */
async function showFirstBatch(): Promise<void> {
  const data = unet.data;
  if (!data || folderRefused() || unet.running) return;
  try {
    const { options, batches: [batch] } = await folderBatches([0], PREVIEW_IMAGES);
    if (unet.data !== data || unet.running) return;
    drawOverlay(batchPictures(batch, options.size), `training batch 0 of "${data.name}" as the model gets it: ${options.size}×${options.size}, `
      + `${options.augment ? 'augmented (flips, quarter turns, intensity)' : 'not augmented'}; labels outlined in green`);
  } catch (error) {
    $('unet-caption').textContent = `the first training batch could not be prepared: ${error instanceof Error ? error.message : String(error)}`;
  }
}

/** Reads a folder (a drop's walk, or an input's list), checks it in the worker and makes it the training data, or says why not. */
async function loadFolder(read: () => Promise<{ name: string; files: FolderFile[] }>): Promise<void> {
  const status = $('unet-data-status');
  if (unet.running) {
    status.textContent = 'A U-Net is training: stop it before loading a folder.';
    return;
  }
  if (unet.checking) return;
  const errorEl = $('unet-error');
  unet.checking = true;
  updateButtons();
  let name = 'the dropped folder';
  try {
    const folder = await read();
    name = folder.name;
    status.textContent = `checking "${name}" (${folder.files.length} files)…`;
    const { api } = await trainingWorker();
    // The progress calls come through the callback's own MessagePort, the result through the
    // worker's: the last one may arrive after the result, and must not overwrite the verdict.
    let checking = true;
    const onProgress = (done: number, total: number, file: string) => {
      if (checking) status.textContent = `checking "${name}": ${done} / ${total} pairs (${file})`;
    };
    const { report, summary } = await api.checkData(name, folder.files, Comlink.proxy(onProgress)).finally(() => { checking = false; });
    unet.data = { name, files: folder.files, report, summary };
    errorEl.hidden = true;
  } catch (error) {
    unet.data = null;
    errorEl.textContent = `${name}: ${error instanceof Error ? error.message : String(error)}`;
    errorEl.hidden = false;
  } finally {
    unet.checking = false;
    showFolder();
    updateButtons();
  }
  await showFirstBatch();
  unet.dataLoads++;
}

/** A folder dropped on the section, or chosen with its input. */
function setupFolderInput(): void {
  const zone = $('unet-drop');
  const input = $<HTMLInputElement>('unet-folder');
  input.addEventListener('change', () => {
    const folder = input.files && filesFromInput(input.files);
    // Cleared, so that choosing the same folder again (after fixing its files) fires change again.
    input.value = '';
    if (folder) void loadFolder(async () => folder);
  });
  zone.addEventListener('dragover', (e) => {
    e.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    const dropped = e.dataTransfer;
    if (!dropped) return;
    // The entries are there only while the event is dispatched: take them now, read them after.
    const entries = Array.from(dropped.items).map((item) => item.webkitGetAsEntry()).filter((x): x is FileSystemEntry => x != null);
    const files = dropped.files;
    void loadFolder(async () => (entries.length > 0 ? filesFromEntries(entries) : filesFromInput(files)));
  });
  $('unet-data-clear').addEventListener('click', () => {
    unet.data = null;
    showFolder();
    updateButtons();
  });
  // Another size or augmentation: the batch as the model would now get it.
  for (const id of ['unet-size', 'unet-augment']) $(id).addEventListener('change', () => void showFirstBatch());
}

/**
 * The U-Net step benchmark (`segloss bench unet`'s 2D rows) in a fresh worker of this page; with
 * `threads`, also UNetTrainer's step on 1 thread and on `threads` (a cross-origin isolated page).
 */
export async function unetBench(options: { steps?: number; size?: number; batch?: number; threads?: number } = {},
  print?: (line: string) => void): Promise<{ info: UNetWorkerInfo; rows: UNetBenchRow[] }> {
  const w = await startWorker();
  try {
    return { info: w.info, rows: await w.api.bench(options, print && Comlink.proxy(print)) };
  } finally {
    w.api[Comlink.releaseProxy]();
    w.worker.terminate();
  }
}

/** Wires the section's form; the state goes on `seglossDemo.unet` for the tests. */
export function setupUNetSection(): typeof unet {
  $<HTMLSelectElement>('unet-loss').innerHTML = TRAIN_LOSS_NAMES.map((n) => `<option value="${n}">${n}</option>`).join('');
  // Empty: the cores there are (1 without cross-origin isolation), at most one per image.
  $<HTMLInputElement>('unet-threads').placeholder = globalThis.crossOriginIsolated ? `${navigator.hardwareConcurrency || 1}` : '1';
  $('unet-form').addEventListener('submit', (e) => void trainFromForm(e));
  $('unet-stop').addEventListener('click', () => void unet.current?.api.stop());
  setupFolderInput();
  showFolder();
  document.body.dataset.unet = 'idle';
  return unet;
}
