/**
 * Report speed and memory (issues #6 and #24). Each report runs in a child process of its own
 * (`node dist/…`), which prints its wall time and peak memory (maxRSS), so one report's garbage
 * does not count against another's:
 *
 * 1. A synthetic full-size `seed` preset (108 runs × 10,001 logged steps, 1,001 with --quick)
 *    written through the real SweepStore (tables, reductions, markers); its report from the runs'
 *    reductions, the same again (its figures unchanged, so not drawn again), then from JSONL logs
 *    alone (the directory as segloss wrote it before columnar logs and reductions), every figure
 *    drawn. Also: the tables' and the logs' bytes a row, what checking every completion marker
 *    against its table (SHA-256) costs, and reading every table's rows back.
 *    And `segloss export` of that sweep, to Parquet and to CSV, and to Parquet of 1,080 and 10,800
 *    runs (the seed's tables copied; 1,080 only with --quick): time, peak memory, bytes a row.
 * 2. The curve against the runs: sweeps of 108, 1,080 and 10,800 runs (the seed's grid with 3, 30
 *    and 300 seeds; with --quick 108 and 1,080 of 1,001 steps), each run's reduction computed from
 *    10,001 plausible rows and written with its marker, as a finished sweep holds them; the
 *    report reads no log.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PlannedRun } from '../experiment/presets.js';
import { expandPreset, presets } from '../experiment/presets.js';
import type { StepLog } from '../experiment/train.js';
import { RunReducer } from '../report/reduce.js';
import { recordRun } from '../sdk/pool.js';
import { digestOf, SweepStore } from '../sdk/store.js';
import { rowToJson, SummaryTracker } from '../sdk/summary.js';
import type { BenchContext } from './suite.js';

export interface ReportBenchRow {
  name: string;
  runs: number;
  steps: number;
  seconds: number;
  peakMB: number;
}

/** A plausible row of a run: losses falling with noise, gradient norms by foreground, an evaluation every 250 steps. */
export function plausibleRow(run: PlannedRun, step: number, steps: number): StepLog {
  const c = run.config;
  const noise = Math.sin(step * 12.9898 + c.seed * 78.233) * 0.5;
  const scale = c.foreground === 0.05 ? 2 : c.foreground === 0.5 ? 1.5 : 1;
  const row: StepLog = {
    step,
    // Losses are float32s, as tfjs computes them; gradient norms are summed in float64.
    losses: { cce: Math.fround((0.7 + 0.1 * noise) / (1 + step / 500)), dicefg: Math.fround((0.5 + 0.05 * noise) / (1 + step / 800)), dice: Math.fround((0.6 + 0.05 * noise) / (1 + step / 700)) },
    gradNorms: { cce: scale * (0.25 + 0.05 * noise), dicefg: scale * (0.5 + 0.1 * noise), dice: scale * 0.2 * (1 + noise / 10) },
  };
  if (step % 250 === 0 || step === steps - 1) {
    const accuracy = c.optimizer.name === 'sgd' ? 0.6 : Math.min(0.999, 0.9 + step / 1e5);
    row.eval = { accuracy, dice: [accuracy - 0.02, accuracy], iou: [accuracy - 0.04, accuracy - 0.01] };
  }
  return row;
}

/**
 * A finished sweep of `runs` as the report reads it, without logs: sweep.json, and per run its
 * reduction (of `steps` plausible rows) and its completion marker.
 */
export function writeReducedSweep(dir: string, runs: readonly PlannedRun[], steps: number): void {
  const store = new SweepStore(dir);
  store.create();
  store.writeSweep({ spec: { preset: 'seed' }, runs });
  for (const run of runs) {
    const reducer = new RunReducer();
    const tracker = new SummaryTracker();
    for (let step = 0; step < steps; step++) {
      const row = plausibleRow(run, step, steps);
      reducer.add(row);
      tracker.add([row]);
    }
    const summary = tracker.summary(run.id, run.config, { status: 'completed', steps, parameters: 198 });
    const reduction = JSON.stringify(reducer.finish(summary));
    writeFileSync(join(store.runsDir, `${run.id}.reduced.json`), reduction);
    const marker = { ...summary, log: { rows: steps, bytes: 0, sha256: '' }, reduction: digestOf(reduction) };
    writeFileSync(join(store.runsDir, `${run.id}.done.json`), JSON.stringify(marker, null, 2) + '\n');
  }
}

