/**
 * The demo page: a sweep of the seed's experiment in module Web Workers with live progress and
 * live figures (the report's), the fused-vs-tfjs-ops benchmark in a worker of this browser, and a
 * U-Net trained in a worker (web/unet_view.ts).
 * The SDK is on `window.segloss` for the console (and the browser tests).
 */
import * as tf from '@tensorflow/tfjs-core';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as segloss from '../src/browser.js';
import type { LossName, PlannedRun, RunLog, SweepProgress, SweepSpec } from '../src/browser.js';
import * as Comlink from 'comlink';
import type { WorkerApi } from '../src/workers/api.js';
import { backendMemory, type BackendWasm } from '../src/wasm/backend.js';
import { lossCheck } from './loss_check.js';
import { setupUNetSection, unetBench } from './unet_view.js';

const here = new URL('./', import.meta.url);
const workerUrl = new URL('./worker.js', import.meta.url);
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const LOGGED: LossName[] = ['cce', 'dicefg', 'dice'];
const BENCH_SHAPES: segloss.Shape4[] = [[8, 128, 128, 2], [4, 128, 128, 4]];

const DEFAULT_CUSTOM: SweepSpec = {
  parameters: {
    foreground: { values: [0.5, 0.95] },
    trainLoss: { values: ['cce', 'dicefg'] },
    optimizer: { value: { name: 'adam' } },
    seed: { values: [0] },
  },
};

/** Escapes text for innerHTML. */
function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
const fmt = (x: number | null | undefined, digits = 4) => (x == null || Number.isNaN(x) ? '' : x.toFixed(digits));

// -----------------------------------------------------------------------------------------------
// The page's own tfjs (main thread): used by the loss check below and to report the environment.

async function setupMainThread(): Promise<{ variant: string; backend: string }> {
  setWasmPaths(here.href);
  await tf.setBackend('wasm');
  const { variant } = await segloss.setupWasmKernels();
  return { variant, backend: tf.getBackend() };
}

// -----------------------------------------------------------------------------------------------
// Sweep UI.

const state = {
  running: null as AbortController | null,
  store: null as segloss.MemorySweepStore | null,
  spec: null as SweepSpec | null,
  plan: [] as PlannedRun[],
  dirty: new Set<string>(),
  lastDraw: 0,
  done: false,
  /** Complete runs when the sweep was last saved (it is saved as each run completes). */
  savedAt: -1,
  /** Saving failed (the browser's storage is full): the sweep goes on in memory, unsaved. */
  saveFailed: false,
};

// -----------------------------------------------------------------------------------------------
// The sweep is saved in this browser (localStorage) as each run completes, so that a reload or a
// crash of the tab loses no complete run: the page offers to resume it. When the storage is full
// (QuotaExceededError: a large sweep outgrows the few MB a site gets), the page says so and the
// sweep goes on in memory, where nothing is lost while the page stays open (and its JSON can be
// downloaded); the saved copy is removed rather than left behind out of date.

const SAVE_KEY = 'segloss-demo-sweep';

interface SavedSweep {
  spec: SweepSpec;
  store: segloss.MemorySweepStoreData;
}

function showSaveWarning(message: string | null): void {
  const el = $('save-warning');
  el.hidden = message == null;
  el.textContent = message ?? '';
}

function saveSweep(): void {
  if (state.saveFailed || state.store == null || state.spec == null) return;
  try {
    localStorage.setItem(SAVE_KEY, JSON.stringify({ spec: state.spec, store: state.store }));
  } catch (error) {
    state.saveFailed = true;
    try { localStorage.removeItem(SAVE_KEY); } catch { /* storage unavailable altogether */ }
    const cause = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    showSaveWarning(`This sweep could not be saved in the browser (${cause}). It goes on in memory and loses nothing `
      + 'while this page stays open; download its JSON when it ends to keep it.');
  }
}

