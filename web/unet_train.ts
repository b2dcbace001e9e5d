/**
 * The U-Net worker's implementation (loaded lazily by web/unet_worker.ts): UNetTrainer of
 * segloss/models one step at a time, each step's row (and, on evaluation steps, the predictions on
 * a few validation images) sent to the page as it comes; a stop between steps; the U-Net step
 * benchmark of `segloss bench unet`.
 *
 * Your own images: the page posts the dropped folder's File objects (a structured clone hands over
 * references, not bytes), and this worker reads them with segloss/data's browser API — the data
 * check, batches as the model sees them, and training. Nothing is uploaded anywhere: a File is read
 * where it lies, on this machine.
 */
import * as Comlink from 'comlink';
import * as tf from '@tensorflow/tfjs-core';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { setupWasmKernels } from '../src/setup.js';
// api.ts, not index.ts: segloss/data's entry for Node registers a folder reader on node:fs.
import {
  checkData, filesFromBlobs, formatDataReport, openDataset, type Batch, type DataFile, type DataReport, type DatasetOptions,
} from '../src/data/api.js';
import { UNetTrainer, type TrainingRow, type UNetTrainingInput, type UNetTrainingOptions } from '../src/models/index.js';
import { measureUNetStep, type UNetBenchRow } from '../src/bench/unet.js';
import { trainerStep } from '../src/bench/threads.js';
import { cores, unavailable } from '../src/parallel/web.js';

/** A file of the user's folder: its path inside the folder ('images/a.png') and the File itself. */
export interface FolderFile {
  path: string;
  file: Blob;
}

/** The data check of a folder: the report (DataReport: pairs, sizes, classes, frequencies, problems) and its text. */
export interface FolderCheck {
  report: DataReport;
  /** formatDataReport's text, as `segloss data check` prints it: the summary, then every problem naming its file. */
  summary: string;
}

export interface UNetWorkerInfo {
  /** segloss's kernel build ('simd', or 'scalar'). */
  variant: string;
  /**
   * The threads a training step may have here (data parallel, src/parallel/): the cores there
   * are on a cross-origin isolated page, else 1.
   */
  threads: number;
  /** Why a training step runs on one thread only here, or null. */
  single: string | null;
}

/** What the page gets as training goes: one update per step; the first says what trains. */
export type UNetUpdate =
  | {
    kind: 'start';
    options: UNetTrainingOptions;
    parameters: number;
    /** The model's classes and input channels (the data's; the synthetic set has 2 and 1). */
    classes: number;
    channels: number;
    /** Threads a step runs on (options.threads, or the cores, at most one per image; 1 without cross-origin isolation). */
    threads: number;
    /** What the trainer said about its threads (a count lowered, threads unavailable here). */
    notices: string[];
  }
  | {
    kind: 'step';
    row: TrainingRow;
    /** Wall-clock ms of the step (with the validation, on evaluation steps). */
    ms: number;
    /** tfjs's live tensors after the step: flat over a run. */
    numTensors: number;
    /** On evaluation steps: the first validation images, their labels and the model's argmax. */
    preview?: ReturnType<UNetTrainer['predictions']>;
  };

export interface UNetTrainResult {
  /** Steps done (fewer than asked when stopped). */
  steps: number;
  stopped: boolean;
  seconds: number;
  last: TrainingRow | null;
}

export interface UNetWorkerApi {
  init(): Promise<UNetWorkerInfo>;
  /**
   * Trains on the synthetic set, or with `files` on the user's folder (options.data says how to
   * read it; its path is only the folder's name): the folder is checked first, and a DataError
   * naming every problem's file refuses it.
   */
  train(options: UNetTrainingInput, onUpdate: (update: UNetUpdate) => void, files?: FolderFile[]): Promise<UNetTrainResult>;
  /** The data check of the folder `name` (`segloss data check`); `onProgress` after each pair. */
  checkData(name: string, files: FolderFile[], onProgress?: (done: number, total: number, file: string) => void): Promise<FolderCheck>;
  /** Training batches `steps` of the folder as the model gets them (segloss/data's SegmentationDataset.batch). */
  batches(files: FolderFile[], options: DatasetOptions, steps: number[], batchSize: number): Promise<Batch[]>;
  /** Stops a training after its current step (its train() then resolves with stopped: true). */
  stop(): Promise<void>;
  /**
   * ms per training step of unet2d (Dice + CE, tf.train.adam) with and without segloss's kernel
   * replacements; with `threads`, also UNetTrainer's step on 1 thread and on `threads`.
   */
  bench(options: { steps?: number; size?: number; batch?: number; filters?: number[]; threads?: number },
    print?: (line: string) => void): Promise<UNetBenchRow[]>;
}

const PREVIEW_IMAGES = 4;
let info: UNetWorkerInfo | null = null;
let training = false;
let stopping = false;

/** Lets the worker take its messages (a stop) between steps. */
const nextTask = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** segloss/data's files from the page's: each read (File.arrayBuffer) only when the data set needs it. */
const dataFiles = (files: FolderFile[]): DataFile[] => filesFromBlobs(Object.fromEntries(files.map((f) => [f.path, f.file])));
/** A folder's files by path, size and (for Files) modification time: the same key, the same files. */
const folderKey = (files: FolderFile[]) => files.map((f) => `${f.path}:${f.file.size}:${(f.file as Partial<File>).lastModified ?? ''}`).sort().join('\n');
/** The last data check, reused by a training on the same files (it would read every file again). */
let lastCheck: { key: string; result: Awaited<ReturnType<typeof checkData>> } | null = null;