/**
 * A finished sweep of `planned` runs in `dir` made of `from`'s tables: run k's table is a copy of
 * `runs[k mod runs.length]`'s, its marker that run's with its own id and config (no reduction: what
 * the export reads).
 */
function copySweep(from: SweepStore, runs: readonly PlannedRun[], dir: string, planned: readonly PlannedRun[]): void {
  const store = new SweepStore(dir);
  store.create();
  store.writeSweep({ spec: { preset: 'seed' }, runs: planned });
  planned.forEach((run, k) => {
    const source = runs[k % runs.length].id;
    copyFileSync(from.path(source, '.parquet'), store.path(run.id, '.parquet'));
    const { reduction: _reduction, ...marker } = JSON.parse(readFileSync(from.path(source, '.done.json'), 'utf8'));
    writeFileSync(store.path(run.id, '.done.json'), JSON.stringify({ ...marker, id: run.id, config: run.config }));
  });
}

/**
 * A sweep directory as segloss wrote it before columnar logs (issue #24): each complete run's table
 * (runs/<id>.parquet) turned back into the JSONL log it was compacted from, its marker recording
 * the log's rows and digest in place of the table's. Also the tests'.
 */
export async function withJsonlLogs(dir: string): Promise<void> {
  const store = new SweepStore(dir);
  for (const file of readdirSync(store.runsDir)) {
    if (!file.endsWith('.parquet')) continue;
    const id = file.slice(0, -'.parquet'.length);
    const rows = await store.readRows(id);
    const log = rows.map((row) => `${rowToJson(row)}\n`).join('');
    writeFileSync(store.path(id, '.jsonl'), log);
    rmSync(store.path(id, '.parquet'));
    let marker: Record<string, unknown>;
    try {
      marker = JSON.parse(readFileSync(store.path(id, '.done.json'), 'utf8'));
    } catch {
      continue;
    }
    const { table: _table, reduction, ...summary } = marker;
    writeFileSync(store.path(id, '.done.json'), JSON.stringify({ ...summary, log: { rows: rows.length, ...digestOf(log) }, ...(reduction ? { reduction } : {}) }, null, 2) + '\n');
  }
}

/**
 * A sweep directory as segloss wrote it before reductions (issue #24, with `withJsonlLogs` first):
 * no runs/*.reduced.json, markers without their digest (a marker that is not JSON stays as it is).
 * Also the tests'.
 */
export function withoutReductions(dir: string): void {
  const runsDir = join(dir, 'runs');
  for (const file of readdirSync(runsDir)) {
    if (file.endsWith('.reduced.json')) rmSync(join(runsDir, file));
    if (file.endsWith('.done.json')) {
      let marker: Record<string, unknown>;
      try {
        marker = JSON.parse(readFileSync(join(runsDir, file), 'utf8'));
      } catch {
        continue;
      }
      delete marker.reduction;
      writeFileSync(join(runsDir, file), JSON.stringify(marker, null, 2) + '\n');
    }
  }
}

/**
 * `writeReport(dir)` in a child process of its own: its wall time, and the peak memory of it and
 * its figure processes together (their resident sizes summed, sampled every 20 ms from /proc; the
 * process's own peak where /proc is missing).
 */
function reportInChild(dir: string): Promise<{ seconds: number; peakMB: number; runs: number; figures: number }> {
  return measureInChild(`const { report } = await segloss.writeReport(${JSON.stringify(dir)});
const result = { runs: report.runs.length, figures: report.figures.length };`);
}

