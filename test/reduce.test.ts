/**
 * Run reductions (src/report/reduce.ts, issue #24): a report holds each run's reduction, never its
 * rows. The reduction of a log in memory, of a log read line by line and of a stored reduction are
 * the same; a report of a sweep directory is the same, byte for byte, from its reductions, from its
 * logs alone (a directory from before reductions) and from the runs in memory; a report of a
 * finished sweep reads no log; a damaged or missing reduction is named, left out of the report,
 * and trained again on resume.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { expandPreset, presets } from '../src/experiment/presets.js';
import type { PlannedRun } from '../src/experiment/presets.js';
import type { StepLog } from '../src/experiment/train.js';
import { reduceRun, RunReducer } from '../src/report/reduce.js';
import { renderReport } from '../src/report/render.js';
import { checkObservations } from '../src/report/observations.js';
import { analysePuzzle, puzzleFigureSpec } from '../src/report/puzzle.js';
import { readSweepRuns, writeReport } from '../src/report/write.js';
import { recordRun } from '../src/sdk/pool.js';
import { digestOf, SweepStore } from '../src/sdk/store.js';
import { listFiles, withJsonlLogs, withoutReductions } from './helpers/sweep_dir.js';

const scratch = mkdtempSync(join(tmpdir(), 'segloss-reduce-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** 2,400 rows: past observation 4's step 1,000 and the puzzle's step 2,000. */
const ROWS = 2400;

/**
 * Plausible rows for a run: losses falling, CCE's gradient norm spiking early for DICEFG at 50% fg,
 * norms larger at 5% fg than at 95% (and reversed when inverted), accuracy rising to near 1 except
 * Adam without BN on DICEFG at 95% fg (stuck); a NaN here and there.
 */
function rowsOf({ config }: PlannedRun, rows = ROWS): StepLog[] {
  const stuck = config.optimizer.name === 'adam' && !config.batchNorm && config.foreground === 0.95 && config.trainLoss === 'dicefg';
  const sgd = config.optimizer.name === 'sgd';
  const scale = (config.foreground === 0.05) !== config.invertInput ? 2 : 1;
  const spike = config.trainLoss === 'dicefg' && config.foreground === 0.5 ? 20 : 1;
  return Array.from({ length: rows }, (_, step) => {
    const bump = step > 100 && step < 600 ? spike : 1;
    const wobble = 1 + 0.2 * Math.sin(step / 7 + config.seed);
    const row: StepLog = {
      step,
      losses: { cce: (0.7 * bump) / (1 + step / 300) * wobble, dicefg: 0.5 / (1 + step / 500), dice: step === 77 ? NaN : 0.6 / (1 + step / 400) },
      gradNorms: { cce: (0.25 * scale * bump) * wobble, dicefg: 0.5 * scale * wobble, dice: 0.2 * scale },
    };
    if (step % 100 === 0 || step === rows - 1) {
      const accuracy = stuck ? 1 - config.foreground : sgd ? 0.6 : Math.min(0.999, 0.8 + step / 2000);
      row.eval = { accuracy, dice: stuck ? [1, 0] : [accuracy - 0.01, accuracy], iou: [accuracy - 0.02, accuracy - 0.01] };
    }
    return row;
  });
}

/** The seed's grid (one seed) and the puzzle's inverted cells: every observation and the puzzle covered. */
const planned = [...expandPreset({ ...presets.seed, runs: 1 }), ...expandPreset({ ...presets.puzzle, runs: 1 })]
  .filter((run, k, all) => all.findIndex((r) => r.id === run.id) === k);

function writeSweep(dir: string, runs: readonly PlannedRun[]): void {
  const store = new SweepStore(dir);
  store.create();
  store.writeSweep({ spec: { preset: 'test' }, runs });
  for (const run of runs) recordRun(store, run, rowsOf(run), { status: 'completed', steps: ROWS, parameters: 198 });
}

/** Every file of dir/report, name → bytes. */
const reportFiles = (dir: string) => Object.fromEntries(listFiles(join(dir, 'report')).sort().map((f) => [f, readFileSync(join(dir, 'report', f))]));

