/**
 * `segloss export DIR --format parquet|csv [--out FILE]` (issue #24): every step row of every
 * complete run of a sweep as one long table, the run's config as columns, for pandas, Polars,
 * DuckDB or a spreadsheet without segloss:
 *
 *   run, the config's fields (imageSize, batchSize, …, batchNorm, foreground, invertInput,
 *   trainLoss, seed; objects by name and fields: optimizer, optimizer_learningRate, …; arrays
 *   and other objects as JSON), status, step, loss_<name> and gradNorm_<name> for every logged
 *   loss, accuracy, dice_<class> and iou_<class> (on evaluation steps; empty elsewhere).
 *
 * Read one run at a time (its log checked against its completion marker first; a damaged run is
 * named and left out), written as it is read: Parquet (hyparquet-writer, row groups of whole runs,
 * about 100,000 rows each, snappy) or CSV (RFC 4180, numbers in their shortest exact form). Memory
 * holds one row group's rows.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { ParquetWriter, fileWriter } from 'hyparquet-writer';
import type { SchemaElement } from 'hyparquet';
import type { RunConfig } from '../experiment/config.js';
import { lossOrder } from '../experiment/losses.js';
import type { RunColumns } from './run_table.js';
import { SweepStore, type RunSummary } from './store.js';

/** The file format of an export: Parquet or CSV. */
export type ExportFormat = 'parquet' | 'csv';

/** What exportSweep writes and where, and where it reports warnings and progress. */
export interface ExportOptions {
  format: ExportFormat;
  /** The file to write (default: DIR/export.parquet or DIR/export.csv); written to a temporary, then renamed. */
  out?: string;
  /** Told about every run left out (a damaged log). */
  onWarning?: (message: string) => void;
  /** After each run: runs done of total. */
  onProgress?: (done: number, total: number) => void;
  /**
   * Parquet: whole runs are gathered into a row group until it holds this many rows (default
   * 100,000: ten runs of the seed's 10,001 steps). Fewer, larger row groups keep the file's
   * metadata, and the writer's memory, small for sweeps of thousands of runs.
   */
  rowGroupRows?: number;
}

/** What exportSweep wrote: the file's path, the runs and rows in it, and its column names in order. */
export interface ExportResult {
  out: string;
  runs: number;
  rows: number;
  columns: string[];
}

type ColumnType = 'STRING' | 'DOUBLE' | 'INT64' | 'BOOLEAN';
/** A column of the table: a run's value on every row (`constant`), or a column of the run's table (`from`), not-finite values as null. */
type Column = { name: string; type: ColumnType } & ({ constant: (run: RunSummary) => unknown } | { from: string });

/** A config flattened to columns: scalars as they are, a named object by name and scalar fields, anything else as JSON. */
function configFields(config: RunConfig): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(config)) {
    if (value == null) continue;
    if (typeof value !== 'object') out[key] = value as string | number | boolean;
    else if (!Array.isArray(value) && typeof (value as { name?: unknown }).name === 'string') {
      for (const [field, v] of Object.entries(value)) {
        if (field === 'name') out[key] = v as string;
        else out[`${key}_${field}`] = typeof v === 'object' && v !== null ? JSON.stringify(v) : v as string | number | boolean;
      }
    } else {
      out[key] = JSON.stringify(value);
    }
  }
  return out;
}

const typeOf = (values: unknown[]): ColumnType => {
  const present = values.filter((v) => v != null);
  if (present.every((v) => typeof v === 'boolean')) return 'BOOLEAN';
  if (present.every((v) => typeof v === 'number' && Number.isInteger(v))) return 'INT64';
  if (present.every((v) => typeof v === 'number')) return 'DOUBLE';
  return 'STRING';
};


/** The table's columns for these runs: the union of their config fields, losses and classes. */
function columnsOf(runs: readonly RunSummary[]): Column[] {
  const fields = runs.map((r) => configFields(r.config));
  const names = [...new Set(fields.flatMap((f) => Object.keys(f)))];
  const losses = lossOrder([...new Set(runs.flatMap((r) => [...r.config.loggedLosses, ...Object.keys(r.finalLosses)]))]);
  const classes = Math.max(0, ...runs.map((r) => r.finalDice?.length ?? 0));
  const fieldOf = new Map(runs.map((r, k) => [r.id, fields[k]]));
  const stringify = (t: ColumnType, v: unknown) => (t === 'STRING' && v != null && typeof v !== 'string' ? String(v) : v);
  const table = (name: string): Column => ({ name, type: 'DOUBLE', from: name });
  return [
    { name: 'run', type: 'STRING', constant: (run) => run.id },
    ...names.map((name): Column => {
      const type = typeOf(fields.map((f) => f[name]));
      return { name, type, constant: (run) => stringify(type, fieldOf.get(run.id)![name] ?? null) };
    }),
    { name: 'status', type: 'STRING', constant: (run) => run.status },
    { name: 'step', type: 'INT64', from: 'step' },
    ...losses.map((k) => table(`loss_${k}`)),
    ...losses.map((k) => table(`gradNorm_${k}`)),
    table('accuracy'),
    ...Array.from({ length: classes }, (_, c) => table(`dice_${c}`)),
    ...Array.from({ length: classes }, (_, c) => table(`iou_${c}`)),
  ];
}

/**
 * Column `c` of run `run` whose table is `columns`, appended to `out`: every row's value, null
 * where there is none or it is not finite.
 */