function started(): UNetWorkerInfo {
  if (!info) throw new Error('segloss U-Net worker: call init() first');
  return info;
}

export const unetWorkerApi: UNetWorkerApi = {
  async init() {
    if (info) return info;
    setWasmPaths(new URL('./', import.meta.url).href);
    // tfjs's single-threaded build: a step's threads are segloss's (data parallel, each a Web
    // Worker with its own tfjs), which keep a run's bits for any count; tfjs's threaded build
    // would put XNNPACK's pool under them, which gained 7–15 % here (docs/threads.md).
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    if (!(await tf.setBackend('wasm'))) throw new Error('segloss U-Net worker: tfjs could not start its wasm backend');
    const { variant } = await setupWasmKernels();
    const single = unavailable();
    info = { variant, threads: single ? 1 : cores(), single };
    return info;
  },

  async train(input, onUpdate, files) {
    started();
    if (training) throw new Error('segloss U-Net worker: a U-Net is already training here; stop it first');
    training = true;
    stopping = false;
    const t0 = performance.now();
    let trainer: UNetTrainer | null = null;
    let last: TrainingRow | null = null;
    try {
      // Validates the options (a clear error for bad ones) and, for a folder, checks its data.
      // The folder's check from checkData, when it was of these files: not read twice.
      const checked = files && lastCheck?.key === folderKey(files) ? lastCheck.result : undefined;
      const notices: string[] = [];
      trainer = await UNetTrainer.open(input, files && dataFiles(files), { checked, onNotice: (m) => notices.push(m) });
      await onUpdate({
        kind: 'start', options: trainer.options, parameters: trainer.model.countParams(),
        classes: trainer.classes, channels: trainer.inputShape[trainer.inputShape.length - 1], threads: trainer.threads, notices,
      });
      while (trainer.step < trainer.options.steps && !stopping) {
        const begin = performance.now();
        // nextStep, not runStep: a folder's batches are read from its files, asynchronously.
        const row = await trainer.nextStep();
        const update: UNetUpdate = { kind: 'step', row, ms: performance.now() - begin, numTensors: tf.memory().numTensors };
        if (row.eval) update.preview = trainer.predictions(PREVIEW_IMAGES);
        last = row;
        await onUpdate(update);
        await nextTask();
      }
      return { steps: trainer.step, stopped: trainer.step < trainer.options.steps, seconds: (performance.now() - t0) / 1000, last };
    } finally {
      trainer?.dispose();
      training = false;
      stopping = false;
    }
  },

  async checkData(name, files, onProgress) {
    const result = await checkData(dataFiles(files), { onProgress });
    lastCheck = { key: folderKey(files), result };
    const { layoutOf: _layout, ...report } = result;
    return { report, summary: formatDataReport(report, name) };
  },

  async batches(files, options, steps, batchSize) {
    const { dataset } = await openDataset(dataFiles(files), options);
    const out: Batch[] = [];
    for (const step of steps) out.push(await dataset.batch(step, batchSize));
    return Comlink.transfer(out, out.flatMap((b) => [b.images.buffer, b.labels.buffer]));
  },

  async stop() {
    if (training) stopping = true;
  },

  async bench({ steps = 5, size = 128, batch = 4, filters = [16, 32, 64, 128], threads } = {}, printLine = () => {}) {
    started();
    // A proxied print's messages travel on their own port: they are awaited before the result,
    // so that the page has every line when bench() resolves.
    const printed: unknown[] = [];
    const print = (line: string) => { printed.push(printLine(line)); };
    if (training) throw new Error('segloss U-Net worker: a U-Net is training here; stop it before benchmarking');
    print(`unet2d ${size}×${size}×1, filters [${filters.join(', ')}], batch norm, 2 classes, Dice + CE, Adam; median of ${steps} steps`);
    const rows: UNetBenchRow[] = [];
    try {
      await setupWasmKernels({ replaceTfjsKernels: false });
      rows.push(await measureUNetStep(`wasm (1 thread), segloss without its tfjs-kernel replacements, batch ${batch}`, 'wasm', batch, size, filters, steps, print));
    } finally {
      await setupWasmKernels();
    }
    rows.push(await measureUNetStep(`wasm (1 thread) with segloss, batch ${batch}`, 'wasm', batch, size, filters, steps, print));
    print(`segloss's replacements: ${(rows[0].medianMs / rows[1].medianMs).toFixed(2)}× on the step`);
    if (threads != null && threads > 1) {
      // UNetTrainer's own step (FusedAdam), on one thread and on `threads`, in this worker.
      const input = { imageSize: size, batchSize: batch, filters, trainImages: 2 * batch, validationImages: 1 };
      const one = await trainerStep(input, 1, steps, print);
      const many = await trainerStep(input, threads, steps, print);
      rows.push({ name: 'UNetTrainer, 1 thread', backend: 'wasm', batch, medianMs: one.ms, steps, kernels: [] });
      rows.push({ name: `UNetTrainer, ${many.threads} threads`, backend: 'wasm', batch, medianMs: many.ms, steps, kernels: [] });
      print(`UNetTrainer: ${one.ms.toFixed(0)} ms a step on 1 thread, ${many.ms.toFixed(0)} on ${many.threads} (${(many.ms / one.ms).toFixed(2)}×)`);
    }
    await Promise.all(printed);
    return rows;
  },
};