function readSaved(): SavedSweep | null {
  try {
    const text = localStorage.getItem(SAVE_KEY);
    if (text == null) return null;
    const saved = JSON.parse(text) as SavedSweep;
    segloss.MemorySweepStore.fromJSON(saved.store); // validates
    return saved;
  } catch {
    localStorage.removeItem(SAVE_KEY); // unreadable: nothing to resume
    return null;
  }
}

function offerSaved(): void {
  const saved = readSaved();
  $('saved').hidden = saved == null;
  if (saved == null) return;
  const planned = saved.store.planned?.length ?? 0;
  $('saved-text').textContent = `A sweep saved in this browser: ${saved.store.summaries.length} of ${planned} runs complete.`;
}

function readSpec(): SweepSpec {
  const preset = $<HTMLSelectElement>('preset').value;
  const steps = Number($<HTMLInputElement>('steps').value);
  const runs = Number($<HTMLInputElement>('runs').value);
  const base = preset === 'custom' ? JSON.parse($<HTMLTextAreaElement>('spec').value) : { preset };
  return { ...base, ...(steps > 0 ? { steps } : {}), ...(preset !== 'custom' || !base.parameters?.seed ? { runs } : {}) };
}

function showError(message: string | null): void {
  const el = $('error');
  el.hidden = message == null;
  el.textContent = message ?? '';
}

function runsTable(plan: PlannedRun[]): void {
  const table = $<HTMLTableElement>('runs-table');
  table.hidden = false;
  table.tBodies[0].innerHTML = plan.map((r) =>
    `<tr id="run-${esc(r.id)}"><td>${esc(r.id)}</td><td>0</td><td></td><td></td><td></td><td>queued</td></tr>`).join('');
}

function updateRunRow(id: string, step: number | null, losses: Partial<Record<LossName, number>> | null, status?: string): void {
  const row = document.getElementById(`run-${id}`) as HTMLTableRowElement | null;
  if (row == null) return;
  if (step != null) row.cells[1].textContent = String(step);
  if (losses) LOGGED.forEach((l, i) => { row.cells[2 + i].textContent = fmt(losses[l]); });
  if (status) {
    row.cells[5].textContent = status;
    row.cells[5].className = `status-${status.split(' ')[0]}`;
  }
}

function onProgress(p: SweepProgress): void {
  if (p.completedRuns !== state.savedAt) {
    state.savedAt = p.completedRuns;
    saveSweep();
  }
  const total = state.plan.reduce((n, r) => n + r.config.steps, 0);
  const done = state.plan.reduce((n, r) => n + (state.store?.rowsOf(r.id).length ?? 0), 0);
  $<HTMLProgressElement>('progress').value = total ? done / total : 0;
  const eta = p.etaSeconds == null ? '' : `, about ${Math.ceil(p.etaSeconds)} s left`;
  $('progress-text').textContent = `${p.completedRuns} of ${p.totalRuns} runs done${p.failedRuns ? `, ${p.failedRuns} failed` : ''}${eta}`;
  updateRunRow(p.runId, p.step, p.losses, 'running');
}

/** The runs so far (complete or partial) as the report's RunLogs. */
function liveLogs(): RunLog[] {
  const store = state.store!;
  return state.plan.filter((r) => store.rowsOf(r.id).length > 0).map((r) => ({
    id: r.id, config: r.config, rows: store.rowsOf(r.id),
    status: store.isComplete(r.id) ? store.readSummary(r.id).status : 'completed',
  }));
}

let drawing = false;
/** Redraws the figures whose runs got rows since the last draw (at most once a second while running). */
async function drawFigures(force = false): Promise<void> {
  if (drawing || state.store == null || (!force && Date.now() - state.lastDraw < 1000)) return;
  drawing = true;
  try {
    state.lastDraw = Date.now();
    const container = $('figures');
    for (const group of segloss.groupFigures(liveLogs())) {
      if (!force && !group.runs.some((r) => state.dirty.has(r.id))) continue;
      const svg = await segloss.specToSvg(segloss.figureSpec(group));
      let figure = document.getElementById(`fig-${group.key}`);
      if (figure == null) {
        figure = document.createElement('figure');
        figure.id = `fig-${group.key}`;
        figure.className = 'figure';
        container.append(figure);
      }
      figure.innerHTML = svg;
    }
    state.dirty.clear();
  } finally {
    drawing = false;
  }
}

