/**
 * The U-Net worker's implementation (loaded lazily by web/unet_worker.ts): UNetTrainer of
 * segloss/models one step at a time, each step's row (and, on evaluation steps, the predictions on
 * a few validation images) sent to the page as it comes; a stop between steps; the U-Net step
 * benchmark of `segloss bench unet`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { getThreadsCount, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { setupWasmKernels } from '../src/setup.js';
import { UNetTrainer, type TrainingRow, type UNetTrainingInput, type UNetTrainingOptions } from '../src/models/index.js';
import { measureUNetStep, type UNetBenchRow } from '../src/bench/unet.js';
import { backendMemory, type BackendWasm } from '../src/wasm/backend.js';

export interface UNetWorkerInit {
  /**
   * tfjs's threads: 1 for its single-threaded build; by default, on a cross-origin isolated page,
   * tfjs's own choice (half the logical cores, from 1 to 8).
   */
  threads?: number;
}

export interface UNetWorkerInfo {
  /** segloss's kernel build ('simd', or 'simd-shared' beside tfjs's threaded build, or 'scalar'). */
  variant: string;
  /** tfjs's wasm threads (1 without cross-origin isolation). */
  threads: number;
  /** Whether tfjs's memory is a SharedArrayBuffer (tfjs's threaded build). */
  shared: boolean;
}

/** What the page gets as training goes: one update per step; the first says what trains. */
export type UNetUpdate =
  | { kind: 'start'; options: UNetTrainingOptions; parameters: number }
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
  init(options?: UNetWorkerInit): Promise<UNetWorkerInfo>;
  train(options: UNetTrainingInput, onUpdate: (update: UNetUpdate) => void): Promise<UNetTrainResult>;
  /** Stops a training after its current step (its train() then resolves with stopped: true). */
  stop(): Promise<void>;
  /** ms per training step of unet2d (Dice + CE, tf.train.adam) with and without segloss's kernel replacements. */
  bench(options: { steps?: number; size?: number; batch?: number; filters?: number[] }, print?: (line: string) => void): Promise<UNetBenchRow[]>;
}

const PREVIEW_IMAGES = 4;
/** The most threads tfjs-wasm 4.22's pool takes (it pre-creates 8 web workers). */
const TFJS_MAX_THREADS = 8;
let info: UNetWorkerInfo | null = null;
let training = false;
let stopping = false;

/** Lets the worker take its messages (a stop) between steps. */
const nextTask = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

function started(): UNetWorkerInfo {
  if (!info) throw new Error('segloss U-Net worker: call init() first');
  return info;
}

export const unetWorkerApi: UNetWorkerApi = {
  async init(options = {}) {
    if (info) return info;
    const { threads } = options;
    if (threads != null && !(Number.isInteger(threads) && threads >= 1 && threads <= 64)) {
      throw new Error(`segloss U-Net worker: threads must be an integer from 1 to 64, got ${String(threads)}`);
    }
    setWasmPaths(new URL('./', import.meta.url).href);
    // tfjs picks its threaded build when the page is cross-origin isolated; one thread asks for
    // the single-threaded build (no pthreads at all), any other count sizes its pool.
    if (threads === 1) {
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    } else if (threads != null) {
      const wanted = Math.min(threads, TFJS_MAX_THREADS);
      setThreadsCount(wanted);
      // tfjs-wasm 4.22 caps its pool at navigator.hardwareConcurrency / 2 (it assumes two
      // hyper-threads per core): 1 thread on a 2-core machine whatever setThreadsCount says. Its
      // module reads the count once, as it starts; this worker's navigator says what was asked.
      if (wanted > Math.floor((navigator.hardwareConcurrency || 1) / 2)) {
        Object.defineProperty(navigator, 'hardwareConcurrency', { value: 2 * wanted, configurable: true });
      }
    }
    if (!(await tf.setBackend('wasm'))) throw new Error('segloss U-Net worker: tfjs could not start its wasm backend');
    const { variant } = await setupWasmKernels();
    const shared = typeof SharedArrayBuffer !== 'undefined' && backendMemory(tf.backend() as BackendWasm).buffer instanceof SharedArrayBuffer;
    info = { variant, threads: shared ? getThreadsCount() : 1, shared };
    return info;
  },

  async train(input, onUpdate) {
    started();
    if (training) throw new Error('segloss U-Net worker: a U-Net is already training here; stop it first');
    const trainer = UNetTrainer.create(input); // validates the options: a clear error for bad ones
    training = true;
    stopping = false;
    const t0 = performance.now();
    let last: TrainingRow | null = null;
    try {
      await onUpdate({ kind: 'start', options: trainer.options, parameters: trainer.model.countParams() });
      while (trainer.step < trainer.options.steps && !stopping) {
        const begin = performance.now();
        const row = trainer.runStep();
        const update: UNetUpdate = { kind: 'step', row, ms: performance.now() - begin, numTensors: tf.memory().numTensors };
        if (row.eval) update.preview = trainer.predictions(PREVIEW_IMAGES);
        last = row;
        await onUpdate(update);
        await nextTask();
      }
      return { steps: trainer.step, stopped: trainer.step < trainer.options.steps, seconds: (performance.now() - t0) / 1000, last };
    } finally {
      trainer.dispose();
      training = false;
      stopping = false;
    }
  },

  async stop() {
    if (training) stopping = true;
  },

  async bench({ steps = 5, size = 128, batch = 4, filters = [16, 32, 64, 128] } = {}, printLine = () => {}) {
    const { threads } = started();
    // A proxied print's messages travel on their own port: they are awaited before the result,
    // so that the page has every line when bench() resolves.
    const printed: unknown[] = [];
    const print = (line: string) => { printed.push(printLine(line)); };
    if (training) throw new Error('segloss U-Net worker: a U-Net is training here; stop it before benchmarking');
    const where = `${threads} thread${threads > 1 ? 's' : ''}`;
    print(`unet2d ${size}×${size}×1, filters [${filters.join(', ')}], batch norm, 2 classes, Dice + CE, Adam; median of ${steps} steps`);
    const rows: UNetBenchRow[] = [];
    try {
      await setupWasmKernels({ replaceTfjsKernels: false });
      rows.push(await measureUNetStep(`wasm (${where}), segloss without its tfjs-kernel replacements, batch ${batch}`, 'wasm', batch, size, filters, steps, print));
    } finally {
      await setupWasmKernels();
    }
    rows.push(await measureUNetStep(`wasm (${where}) with segloss, batch ${batch}`, 'wasm', batch, size, filters, steps, print));
    print(`segloss's replacements: ${(rows[0].medianMs / rows[1].medianMs).toFixed(2)}× on the step`);
    await Promise.all(printed);
    return rows;
  },
};