/** `exportSweep(dir)` to `out` in a child process of its own: its wall time and peak memory. */
function exportInChild(dir: string, format: 'parquet' | 'csv', out: string): Promise<{ seconds: number; peakMB: number; runs: number; rows: number; columns: number }> {
  return measureInChild(`const exported = await segloss.exportSweep(${JSON.stringify(dir)}, { format: ${JSON.stringify(format)}, out: ${JSON.stringify(out)} });
const result = { runs: exported.runs, rows: exported.rows, columns: exported.columns.length };`);
}

/**
 * Runs `body` (a module's code that sets \`result\`, with the built package as \`segloss\`) in a
 * child process of its own; its wall time, and the peak memory of it and its child processes
 * together (their resident sizes summed, sampled every 20 ms from /proc; the process's own peak
 * where /proc is missing).
 */
async function measureInChild<T>(body: string): Promise<T & { seconds: number; peakMB: number }> {
  const index = new URL('./index.js', import.meta.url).href;
  const script = `import { readFileSync } from 'node:fs';
const segloss = await import(${JSON.stringify(index)});
const rss = (pid) => { try { return Number(/VmRSS:\\s+(\\d+)/.exec(readFileSync('/proc/' + pid + '/status', 'utf8'))[1]); } catch { return 0; } };
const children = (pid) => { try { return readFileSync('/proc/' + pid + '/task/' + pid + '/children', 'utf8').split(' ').filter(Boolean); } catch { return []; } };
let peak = 0;
const sample = () => { peak = Math.max(peak, rss(process.pid) + children(process.pid).reduce((a, c) => a + rss(c), 0)); };
const timer = setInterval(sample, 20);
const t0 = performance.now();
${body}
const seconds = (performance.now() - t0) / 1000;
clearInterval(timer);
sample();
peak = Math.max(peak, process.resourceUsage().maxRSS);
console.log(JSON.stringify({ ...result, seconds, peakMB: peak / 1024 }));`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { err += d; });
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  if (code !== 0) throw new Error(`report bench: the measured process exited with ${code}: ${err.trim()}`);
  return JSON.parse(out.trim().split('\n').at(-1)!);
}

/** A report's figures are kept between reports (figures.json): the next report draws them again only when they changed. */
const forgetFigures = (dir: string) => rmSync(join(dir, 'report'), { recursive: true, force: true });