function detail(r: segloss.ReportRun): string {
  if (r.convergedAt != null) return `from step ${r.convergedAt}`;
  if (r.predictedClass != null) return `predicts class ${r.predictedClass} everywhere`;
  return '';
}

async function showVerdicts(logs: RunLog[]): Promise<void> {
  const report = await segloss.renderReport(logs);
  const rows = report.runs.map((r) => `<tr><td>${esc(r.id)}</td><td>${fmt(r.finalAccuracy)}</td>`
    + `<td class="verdict-${esc(r.verdict.split(' ')[0])}">${esc(r.verdict)}</td><td>${esc(detail(r))}</td></tr>`).join('');
  // The seed's observations that this sweep covers, and the puzzle where it covers it (as the report has them).
  const covered = report.observations.filter((o) => o.status !== 'not covered');
  const observations = covered.length ? `<h3>The seed's observations</h3><table class="observations"><thead><tr><th>#</th><th>observation</th><th>status</th><th>numbers</th></tr></thead><tbody>${
    covered.map((o) => `<tr><td>${o.id}</td><td>${esc(o.title)}</td><td class="status-${o.status === 'reproduced' ? 'completed' : 'failed'}">${esc(o.status)}</td><td>${esc(o.summary)}</td></tr>`).join('')}</tbody></table>` : '';
  const puzzle = report.puzzle ? `<h3>The seed's puzzle</h3><ul class="puzzle">${
    report.puzzle.analysis.comparisons.map((c) => `<li>${esc(segloss.describePuzzleComparison(c))}</li>`).join('')}</ul><figure id="fig-puzzle" class="figure">${report.puzzle.svg}</figure>` : '';
  // A U-Net cell's validation images with its predictions, as the report's Predictions section has them.
  const overlays = report.overlays.length ? `<h3>Predictions</h3><p class="hint">foreground found: green, missed: blue, background taken for foreground: red</p><div class="overlays">${
    report.overlays.map((o) => `<figure><img alt="${esc(o.runId)}" src="data:image/png;base64,${pngBase64(o.png)}"><figcaption>${esc(o.runId)}</figcaption></figure>`).join('')}</div>` : '';
  $('verdicts').innerHTML = `<table class="verdicts"><thead><tr><th>run</th><th>final accuracy</th><th>verdict</th><th>detail</th></tr></thead><tbody>${rows}</tbody></table>${overlays}${observations}${puzzle}`;
}

function pngBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** Points the download links at the store's summary.csv and JSON (what a sweep directory would hold). */
function offerDownloads(store: segloss.MemorySweepStore): void {
  for (const [id, text, type] of [['dl-csv', store.summaryCsv(), 'text/csv'], ['dl-json', JSON.stringify(store), 'application/json']]) {
    const link = $<HTMLAnchorElement>(id);
    if (link.href.startsWith('blob:')) URL.revokeObjectURL(link.href);
    link.href = URL.createObjectURL(new Blob([text], { type }));
  }
  $('downloads').hidden = false;
}

async function runSweepFromForm(event: Event): Promise<void> {
  event.preventDefault();
  if (state.running) return;
  showError(null);
  let spec: SweepSpec;
  let plan: PlannedRun[];
  try {
    spec = readSpec();
    plan = segloss.planSweep(segloss.parseSweepSpec(spec));
  } catch (error) {
    showError(error instanceof segloss.ConfigError || error instanceof SyntaxError ? String(error.message) : String(error));
    return;
  }
  await sweep(spec, plan, new segloss.MemorySweepStore(), false);
}