function appendColumn(out: unknown[], c: Column, run: RunSummary, { rows, columns }: RunColumns): void {
  const start = out.length;
  if ('constant' in c) {
    const value = c.constant(run);
    out.length = start + rows;
    out.fill(c.type === 'INT64' && value != null ? BigInt(value as number) : value, start);
    return;
  }
  const source = columns.get(c.from);
  out.length = start + rows;
  if (!source) out.fill(null, start);
  else if (c.type === 'INT64') for (let i = 0; i < rows; i++) out[start + i] = source[i] == null ? null : BigInt(source[i]!);
  else {
    for (let i = 0; i < rows; i++) {
      const v = source[i];
      out[start + i] = v == null || !Number.isFinite(v) ? null : v;
    }
  }
}

/** Column `c` of run `run` whose table is `columns` (`appendColumn`). */
function columnValues(c: Column, run: RunSummary, table: RunColumns): unknown[] {
  const out: unknown[] = [];
  appendColumn(out, c, run, table);
  return out;
}

/** A table being written, one run's rows at a time. */
interface TableWriter {
  write(run: RunSummary, table: RunColumns): Promise<void>;
  finish(): Promise<void>;
}

function parquetTable(path: string, columns: readonly Column[], rowGroupRows: number): TableWriter {
  const schema: SchemaElement[] = [
    { name: 'root', num_children: columns.length },
    ...columns.map((c): SchemaElement => ({
      name: c.name, repetition_type: 'OPTIONAL',
      ...(c.type === 'STRING' ? { type: 'BYTE_ARRAY', converted_type: 'UTF8' } : { type: c.type }),
    })),
  ];
  const writer = new ParquetWriter({ writer: fileWriter(path), schema });
  // The next row group's values, per column: whole runs, appended as they are read.
  let pending: unknown[][] = columns.map(() => []);
  let pendingRows = 0;
  const flush = async () => {
    if (pendingRows === 0) return;
    // The logged numbers byte-stream split (smaller, and no dictionary tried), the step delta
    // coded; statistics (row-group skipping on run, config and step) for all but the numbers.
    const columnData = columns.map((c, j) => ({
      name: c.name,
      data: pending[j],
      encoding: 'from' in c ? (c.type === 'INT64' ? 'DELTA_BINARY_PACKED' as const : 'BYTE_STREAM_SPLIT' as const)
        : c.type === 'BOOLEAN' ? 'RLE' as const : 'RLE_DICTIONARY' as const,
      statistics: c.name === 'run' || c.name === 'step',
    }));
    const rows = pendingRows;
    pending = columns.map(() => []);
    pendingRows = 0;
    await writer.write({ columnData, rowGroupSize: rows });
  };
  return {
    async write(run, table) {
      if (table.rows === 0) return;
      columns.forEach((c, j) => appendColumn(pending[j], c, run, table));
      pendingRows += table.rows;
      if (pendingRows >= rowGroupRows) await flush();
    },
    async finish() {
      await flush();
      await writer.finish();
    },
  };
}

/** A CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break. */
const csvField = (v: unknown): string => {
  if (v == null) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

function csvTable(path: string, columns: readonly Column[]): TableWriter {
  const stream: WriteStream = createWriteStream(path);
  const failed = new Promise<never>((_, reject) => stream.once('error', reject));
  failed.catch(() => {});
  const put = (text: string) => (stream.write(text) ? Promise.resolve() : Promise.race([new Promise<void>((resolve) => stream.once('drain', resolve)), failed]));
  let header = false;
  return {
    async write(run, table) {
      if (!header) {
        header = true;
        await put(`${columns.map((c) => csvField(c.name)).join(',')}\n`);
      }
      const values = columns.map((c) => columnValues(c, run, table));
      const lines: string[] = new Array(table.rows);
      for (let i = 0; i < table.rows; i++) lines[i] = values.map((column) => csvField(column[i])).join(',');
      if (lines.length > 0) await put(`${lines.join('\n')}\n`);
    },
    async finish() {
      if (!header) await put(`${columns.map((c) => csvField(c.name)).join(',')}\n`);
      await Promise.race([new Promise<void>((resolve) => stream.end(resolve)), failed]);
    },
  };
}

/** Writes the long table of the sweep in `dir`; see the module's comment. */
export async function exportSweep(dir: string, options: ExportOptions): Promise<ExportResult> {
  const { format } = options;
  if (format !== 'parquet' && format !== 'csv') throw new Error(`export: --format is parquet or csv, got ${String(format)}`);
  const store = new SweepStore(dir);
  const runs = store.completeRuns((problem) => options.onWarning?.(`${problem}; left out of the export`));
  if (!runs) throw new Error(`export: ${dir} holds no sweep.json`);
  const out = options.out ?? `${dir}/export.${format}`;
  const temporary = `${out}.${process.pid}.tmp`;
  const columns = columnsOf(runs);
  const table = format === 'parquet' ? parquetTable(temporary, columns, options.rowGroupRows ?? 100_000) : csvTable(temporary, columns);
  let rows = 0;
  try {
    for (const [k, run] of runs.entries()) {
      const columns = await store.readColumns(run.id);
      await table.write(run, columns);
      rows += columns.rows;
      options.onProgress?.(k + 1, runs.length);
    }
    await table.finish();
    await rename(temporary, out);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  return { out, runs: runs.length, rows, columns: columns.map((c) => c.name) };
}