export async function benchReport({ print, quick }: BenchContext): Promise<ReportBenchRow[]> {
  if (!fileURLToPath(import.meta.url).includes(`${join('dist', '')}`)) throw new Error('report bench: run it from the build (node bin/segloss.js bench report)');
  const root = mkdtempSync(join(tmpdir(), 'segloss-report-bench-'));
  const rows: ReportBenchRow[] = [];
  const steps = quick ? 1001 : 10_001;
  try {
    // 1. The seed preset through the real SweepStore.
    const dir = join(root, 'seed');
    const runs = expandPreset(presets.seed, { steps });
    const store = new SweepStore(dir);
    store.create();
    store.writeSweep({ spec: { preset: 'seed' }, runs });
    for (const run of runs) {
      const log = Array.from({ length: steps }, (_, step) => plausibleRow(run, step, steps));
      recordRun(store, run, log, { status: 'completed', steps, parameters: 198 });
    }
    const verifyStarted = performance.now();
    const complete = runs.filter(({ id }) => store.inspect(id).kind === 'complete').length;
    const verifySeconds = (performance.now() - verifyStarted) / 1000;
    const bytesOf = (suffix: '.parquet' | '.jsonl' | '.reduced.json') => runs.reduce((n, { id }) => n + statSync(store.path(id, suffix)).size, 0);
    const tableBytes = bytesOf('.parquet');
    const reductionBytes = bytesOf('.reduced.json');
    print(`seed preset: ${runs.length} runs × ${steps} steps; tables (runs/*.parquet) ${(tableBytes / 1e6).toFixed(1)} MB (${(tableBytes / runs.length / steps).toFixed(1)} bytes a row), `
      + `reductions ${(reductionBytes / 1e6).toFixed(1)} MB (${(reductionBytes / runs.length / 1e3).toFixed(0)} kB a run)`);
    print(`checking ${complete} completion markers against their tables (SHA-256): ${verifySeconds.toFixed(2)} s`);
    const readStarted = performance.now();
    let rowsRead = 0;
    for (const { id } of runs) rowsRead += (await store.readRows(id)).length;
    print(`reading every table's rows back: ${rowsRead.toLocaleString('en')} rows in ${((performance.now() - readStarted) / 1000).toFixed(1)} s`);
    const fromReductions = await reportInChild(dir);
    rows.push({ name: 'seed preset, from reductions', runs: fromReductions.runs, steps, seconds: fromReductions.seconds, peakMB: fromReductions.peakMB });
    const again = await reportInChild(dir);
    rows.push({ name: 'seed preset again (its figures unchanged: not drawn)', runs: again.runs, steps, seconds: again.seconds, peakMB: again.peakMB });
    // The export of the same sweep (every row, the config as columns), both formats; then of
    // 1,080 and 10,800 runs (1,080 with --quick): the seed's tables copied, run k's from seed run k mod 108.
    const exportRow = async (from: string, format: 'parquet' | 'csv') => {
      const out = join(root, `export.${format}`);
      const exported = await exportInChild(from, format, out);
      const bytes = statSync(out).size;
      print(`segloss export --format ${format}: ${exported.runs} runs, ${exported.rows.toLocaleString('en')} rows × ${exported.columns} columns in ${exported.seconds.toFixed(1)} s, `
        + `peak ${exported.peakMB.toFixed(0)} MB, ${(bytes / 1e6).toFixed(1)} MB (${(bytes / exported.rows).toFixed(1)} bytes a row)`);
      rmSync(out);
    };
    for (const format of ['parquet', 'csv'] as const) await exportRow(dir, format);
    for (const seeds of quick ? [30] : [30, 300]) {
      const copies = join(root, `export-${seeds}`);
      copySweep(store, runs, copies, expandPreset({ ...presets.seed, runs: seeds }, { steps }));
      await exportRow(copies, 'parquet');
      rmSync(copies, { recursive: true, force: true });
    }
    forgetFigures(dir);
    await withJsonlLogs(dir);
    const logBytes = bytesOf('.jsonl');
    print(`the same rows as JSONL logs (segloss before 0.3): ${(logBytes / 1e6).toFixed(0)} MB (${(logBytes / runs.length / steps).toFixed(0)} bytes a row, `
      + `${(logBytes / tableBytes).toFixed(1)}× the tables)`);
    withoutReductions(dir);
    const fromLogs = await reportInChild(dir);
    rows.push({ name: 'seed preset, from logs alone (a directory from before reductions)', runs: fromLogs.runs, steps, seconds: fromLogs.seconds, peakMB: fromLogs.peakMB });
    rmSync(dir, { recursive: true, force: true });

    // 2. The curve against the runs, from reductions.
    for (const seeds of quick ? [3, 30] : [3, 30, 300]) {
      const scaled = join(root, `seeds-${seeds}`);
      mkdirSync(scaled);
      const planned = expandPreset({ ...presets.seed, runs: seeds }, { steps });
      const t0 = performance.now();
      writeReducedSweep(scaled, planned, steps);
      const written = (performance.now() - t0) / 1000;
      const r = await reportInChild(scaled);
      print(`  (${planned.length} runs: their reductions written in ${written.toFixed(0)} s)`);
      rows.push({ name: `${planned.length} runs, from reductions`, runs: r.runs, steps, seconds: r.seconds, peakMB: r.peakMB });
      rmSync(scaled, { recursive: true, force: true });
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  print('');
  print(`${'report (its process and its figure processes)'.padEnd(70)} ${'runs'.padStart(6)} ${'seconds'.padStart(8)} ${'peak MB'.padStart(8)}`);
  for (const r of rows) print(`${r.name.padEnd(70)} ${String(r.runs).padStart(6)} ${r.seconds.toFixed(1).padStart(8)} ${r.peakMB.toFixed(0).padStart(8)}`);
  return rows;
}