/** Resumes the sweep saved in this browser: its complete runs are kept, the others trained. */
async function resumeSaved(): Promise<void> {
  if (state.running) return;
  const saved = readSaved();
  if (saved == null) return offerSaved();
  showError(null);
  const store = segloss.MemorySweepStore.fromJSON(saved.store);
  await sweep(saved.spec, segloss.planSweep(segloss.parseSweepSpec(saved.spec)), store, true);
}

async function sweep(spec: SweepSpec, plan: PlannedRun[], store: segloss.MemorySweepStore, resume: boolean): Promise<void> {
  const controller = new AbortController();
  Object.assign(state, { running: controller, store, spec, plan, done: false, savedAt: -1, saveFailed: false });
  showSaveWarning(null);
  $('saved').hidden = true;
  state.dirty.clear();
  $('figures').innerHTML = '';
  $('verdicts').innerHTML = '';
  runsTable(plan);
  for (const r of plan) {
    if (store.isComplete(r.id)) updateRunRow(r.id, store.readSummary(r.id).steps - 1, store.readSummary(r.id).finalLosses, 'completed');
  }
  $<HTMLButtonElement>('run').disabled = true;
  $<HTMLButtonElement>('stop').disabled = false;
  $('progress-text').textContent = `${resume ? 'resuming' : 'starting'} ${plan.length} runs…`;
  const workers = Number($<HTMLInputElement>('workers').value) || undefined;
  // A resumed sweep keeps the engine it began with (saved before engines were recorded: tfjs).
  const engine = resume ? (store.engine ?? 'tfjs') : $<HTMLSelectElement>('engine').value as segloss.SweepEngine;
  try {
    const result = await segloss.runSweep(spec, {
      workerUrl, workers, store, resume, engine, signal: controller.signal, onProgress,
      onRows: (run) => { state.dirty.add(run.id); void drawFigures(); },
    });
    for (const s of result.runs) updateRunRow(s.id, s.steps - 1, s.finalLosses, s.status);
    for (const f of result.failed) updateRunRow(f.id, null, null, 'failed');
    await drawFigures(true);
    await showVerdicts(result.store.runLogs());
    offerDownloads(result.store);
    $<HTMLProgressElement>('progress').value = result.aborted ? $<HTMLProgressElement>('progress').value : 1;
    $('progress-text').textContent = result.aborted
      ? `Stopped: ${result.runs.length} of ${plan.length} runs complete.`
      : `Done: ${result.runs.length} of ${plan.length} runs complete${result.failed.length ? `, ${result.failed.length} failed (${result.failed.map((f) => f.error).join('; ')})` : ''}.`;
    // A finished sweep has nothing left to resume; a stopped or partly failed one stays saved.
    if (result.runs.length === plan.length) localStorage.removeItem(SAVE_KEY);
    else saveSweep();
  } catch (error) {
    showError(String(error instanceof Error ? error.message : error));
    saveSweep();
  } finally {
    state.running = null;
    state.done = true;
    $<HTMLButtonElement>('run').disabled = false;
    $<HTMLButtonElement>('stop').disabled = true;
    offerSaved();
  }
}

// -----------------------------------------------------------------------------------------------
// Benchmark UI: a fresh worker runs src/bench/losses.ts; rows appear as they are measured.

/**
 * The loss benchmark (src/bench/losses.ts) in a fresh module worker of this page; its rows.
 * `print` gets the lines `segloss bench losses` prints in Node.
 */
async function benchmark(shapes: segloss.Shape4[] = BENCH_SHAPES, print?: (line: string) => void): Promise<segloss.LossBenchRow[]> {
  const worker = new Worker(workerUrl, { type: 'module', name: 'segloss-bench' });
  const api = Comlink.wrap<WorkerApi>(worker);
  try {
    await api.init({});
    return await api.benchmarkLosses(shapes, print && Comlink.proxy(print));
  } finally {
    api[Comlink.releaseProxy]();
    worker.terminate();
  }
}

