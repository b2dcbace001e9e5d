/**
 * A finished run's log as a columnar file (issue #24): runs/<id>.parquet. A run writes its rows as
 * JSONL while it trains (a write-ahead log: a line per step, appended, readable after a crash);
 * as it completes, the store compacts them into this file and removes the JSONL. Measured on the
 * seed's rows (bench/RESULTS.md): 194 bytes a row as JSONL, about 31 here.
 *
 * One Parquet file, one row group, snappy, readable by pandas, Polars, DuckDB and hyparquet:
 *
 *   step                  INT32, DELTA_BINARY_PACKED
 *   loss_<k>, gradNorm_<k> for every loss and gradient norm any row logged (in the order first
 *                         logged): FLOAT when every value is a float32 (the losses, tfjs's), else
 *                         DOUBLE (the gradient norms, summed in float64); BYTE_STREAM_SPLIT.
 *                         Null where a row did not log it; NaN and ±Infinity as logged
 *   accuracy, dice_<c>, iou_<c>  DOUBLE, on evaluation steps (null elsewhere)
 *
 * and the file's key-value metadata `segloss.run` = {"format": 1, "id": …}. Read back, a row is
 * what its JSONL line gave: a value that is not finite reads as null, as JSON writes it.
 */
import { parquetMetadata, parquetRead } from 'hyparquet';
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import type { SchemaElement } from 'hyparquet';
import type { LossKey } from '../experiment/losses.js';
import type { StepLog } from '../experiment/train.js';
import { SweepDataError } from './fsio.js';

/** The version of runs/<id>.parquet's layout (its metadata `segloss.run`). */
export const RUN_TABLE_FORMAT = 1;
const METADATA_KEY = 'segloss.run';

/** One column being filled, a value (or null) a row. */
class Values {
  readonly data: (number | null)[] = [];
  /** Whether every value so far is a float32 (NaN and ±Infinity are). */
  float32 = true;

  constructor(rowsBefore: number) {
    for (let i = 0; i < rowsBefore; i++) this.data.push(null);
  }

  push(value: number | null | undefined): void {
    if (value == null) {
      this.data.push(null);
      return;
    }
    if (this.float32 && Math.fround(value) !== value && !Number.isNaN(value)) this.float32 = false;
    this.data.push(value);
  }
}

/** A run's rows as they come, then `encode()`: the file's bytes. */
export class RunTableBuilder {
  private readonly steps: number[] = [];
  private readonly losses = new Map<string, Values>();
  private readonly grads = new Map<string, Values>();
  private readonly accuracy: (number | null)[] = [];
  private readonly dice: Values[] = [];
  private readonly iou: Values[] = [];

  constructor(private readonly id: string) {}

  get rows(): number {
    return this.steps.length;
  }

  add(row: StepLog): void {
    const n = this.steps.length;
    this.addKeyed(this.losses, row.losses, n);
    this.addKeyed(this.grads, row.gradNorms, n);
    const evaluation = row.eval;
    const classes = evaluation ? Math.max(evaluation.dice.length, evaluation.iou.length) : 0;
    while (this.dice.length < classes) {
      this.dice.push(new Values(n));
      this.iou.push(new Values(n));
    }
    this.steps.push(row.step);
    this.accuracy.push(evaluation ? evaluation.accuracy ?? NaN : null);
    for (let c = 0; c < this.dice.length; c++) {
      // On an evaluated row, NaN stands for a value JSON would write as null; null past the array's end.
      this.dice[c].push(evaluation && c < evaluation.dice.length ? evaluation.dice[c] ?? NaN : null);
      this.iou[c].push(evaluation && c < evaluation.iou.length ? evaluation.iou[c] ?? NaN : null);
    }
  }

  private addKeyed(columns: Map<string, Values>, values: Partial<Record<LossKey, number>>, n: number): void {
    for (const k of Object.keys(values)) if (!columns.has(k)) columns.set(k, new Values(n));
    // A logged null (JSON's NaN) is NaN here; a key the row lacks is null.
    for (const [k, column] of columns) column.push(k in values ? values[k as LossKey] ?? NaN : null);
  }

  /** The table's columns in file order: name, Parquet type, values. */
  private named(): { name: string; type: 'INT32' | 'FLOAT' | 'DOUBLE'; data: (number | null)[] }[] {
    const float = (v: Values) => (v.float32 ? 'FLOAT' : 'DOUBLE') as 'FLOAT' | 'DOUBLE';
    return [
      { name: 'step', type: 'INT32', data: this.steps },
      ...[...this.losses].map(([k, v]) => ({ name: `loss_${k}`, type: float(v), data: v.data })),
      ...[...this.grads].map(([k, v]) => ({ name: `gradNorm_${k}`, type: float(v), data: v.data })),
      { name: 'accuracy', type: 'DOUBLE' as const, data: this.accuracy },
      ...this.dice.map((v, c) => ({ name: `dice_${c}`, type: 'DOUBLE' as const, data: v.data })),
      ...this.iou.map((v, c) => ({ name: `iou_${c}`, type: 'DOUBLE' as const, data: v.data })),
    ];
  }

