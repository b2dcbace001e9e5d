/**
 * `segloss export` (src/sdk/export.ts, issue #24): every row and column of a sweep, read back with
 * Parquet readers other than the writer (hyparquet, and DuckDB) and with a CSV parser (csv-parse),
 * equals the logs and the configs; so do the runs' own tables (runs/<id>.parquet) read by DuckDB;
 * a damaged run is named and left out; the CLI writes the file and refuses an unknown format.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRunConfig } from '../src/experiment/config.js';
import type { StepLog } from '../src/experiment/train.js';
import { exportSweep } from '../src/sdk/export.js';
import { recordRun } from '../src/sdk/pool.js';
import { SweepStore } from '../src/sdk/store.js';
import { runCli } from './helpers/sweep_dir.js';

const scratch = mkdtempSync(join(tmpdir(), 'segloss-export-'));

/** DuckDB's Node API (a dev dependency, native): a third reader of the files; null where it does not load. */
let duckdbProblem = '';
const duckdb = await import('@duckdb/node-api').catch((error: Error) => {
  duckdbProblem = error.message.split('\n')[0];
  return null;
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Runs of two optimizers, a zoo loss among the logged ones, a U-Net with three classes; NaN values and evaluation rows. */
const runs = [
  parseRunConfig({ trainLoss: 'cce', foreground: 0.05, seed: 0, steps: 40, evalEvery: 10 }),
  parseRunConfig({ trainLoss: 'dice', foreground: 0.95, seed: 3, steps: 40, evalEvery: 10, batchNorm: true, optimizer: { name: 'sgd', learningRate: 0.5 } }),
  parseRunConfig({ trainLoss: { name: 'tversky', alpha: 0.3, beta: 0.7 }, loggedLosses: ['cce', { name: 'tversky', alpha: 0.3, beta: 0.7 }], steps: 25, evalEvery: 5, seed: 4294967295 }),
].map((config, k) => ({ id: `run-${k}`, config }));

function rowsOf(k: number, steps: number): StepLog[] {
  const { config } = runs[k];
  const classes = k === 2 ? 3 : 2;
  return Array.from({ length: steps }, (_, step) => {
    const row: StepLog = {
      step,
      losses: Object.fromEntries(config.loggedLosses.map((l, j) => [l, step === 7 && j === 0 ? NaN : 1 / (step + 1 + j) + k / 3])),
      gradNorms: Object.fromEntries(config.loggedLosses.map((l, j) => [l, Math.sqrt(step + j) / 7])),
    };
    if (step % config.evalEvery === 0 || step === steps - 1) {
      row.eval = { accuracy: 0.5 + step / 100, dice: Array.from({ length: classes }, (_, c) => c / 10 + step / 1000), iou: Array.from({ length: classes }, (_, c) => c / 20 + step / 3000) };
    }
    return row;
  });
}

const dir = join(scratch, 'sweep');
beforeAll(() => {
  const store = new SweepStore(dir);
  store.create();
  store.writeSweep({ spec: { preset: 'test' }, runs: [...runs, { id: 'damaged', config: runs[0].config }] });
  runs.forEach((run, k) => recordRun(store, run, rowsOf(k, run.config.steps), { status: 'completed', steps: run.config.steps, parameters: 1 }));
  recordRun(store, { id: 'damaged', config: runs[0].config }, rowsOf(0, 40), { status: 'completed', steps: 40, parameters: 1 });
  const table = readFileSync(store.path('damaged', '.parquet'));
  table[Math.floor(table.length / 2)] ^= 1;
  writeFileSync(store.path('damaged', '.parquet'), table);
});

/** What the table should hold: one object per row, in run then step order (NaN as null). */
function expected(): Record<string, unknown>[] {
  return runs.flatMap((run, k) => rowsOf(k, run.config.steps).map((row) => {
    const c = run.config;
    const o: Record<string, unknown> = {
      run: run.id, imageSize: c.imageSize, batchSize: c.batchSize, batchNorm: c.batchNorm, optimizer: c.optimizer.name,
      optimizer_learningRate: c.optimizer.learningRate, trainLoss: c.trainLoss, loggedLosses: JSON.stringify(c.loggedLosses),
      foreground: c.foreground, invertInput: c.invertInput, seed: c.seed, status: 'completed', step: row.step, accuracy: row.eval?.accuracy ?? null,
    };
    for (const l of ['cce', 'dicefg', 'dice', runs[2].config.trainLoss]) {
      const v = row.losses[l];
      o[`loss_${l}`] = v == null || Number.isNaN(v) ? null : v;
      o[`gradNorm_${l}`] = row.gradNorms[l] ?? null;
    }
    for (let cls = 0; cls < 3; cls++) {
      o[`dice_${cls}`] = row.eval?.dice[cls] ?? null;
      o[`iou_${cls}`] = row.eval?.iou[cls] ?? null;
    }
    return o;
  }));
}

const pick = (row: Record<string, unknown>, keys: string[]) => Object.fromEntries(keys.map((k) => [k, row[k]]));

describe('segloss export', () => {
  it('Parquet: every row and column read back by hyparquet equals the logs and the configs; the damaged run is left out', async () => {
    const warnings: string[] = [];
    const out = join(scratch, 'sweep.parquet');
    const result = await exportSweep(dir, { format: 'parquet', out, onWarning: (w) => warnings.push(w) });
    expect(warnings).toEqual(['runs/damaged.parquet is damaged: not the 40 rows its completion marker recorded (SHA-256 differs); left out of the export']);
    const want = expected();
    expect(result).toMatchObject({ out, runs: 3, rows: want.length });
    const bytes = readFileSync(out);
    const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    expect(parquetMetadata(file).row_groups.map((g) => Number(g.num_rows))).toEqual([want.length]); // whole runs, up to 100,000 rows a group
    const got = (await parquetReadObjects({ file })).map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v])));
    expect(Object.keys(got[0])).toEqual(result.columns);
    const keys = Object.keys(want[0]);
    expect(got.map((r) => pick(r, keys))).toEqual(want);
    // The U-Net-less runs have no third class: their dice_2 is empty.
    expect(got.filter((r) => r.run === 'run-0' && r.accuracy != null).every((r) => r.dice_2 === null)).toBe(true);
    expect(readdirSync(scratch).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('Parquet: gathers whole runs into row groups of at least rowGroupRows rows, the last one smaller', async () => {
    const out = join(scratch, 'groups.parquet');
    await exportSweep(dir, { format: 'parquet', out, rowGroupRows: 50, onWarning: () => {} });
    const bytes = readFileSync(out);
    const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    expect(parquetMetadata(file).row_groups.map((g) => Number(g.num_rows))).toEqual([80, 25]); // runs of 40 + 40, then 25
    const got = await parquetReadObjects({ file, columns: ['run', 'step'] });
    expect(got.map((r) => `${r.run}:${r.step}`)).toEqual(expected().map((r) => `${r.run}:${r.step}`));
  });

  it('CSV: every row and column parsed back equals the logs and the configs, numbers exactly', async () => {
    const out = join(scratch, 'sweep.csv');
    const result = await exportSweep(dir, { format: 'csv', out });
    const records = parse(readFileSync(out, 'utf8'), { columns: true }) as Record<string, string>[];
    expect(Object.keys(records[0])).toEqual(result.columns);
    const want = expected();
    const typed = records.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k,
      v === '' ? null : v === 'true' ? true : v === 'false' ? false : /^-?[\d.]+(e[-+]?\d+)?$/i.test(v) && k !== 'run' ? Number(v) : v])));
    expect(typed.map((r) => pick(r, Object.keys(want[0])))).toEqual(want);
  });

  describe.skipIf(duckdb === null)(`read by DuckDB${duckdb === null ? ` (skipped: @duckdb/node-api does not load here: ${duckdbProblem})` : ''}`, () => {
    const query = async (sql: string) => {
      const connection = await (await duckdb!.DuckDBInstance.create(':memory:')).connect();
      try {
        return (await connection.runAndReadAll(sql)).getRowObjectsJS();
      } finally {
        connection.closeSync();
      }
    };
    const numbers = (rows: Record<string, unknown>[]) => rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v])));

    it('the export: every row and column equals the logs and the configs', async () => {
      const out = join(scratch, 'duck.parquet');
      await exportSweep(dir, { format: 'parquet', out });
      const want = expected();
      const got = numbers(await query(`SELECT * FROM '${out}' ORDER BY run, step`));
      expect(got.map((r) => pick(r, Object.keys(want[0])))).toEqual(want);
      const types = Object.fromEntries((await query(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM '${out}')`)).map((r) => [r.column_name, r.column_type]));
      expect(types).toMatchObject({ run: 'VARCHAR', step: 'BIGINT', seed: 'BIGINT', batchNorm: 'BOOLEAN', foreground: 'DOUBLE', loss_cce: 'DOUBLE' });
    });

    it('each run\'s table (runs/*.parquet): every row equals the run\'s log; losses as FLOAT, gradient norms as DOUBLE', async () => {
      const got = numbers(await query(`SELECT * FROM read_parquet('${dir}/runs/run-*.parquet', union_by_name = true, filename = true) ORDER BY filename, step`));
      for (const [k, run] of runs.entries()) {
        const want = rowsOf(k, run.config.steps).map((row) => ({
          step: row.step,
          ...Object.fromEntries(run.config.loggedLosses.flatMap((l) => [[`loss_${l}`, row.losses[l]], [`gradNorm_${l}`, row.gradNorms[l]]])), // NaN as logged
          accuracy: row.eval?.accuracy ?? null,
        }));
        const mine = got.filter((r) => r.filename === join(dir, 'runs', `${run.id}.parquet`));
        expect(mine.map((r) => pick(r, Object.keys(want[0])))).toEqual(want);
      }
      // The losses were float64s here, so their tables hold DOUBLE; the values exactly.
      const types = await query(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM '${dir}/runs/run-0.parquet')`);
      expect(types.map((t) => t.column_name)).toEqual(['step', 'loss_cce', 'loss_dicefg', 'loss_dice', 'gradNorm_cce', 'gradNorm_dicefg', 'gradNorm_dice', 'accuracy', 'dice_0', 'dice_1', 'iou_0', 'iou_1']);
    });

    it('a run of float32 losses: FLOAT columns, the same values', async () => {
      const store = new SweepStore(join(scratch, 'f32'));
      store.create();
      const rows: StepLog[] = Array.from({ length: 30 }, (_, step) => ({ step, losses: { cce: Math.fround(1 / (step + 1)) }, gradNorms: { cce: Math.sqrt(step) / 3 } }));
      recordRun(store, runs[0], rows, { status: 'completed', steps: 30, parameters: 1 });
      const path = store.path(runs[0].id, '.parquet');
      const types = Object.fromEntries((await query(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM '${path}')`)).map((r) => [r.column_name, r.column_type]));
      expect(types).toMatchObject({ step: 'INTEGER', loss_cce: 'FLOAT', gradNorm_cce: 'DOUBLE' });
      const got = numbers(await query(`SELECT step, loss_cce::DOUBLE AS loss, gradNorm_cce AS grad FROM '${path}' ORDER BY step`));
      expect(got).toEqual(rows.map((r) => ({ step: r.step, loss: r.losses.cce, grad: r.gradNorms.cce })));
    });
  });

  it('from the CLI: writes DIR/export.csv by default; refuses an unknown format, naming it', async () => {
    const ok = await runCli(['export', dir, '--format', 'csv']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toMatch(/3 runs, 105 rows, \d+ columns → .*export\.csv/);
    expect(ok.stderr).toContain('segloss export: runs/damaged.parquet is damaged');
    expect(existsSync(join(dir, 'export.csv'))).toBe(true);
    const bad = await runCli(['export', dir, '--format', 'xml']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--format.*parquet or csv/);
  });
});