describe('a run\'s reduction', () => {
  it('is the same from rows in memory, rows one at a time, its table, a log read line by line, and the stored file', async () => {
    const dir = join(scratch, 'one');
    const run = planned.find((r) => r.id.startsWith('adam-bn0-50fg-dicefg'))!;
    writeSweep(dir, [run]);
    const store = new SweepStore(dir);
    const state = store.inspect(run.id);
    if (state.kind !== 'complete') throw new Error(`run not complete: ${JSON.stringify(state)}`);
    const rows = rowsOf(run);
    const inMemory = reduceRun({ id: run.id, config: run.config, rows, status: 'completed' });
    const streamed = new RunReducer();
    for (const row of rows) streamed.add(row);
    expect(streamed.finish({ id: run.id, config: run.config, status: 'completed' })).toEqual(inMemory);
    // The stored file went through JSON: NaN is not in it (every value kept is finite or null).
    const stored = await store.readReduction(run.id, state.summary);
    expect(stored).toEqual(JSON.parse(JSON.stringify(inMemory)));
    withoutReductions(dir); // its table's rows reduced (a reduction of another version is recomputed so)
    expect(await store.readReduction(run.id, state.summary)).toEqual(stored);
    await withJsonlLogs(dir); // its JSONL log's, line by line
    expect(existsSync(store.path(run.id, '.parquet'))).toBe(false);
    expect(await store.readReduction(run.id, state.summary)).toEqual(stored);

    // What it keeps: the figure's points, every evaluation, observation 4's spike, the medians.
    expect(inMemory.rows).toBe(ROWS);
    expect(inMemory.curves.losses.map((c) => c.loss)).toEqual(['cce', 'dice', 'dicefg']);
    for (const c of [...inMemory.curves.losses, ...inMemory.curves.gradNorms]) expect(c.step.length).toBeLessThanOrEqual(400);
    expect(inMemory.evals.map((e) => e.step)).toEqual([...Array.from({ length: 24 }, (_, k) => 100 * k), ROWS - 1]);
    expect(inMemory.spike?.holds).toBe(true);
    expect(inMemory.gradNormMedian.dice).toBeCloseTo(0.2, 12);
    expect(inMemory.puzzleCurve.step).toHaveLength(300);
    // A few thousand numbers for 2,400 rows: a fraction of the log.
    expect(JSON.stringify(stored).length).toBeLessThan(readFileSync(store.path(run.id, '.jsonl')).length / 3);
  });

  it('is made as the run completes, with its table; the write-ahead log goes', () => {
    const dir = join(scratch, 'files');
    const run = planned[0];
    writeSweep(dir, [run]);
    expect(readdirSync(join(dir, 'runs')).sort()).toEqual([`${run.id}.done.json`, `${run.id}.parquet`, `${run.id}.reduced.json`]);
    const marker = JSON.parse(readFileSync(join(dir, 'runs', `${run.id}.done.json`), 'utf8'));
    expect(marker.table).toEqual({ rows: ROWS, ...digestOf(readFileSync(join(dir, 'runs', `${run.id}.parquet`))) });
    expect(marker.reduction).toEqual(digestOf(readFileSync(join(dir, 'runs', `${run.id}.reduced.json`))));
    expect(marker.log).toBeUndefined();
  });
});

describe('the seed\'s observations and the puzzle', () => {
  it('are the same from the runs in memory, their stored reductions, their tables and their JSONL logs reduced as read', async () => {
    const dir = join(scratch, 'grid');
    writeSweep(dir, planned);
    const store = new SweepStore(dir);
    const summaries = planned.map((run) => {
      const state = store.inspect(run.id);
      if (state.kind !== 'complete') throw new Error(`${run.id}: ${JSON.stringify(state)}`);
      return state.summary;
    });
    const logs = await readSweepRuns(dir);
    const reductions = () => Promise.all(planned.map((run, k) => store.readReduction(run.id, summaries[k])));
    const stored = await reductions();
    withoutReductions(dir);
    const fromTables = await reductions();
    await withJsonlLogs(dir);
    const fromLogs = await reductions();
    expect(fromTables).toEqual(stored);
    expect(fromLogs).toEqual(stored);
    const checks = checkObservations(logs);
    // Every observation covered, so every statistic of the reductions was used.
    expect(checks.map((c) => c.status)).not.toContain('not covered');
    expect(checkObservations(stored)).toEqual(checks);
    expect(checkObservations(fromLogs)).toEqual(checks);
    const puzzle = analysePuzzle(logs);
    expect(puzzle.comparisons.length).toBeGreaterThan(0);
    expect(analysePuzzle(stored)).toEqual(puzzle);
    expect(analysePuzzle(fromLogs)).toEqual(puzzle);
    expect(puzzleFigureSpec(stored)).toEqual(puzzleFigureSpec(logs));
  });
});