  /** The rows added as the table's columns (what `readRunColumns` gives of its file). */
  columns(): RunColumns {
    return { rows: this.steps.length, columns: new Map(this.named().map((c) => [c.name, c.data])) };
  }

  /** The Parquet file of the rows added (hyparquet-writer writes to a ByteWriter synchronously). */
  encode(): Uint8Array {
    const columns = this.named();
    const schema: SchemaElement[] = [
      { name: 'root', num_children: columns.length },
      ...columns.map((c): SchemaElement => ({ name: c.name, type: c.type, repetition_type: c.name === 'step' ? 'REQUIRED' : 'OPTIONAL' })),
    ];
    const writer = new ByteWriter();
    const parquet = new ParquetWriter({
      writer, schema, codec: 'SNAPPY', statistics: false, createdBy: 'segloss',
      kvMetadata: [{ key: METADATA_KEY, value: JSON.stringify({ format: RUN_TABLE_FORMAT, id: this.id }) }],
    });
    void parquet.write({
      columnData: columns.map((c) => ({
        name: c.name, data: c.data,
        encoding: c.type === 'INT32' ? 'DELTA_BINARY_PACKED' as const : 'BYTE_STREAM_SPLIT' as const,
      })),
      rowGroupSize: Math.max(1, this.steps.length),
    });
    void parquet.finish();
    return writer.getBytes();
  }
}

/** JSON's view of a logged number: null when not finite. */
const asLogged = (v: number): number => (Number.isFinite(v) ? v : null as unknown as number);

/** A run table's columns as read: every column a value (or null) a row, by name, in the file's order. */
export interface RunColumns {
  rows: number;
  columns: Map<string, (number | null)[]>;
}

/**
 * The columns of a run table (`file`, e.g. "runs/<id>.parquet", names it in errors), as stored:
 * NaN and ±Infinity as logged, null where a row has no value.
 */
export async function readRunColumns(bytes: Uint8Array, file: string): Promise<RunColumns> {
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  try {
    const metadata = parquetMetadata(buffer);
    const tag = metadata.key_value_metadata?.find((kv) => kv.key === METADATA_KEY)?.value;
    const format = tag ? (JSON.parse(tag) as { format?: unknown }).format : undefined;
    if (format !== RUN_TABLE_FORMAT) {
      throw new SweepDataError(`${file} is not a segloss run table of format ${RUN_TABLE_FORMAT} (${tag ? `its format is ${String(format)}` : 'no segloss.run metadata'})`);
    }
    const rows = Number(metadata.num_rows);
    const columns = new Map(metadata.schema.slice(1).map((e) => [e.name, new Array<number | null>(rows).fill(null)]));
    await parquetRead({
      file: buffer, metadata,
      onChunk: ({ columnName, columnData, rowStart }) => {
        const column = columns.get(columnName)!;
        for (let i = 0; i < columnData.length; i++) column[rowStart + i] = (columnData[i] as number | null | undefined) ?? null;
      },
    });
    if (!columns.has('step')) throw new SweepDataError(`${file} is damaged: it has no step column`);
    return { rows, columns };
  } catch (error) {
    if (error instanceof SweepDataError) throw error;
    throw new SweepDataError(`${file} is damaged: ${(error as Error).message}`);
  }
}

/**
 * The rows of a run table (`file` names it in errors): each as its JSONL line would read.
 */
export async function readRunTable(bytes: Uint8Array, file: string): Promise<StepLog[]> {
  const { rows, columns } = await readRunColumns(bytes, file);
  const names = [...columns.keys()];
  const keyed = (prefix: string) => names.filter((n) => n.startsWith(prefix)).map((n) => [n.slice(prefix.length), columns.get(n)!] as const);
  const lossColumns = keyed('loss_');
  const gradColumns = keyed('gradNorm_');
  const steps = columns.get('step')!;
  const accuracy = columns.get('accuracy');
  const classes = names.filter((n) => /^dice_\d+$/.test(n)).length;
  const dice = Array.from({ length: classes }, (_, c) => columns.get(`dice_${c}`)!);
  const iou = Array.from({ length: classes }, (_, c) => columns.get(`iou_${c}`) ?? []);
  const out: StepLog[] = new Array(rows);
  for (let i = 0; i < rows; i++) {
    const losses: Record<string, number> = {};
    const gradNorms: Record<string, number> = {};
    for (const [k, column] of lossColumns) if (column[i] != null) losses[k] = asLogged(column[i]!);
    for (const [k, column] of gradColumns) if (column[i] != null) gradNorms[k] = asLogged(column[i]!);
    const row: StepLog = { step: steps[i]!, losses, gradNorms };
    if (accuracy && accuracy[i] != null) {
      const d: number[] = [];
      const u: number[] = [];
      for (let c = 0; c < classes && dice[c][i] != null; c++) d.push(asLogged(dice[c][i]!));
      for (let c = 0; c < classes && iou[c][i] != null; c++) u.push(asLogged(iou[c][i]!));
      row.eval = { accuracy: asLogged(accuracy[i]!), dice: d, iou: u };
    }
    out[i] = row;
  }
  return out;
}
