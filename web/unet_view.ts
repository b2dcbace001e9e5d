/**
 * The demo's "Train a U-Net in this tab": the form, a worker of web/unet_worker.ts (kept while its
 * thread count stays the same), live curves (vega-lite, as the report draws its figures) and the
 * predictions on validation images over their labels. Also `unetBench`, the U-Net step benchmark
 * in a fresh worker (scripts/bench-browser.mjs --unet).
 */
import * as Comlink from 'comlink';
import { specToSvg } from '../src/report/render.js';
import { movingAverage } from '../src/report/series.js';
import { TRAIN_LOSS_NAMES } from '../src/models/loss_names.js';
import type { UNetTrainingInput, UNetTrainingOptions } from '../src/models/index.js';
import type { UNetBenchRow } from '../src/bench/unet.js';
import type { UNetTrainResult, UNetUpdate, UNetWorkerApi, UNetWorkerInfo } from './unet_train.js';

const unetWorkerUrl = new URL('./unet-worker.js', import.meta.url);
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const SERIES = ['training loss', 'validation Dice (foreground)', 'validation accuracy'];
const COLORS = ['#1f77b4', '#2ca02c', '#7f7f7f'];
const DRAW_EVERY_MS = 400;

interface UNetWorker {
  worker: Worker;
  api: Comlink.Remote<UNetWorkerApi>;
  info: UNetWorkerInfo;
  threads: number | undefined;
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
  /** The last result, for the tests: the run's end and the tensors live after each step. */
  result: null as (UNetTrainResult & { numTensors: number[] }) | null,
};