async function runBenchmark(): Promise<void> {
  const button = $<HTMLButtonElement>('bench');
  button.disabled = true;
  const status = $('bench-status');
  const table = $<HTMLTableElement>('bench-table');
  table.tBodies[0].innerHTML = '';
  try {
    status.textContent = 'measuring (about 20 s)…';
    const rows = await benchmark();
    table.hidden = false;
    // One block per shape: a heading row, then its rows; the first row of a block is its baseline.
    table.tBodies[0].innerHTML = rows.map((r, i) => (i === 0 || rows[i - 1].group !== r.group
      ? `<tr class="group"><th colspan="4">${esc(r.group)} (${(r.group.slice(1, -1).split(',').reduce((n, d) => n * Number(d), 1) / 1e6).toFixed(2)} M elements)</th></tr>` : '')
      + `<tr><td>${esc(r.name)}</td><td>${r.medianMs.toFixed(3)}</td><td>${r.melemPerS.toFixed(1)}</td>`
      + `<td>${r.speedup == null ? 'baseline' : `${r.speedup.toFixed(1)}×`}</td></tr>`).join('');
    status.textContent = 'done (speed-up: against the first row of its block; scalar rows against SIMD).';
  } catch (error) {
    status.textContent = `failed: ${error instanceof Error ? error.message : String(error)}`;
  } finally {
    button.disabled = false;
  }
}

// -----------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const select = $<HTMLSelectElement>('preset');
  select.innerHTML = Object.values(segloss.presets).map((p) =>
    `<option value="${esc(p.name)}" title="${esc(p.description)}">${esc(p.name)} (${p.runs * Object.values(p.grid).reduce((n, v) => n * (v as unknown[]).length, 1)} runs)</option>`).join('')
    + '<option value="custom">custom</option>';
  select.value = 'quick';
  $<HTMLTextAreaElement>('spec').value = JSON.stringify(DEFAULT_CUSTOM, null, 2);
  select.addEventListener('change', () => { ($('custom') as HTMLDetailsElement).open = select.value === 'custom'; });
  $<HTMLInputElement>('workers').value = String(navigator.hardwareConcurrency || 2);
  $('sweep-form').addEventListener('submit', (e) => void runSweepFromForm(e));
  $('stop').addEventListener('click', () => state.running?.abort());
  $('bench').addEventListener('click', () => void runBenchmark());
  $('resume').addEventListener('click', () => void resumeSaved());
  $('discard').addEventListener('click', () => { localStorage.removeItem(SAVE_KEY); offerSaved(); });
  offerSaved();
  unet = setupUNetSection();

  const isolated = globalThis.crossOriginIsolated === true;
  try {
    const { variant } = await setupMainThread();
    $('env').textContent = `tfjs ${tf.version_core}, wasm backend; segloss kernels: ${variant}; `
      + `cross-origin isolated: ${isolated ? 'yes (tfjs may use threads on this page)' : 'no (single-threaded tfjs; everything still works)'}; `
      + `${navigator.hardwareConcurrency} logical cores.`;
  } catch (error) {
    $('env').textContent = `tfjs's wasm backend failed to start here: ${error instanceof Error ? error.message : String(error)}`;
  }
  document.body.dataset.ready = 'true';
}

/** For the console and the browser tests: whether tfjs's memory on this page is shared (threaded build). */
function sharedMemory(): boolean {
  return typeof SharedArrayBuffer !== 'undefined'
    && backendMemory(tf.backend() as BackendWasm).buffer instanceof SharedArrayBuffer;
}

let unet: ReturnType<typeof setupUNetSection> | null = null;
Object.assign(globalThis, { segloss, seglossDemo: { state, lossCheck, sharedMemory, benchmark, unetBench, tf, get unet() { return unet; } } });
void main();
