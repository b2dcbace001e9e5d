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
 * named and left out), written as it is read: Parquet (hyparquet-writer, one row group per run,
 * snappy) or CSV (RFC 4180, numbers in their shortest exact form). Memory holds one run's rows.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { ParquetWriter, fileWriter } from 'hyparquet-writer';
import type { SchemaElement } from 'hyparquet';
import type { RunConfig } from '../experiment/config.js';
import { lossOrder } from '../experiment/losses.js';
import type { StepLog } from '../experiment/train.js';
import { SweepStore, type RunSummary } from './store.js';

export type ExportFormat = 'parquet' | 'csv';

export interface ExportOptions {
  format: ExportFormat;
  /** The file to write (default: DIR/export.parquet or DIR/export.csv); written to a temporary, then renamed. */
  out?: string;
  /** Told about every run left out (a damaged log). */
  onWarning?: (message: string) => void;
  /** After each run: runs done of total. */
  onProgress?: (done: number, total: number) => void;
}

export interface ExportResult {
  out: string;
  runs: number;
  rows: number;
  columns: string[];
}

type ColumnType = 'STRING' | 'DOUBLE' | 'INT64' | 'BOOLEAN';
interface Column {
  name: string;
  type: ColumnType;
  value: (run: RunSummary, row: StepLog) => unknown;
}

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

const finite = (x: number | null | undefined): number | null => (x == null || !Number.isFinite(x) ? null : x);

/** The table's columns for these runs: the union of their config fields, losses and classes. */
function columnsOf(runs: readonly RunSummary[]): Column[] {
  const fields = runs.map((r) => configFields(r.config));
  const names = [...new Set(fields.flatMap((f) => Object.keys(f)))];
  const losses = lossOrder([...new Set(runs.flatMap((r) => [...r.config.loggedLosses, ...Object.keys(r.finalLosses)]))]);
  const classes = Math.max(0, ...runs.map((r) => r.finalDice?.length ?? 0));
  const fieldOf = new Map(runs.map((r, k) => [r.id, fields[k]]));
  const stringify = (t: ColumnType, v: unknown) => (t === 'STRING' && v != null && typeof v !== 'string' ? String(v) : v);
  return [
    { name: 'run', type: 'STRING', value: (run) => run.id },
    ...names.map((name): Column => {
      const type = typeOf(fields.map((f) => f[name]));
      return { name, type, value: (run) => stringify(type, fieldOf.get(run.id)![name] ?? null) };
    }),
    { name: 'status', type: 'STRING', value: (run) => run.status },
    { name: 'step', type: 'INT64', value: (_, row) => row.step },
    ...losses.map((k): Column => ({ name: `loss_${k}`, type: 'DOUBLE', value: (_, row) => finite(row.losses[k]) })),
    ...losses.map((k): Column => ({ name: `gradNorm_${k}`, type: 'DOUBLE', value: (_, row) => finite(row.gradNorms[k]) })),
    { name: 'accuracy', type: 'DOUBLE', value: (_, row) => finite(row.eval?.accuracy) },
    ...Array.from({ length: classes }, (_, c): Column => ({ name: `dice_${c}`, type: 'DOUBLE', value: (_, row) => finite(row.eval?.dice[c]) })),
    ...Array.from({ length: classes }, (_, c): Column => ({ name: `iou_${c}`, type: 'DOUBLE', value: (_, row) => finite(row.eval?.iou[c]) })),
  ];
}

/** A table being written, one run's rows at a time. */
interface TableWriter {
  write(run: RunSummary, rows: readonly StepLog[]): Promise<void>;
  finish(): Promise<void>;
}

function parquetTable(path: string, columns: readonly Column[]): TableWriter {
  const schema: SchemaElement[] = [
    { name: 'root', num_children: columns.length },
    ...columns.map((c): SchemaElement => ({
      name: c.name, repetition_type: 'OPTIONAL',
      ...(c.type === 'STRING' ? { type: 'BYTE_ARRAY', converted_type: 'UTF8' } : { type: c.type }),
    })),
  ];
  const writer = new ParquetWriter({ writer: fileWriter(path), schema });
  return {
    async write(run, rows) {
      const columnData = columns.map((c) => ({
        name: c.name,
        data: rows.map((row) => {
          const v = c.value(run, row);
          return c.type === 'INT64' && v != null ? BigInt(v as number) : v;
        }),
      }));
      await writer.write({ columnData, rowGroupSize: Math.max(1, rows.length) });
    },
    async finish() {
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
    async write(run, rows) {
      if (!header) {
        header = true;
        await put(`${columns.map((c) => csvField(c.name)).join(',')}\n`);
      }
      const lines = rows.map((row) => columns.map((c) => csvField(c.value(run, row))).join(',')).join('\n');
      if (lines) await put(`${lines}\n`);
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
  const table = format === 'parquet' ? parquetTable(temporary, columns) : csvTable(temporary, columns);
  let rows = 0;
  try {
    for (const [k, run] of runs.entries()) {
      const log = await store.readRows(run.id);
      await table.write(run, log);
      rows += log.length;
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