describe('a report from reductions', () => {
  // The puzzle's runs: four figures and the puzzle's.
  const runs = planned.filter((r) => r.config.trainLoss !== 'dicefg' && r.config.optimizer.name === 'adam' && !r.config.batchNorm
    && r.config.foreground !== 0.5);
  const dir = join(scratch, 'sweep');
  writeSweep(dir, runs);

  it('is the same, byte for byte, from reductions, from tables or logs alone, and from the runs in memory; it reads no log', async () => {
    const warnings: string[] = [];
    const progress: [number, number][] = [];
    const { report } = await writeReport(dir, 'a sweep', { onWarning: (w) => warnings.push(w), onProgress: (done, total) => progress.push([done, total]) });
    expect(warnings).toEqual([]);
    // One call a figure, counting up to the figures there are.
    expect(progress).toEqual(report.figures.map((_, k) => [k + 1, report.figures.length]));
    expect(report.runs).toHaveLength(runs.length);
    expect(report.puzzle?.analysis.comparisons.length).toBeGreaterThan(0);
    const fromReductions = reportFiles(dir);
    expect(Object.keys(fromReductions)).toEqual(expect.arrayContaining(['index.html', 'report.json', 'figures.json', 'figures/puzzle.svg']));

    // Again: every figure is unchanged (report/figures.json), so none is drawn, and the files are the same.
    const progressAgain: number[] = [];
    const again = await writeReport(dir, 'a sweep', { onProgress: (done) => progressAgain.push(done) });
    expect(again.figures).toEqual({ drawn: 0, unchanged: report.figures.length });
    expect(progressAgain).toEqual(report.figures.map((_, k) => k + 1));
    expect(reportFiles(dir)).toEqual(fromReductions);

    // Without logs: the report of a finished sweep reads its reductions only.
    const noLogs = join(scratch, 'no-logs');
    cpSync(dir, noLogs, { recursive: true });
    rmSync(join(noLogs, 'report'), { recursive: true });
    for (const f of readdirSync(join(noLogs, 'runs'))) if (f.endsWith('.parquet')) rmSync(join(noLogs, 'runs', f));
    await writeReport(noLogs, 'a sweep');
    expect(reportFiles(noLogs)).toEqual(fromReductions);

    // Tables without reductions (as a reduction of another version is): the tables' rows reduced.
    const tables = join(scratch, 'tables');
    cpSync(dir, tables, { recursive: true });
    rmSync(join(tables, 'report'), { recursive: true });
    withoutReductions(tables);
    await writeReport(tables, 'a sweep');
    expect(reportFiles(tables)).toEqual(fromReductions);

    // A directory from before columnar logs and reductions: its JSONL logs are reduced as they are read.
    const old = join(scratch, 'old');
    cpSync(dir, old, { recursive: true });
    rmSync(join(old, 'report'), { recursive: true });
    await withJsonlLogs(old);
    withoutReductions(old);
    await writeReport(old, 'a sweep');
    expect(reportFiles(old)).toEqual(fromReductions);
    expect(existsSync(join(old, 'runs', `${runs[0].id}.reduced.json`))).toBe(false);

    // The runs in memory (a browser's MemoryStore): the same figures and the same report data.
    const inMemory = await renderReport(await readSweepRuns(dir));
    for (const figure of inMemory.figures) expect(figure.svg).toBe(fromReductions[`figures/${figure.key}.svg`].toString('utf8'));
    expect(inMemory.puzzle?.svg).toBe(fromReductions['figures/puzzle.svg'].toString('utf8'));
    const json = JSON.parse(fromReductions['report.json'].toString('utf8'));
    expect(JSON.parse(JSON.stringify({ runs: inMemory.runs, cells: inMemory.cells, observations: inMemory.observations, puzzle: inMemory.puzzle?.analysis })))
      .toEqual({ runs: json.runs, cells: json.cells, observations: json.observations, puzzle: json.puzzle });
  }, 120_000);

  it('names a damaged or missing reduction, leaves its run out, and the run is trained again on resume', async () => {
    const damaged = join(scratch, 'damaged');
    cpSync(dir, damaged, { recursive: true });
    const [first, second] = runs;
    const path = join(damaged, 'runs', `${first.id}.reduced.json`);
    const text = readFileSync(path, 'utf8');
    writeFileSync(path, text.replace(`"rows":${ROWS}`, `"rows":${ROWS + 1}`));
    rmSync(join(damaged, 'runs', `${second.id}.reduced.json`));
    const store = new SweepStore(damaged);
    expect(store.inspect(first.id)).toEqual({ kind: 'damaged', problem: `runs/${first.id}.reduced.json is damaged: not the reduction its completion marker recorded (SHA-256 differs)` });
    expect(store.inspect(second.id)).toEqual({ kind: 'damaged', problem: `runs/${second.id}.reduced.json is missing (its completion marker is there)` });
    const warnings: string[] = [];
    const { report } = await writeReport(damaged, 'a sweep', { onWarning: (w) => warnings.push(w) });
    expect(report.runs.map((r) => r.id)).not.toContain(first.id);
    expect(report.runs).toHaveLength(runs.length - 2);
    expect(warnings).toEqual([
      `runs/${first.id}.reduced.json is damaged: not the reduction its completion marker recorded (SHA-256 differs); left out of the report`,
      `runs/${second.id}.reduced.json is missing (its completion marker is there); left out of the report`,
    ]);
    // Training them again (what a resumed sweep does with a damaged run) writes good reductions,
    // and the next report draws only the figures whose runs changed.
    for (const run of [first, second]) recordRun(store, run, rowsOf(run), { status: 'completed', steps: ROWS, parameters: 198 });
    expect(store.inspect(first.id).kind).toBe('complete');
    expect(readFileSync(path, 'utf8')).toBe(text);
    const { report: whole, figures } = await writeReport(damaged, 'a sweep');
    expect(whole.runs).toHaveLength(runs.length);
    const changed = new Set([first.id, second.id].map((id) => whole.runs.find((r) => r.id === id)!.figure));
    expect(figures).toEqual({ drawn: changed.size, unchanged: whole.figures.length - changed.size });
    expect(reportFiles(damaged)).toEqual(reportFiles(dir));
  }, 120_000);
});