async function startWorker(threads: number | undefined): Promise<UNetWorker> {
  const worker = new Worker(unetWorkerUrl, { type: 'module', name: 'segloss-unet' });
  const api = Comlink.wrap<UNetWorkerApi>(worker);
  try {
    const info = await api.init({ threads });
    return { worker, api, info, threads };
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

/** The worker for `threads` (a new one when the count changed: tfjs fixes it when its backend starts). */
async function workerFor(threads: number | undefined): Promise<UNetWorker> {
  if (unet.current && unet.current.threads === threads) return unet.current;
  stopWorker();
  unet.current = await startWorker(threads);
  return unet.current;
}

/** The form's options, or an Error naming the bad field (the worker validates the rest). */
function formOptions(): { options: UNetTrainingInput; threads: number | undefined } {
  const num = (id: string) => Number(($(id) as HTMLInputElement).value);
  const filtersText = $<HTMLInputElement>('unet-filters').value;
  const filters = filtersText.split(/[\s,]+/).filter(Boolean).map(Number);
  if (!filters.length || filters.some((f) => !Number.isInteger(f) || f < 1)) {
    throw new Error(`Filters per level: positive integers separated by commas, e.g. "8, 16, 32"; got "${filtersText}"`);
  }
  const threadsText = $<HTMLInputElement>('unet-threads').value.trim();
  const steps = num('unet-steps');
  return {
    options: {
      imageSize: num('unet-size'), filters, loss: $<HTMLSelectElement>('unet-loss').value as UNetTrainingInput['loss'],
      foreground: num('unet-fg'), steps, batchSize: num('unet-batch'), learningRate: num('unet-lr'),
      batchNorm: $<HTMLInputElement>('unet-bn').checked, trainImages: 64, validationImages: 8,
      evalEvery: Math.max(1, Math.round(steps / 20)), seed: 0,
    },
    threads: threadsText === '' ? undefined : Number(threadsText),
  };
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

/** Each validation image in grey, the predicted foreground tinted red, the labels' outline in green. */
function drawOverlay(preview: NonNullable<Extract<UNetUpdate, { kind: 'step' }>['preview']>, caption: string): void {
  const { images, labels, predicted, count, size } = preview;
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
    const pred = predicted.subarray(n * pixels, (n + 1) * pixels);
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of image) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    const scale = hi > lo ? 255 / (hi - lo) : 0;
    const out = new ImageData(size, size);
    for (let i = 0; i < pixels; i++) {
      const grey = (image[i] - lo) * scale;
      let [r, g, b] = [grey, grey, grey];
      if (pred[i] === 1) [r, g, b] = [0.55 * r + 0.45 * 230, 0.55 * g + 0.45 * 40, 0.55 * b + 0.45 * 40];
      const y = Math.floor(i / size);
      const x = i % size;
      const edge = label[i] === 1 && (x === 0 || y === 0 || x === size - 1 || y === size - 1
        || label[i - 1] !== 1 || label[i + 1] !== 1 || label[i - size] !== 1 || label[i + size] !== 1);
      if (edge) [r, g, b] = [40, 210, 70];
      out.data.set([r, g, b, 255], 4 * i);
    }
    canvas.getContext('2d')!.putImageData(out, 0, 0);
  }
  $('unet-caption').textContent = caption;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function trainFromForm(event: Event): Promise<void> {
  event.preventDefault();
  if (unet.running) return;
  const errorEl = $('unet-error');
  errorEl.hidden = true;
  const status = $('unet-status');
  const progress = $<HTMLProgressElement>('unet-progress');
  const run = $<HTMLButtonElement>('unet-run');
  const stop = $<HTMLButtonElement>('unet-stop');
  unet.running = true;
  run.disabled = true;
  document.body.dataset.unet = 'running';
  const numTensors: number[] = [];
  try {
    const { options, threads } = formOptions();
    status.textContent = 'starting tfjs in a worker…';
    const { api, info } = await workerFor(threads);
    stop.disabled = false;
    const where = `${info.threads} thread${info.threads > 1 ? 's' : ''}, segloss ${info.variant}`;
    let steps = 0;
    const onUpdate = async (update: UNetUpdate) => {
      if (update.kind === 'start') {
        steps = update.options.steps;
        unet.losses = [];
        unet.evals = [];
        unet.stepMs = [];
        unet.lossName = update.options.loss;
        unet.options = update.options;
        progress.max = steps;
        status.textContent = `unet2d ${update.options.imageSize}² filters [${update.options.filters.join(', ')}], `
          + `${update.parameters.toLocaleString('en')} parameters; ${where}`;
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
        unet.evals.push({ step: row.step, accuracy: row.eval.accuracy, dice: row.eval.dice[1] });
        if (update.preview) {
          drawOverlay(update.preview, `validation images at step ${row.step}: foreground Dice ${row.eval.dice[1].toFixed(3)}, `
            + `IoU ${row.eval.iou[1].toFixed(3)}, accuracy ${row.eval.accuracy.toFixed(3)}`);
        }
      }
      await drawCurves(row.eval != null);
    };
    const result = await api.train(options, Comlink.proxy(onUpdate));
    await drawCurves(true);
    unet.result = { ...result, numTensors };
    status.textContent = `${result.stopped ? 'stopped' : 'done'} after ${result.steps} steps in ${result.seconds.toFixed(1)} s`
      + (unet.stepMs.length ? `, ${median(unet.stepMs).toFixed(0)} ms a step` : '') + ` (${where})`
      + (result.last?.eval ? `; validation foreground Dice ${result.last.eval.dice[1].toFixed(3)}` : '');
  } catch (error) {
    errorEl.textContent = error instanceof Error ? error.message : String(error);
    errorEl.hidden = false;
    status.textContent = 'failed.';
    // A worker that failed mid-run (out of memory, say) may be in any state: start afresh next time.
    if (!(error instanceof Error && /invalid options|Filters per level|threads must be/.test(error.message))) stopWorker();
  } finally {
    unet.running = false;
    unet.ended++;
    run.disabled = false;
    stop.disabled = true;
    document.body.dataset.unet = 'idle';
  }
}

/**
 * The U-Net step benchmark (`segloss bench unet`'s 2D rows) in a fresh worker of this page, with
 * `threads` tfjs threads (all cores by default on a cross-origin isolated page).
 */
export async function unetBench(options: { steps?: number; size?: number; batch?: number; threads?: number } = {},
  print?: (line: string) => void): Promise<{ info: UNetWorkerInfo; rows: UNetBenchRow[] }> {
  const { threads, ...bench } = options;
  const w = await startWorker(threads);
  try {
    return { info: w.info, rows: await w.api.bench(bench, print && Comlink.proxy(print)) };
  } finally {
    w.api[Comlink.releaseProxy]();
    w.worker.terminate();
  }
}

/** Wires the section's form; the state goes on `seglossDemo.unet` for the tests. */
export function setupUNetSection(): typeof unet {
  $<HTMLSelectElement>('unet-loss').innerHTML = TRAIN_LOSS_NAMES.map((n) => `<option value="${n}">${n}</option>`).join('');
  // Empty: tfjs's own choice, half the logical cores (1 without cross-origin isolation).
  $<HTMLInputElement>('unet-threads').placeholder = globalThis.crossOriginIsolated ? `${Math.max(1, Math.floor((navigator.hardwareConcurrency || 1) / 2))}` : '1';
  $('unet-form').addEventListener('submit', (e) => void trainFromForm(e));
  $('unet-stop').addEventListener('click', () => void unet.current?.api.stop());
  document.body.dataset.unet = 'idle';
  return unet;
}
