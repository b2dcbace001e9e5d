/**
 * A sweep's directory, written so that no finished run is ever lost or silently damaged, by any
 * number of processes at once:
 *
 *   DIR/sweep.json              the spec, every planned run (id and resolved config), versions (no
 *                               timestamps: a sweep's files depend only on its spec)
 *   DIR/runs/<id>.claim         while a process trains the run: who (host, pid) and a heartbeat
 *                               (claims.ts); removed when the run ends
 *   DIR/runs/<id>.jsonl         one JSON row per step, appended as the run goes: the write-ahead
 *                               log, removed once the run is compacted into its .parquet
 *   DIR/runs/<id>.parquet       the finished run's rows as a columnar file (run_table.ts), written
 *                               as the run completes (a sixth of the JSONL's size)
 *   DIR/runs/<id>.reduced.json  what the report needs of the run (src/report/reduce.ts: curves at
 *                               plotted resolution, evaluations, the observations' statistics),
 *                               written as the run completes, before its marker
 *   DIR/runs/<id>.done.json     the completion marker: the run's summary, its table's row count,
 *                               size and SHA-256, and its reduction's size and SHA-256. Written
 *                               last: the JSONL is fsynced, the table and the reduction written
 *                               atomically, then the marker written to a temporary, fsynced and
 *                               renamed into place, the directory fsynced; then the JSONL goes.
 *                               A run is complete when its marker exists and the files it records
 *                               match it. (Directories of segloss before 0.3 keep a complete run's
 *                               JSONL and no table: their markers record the log's digest, and
 *                               everything reads them as before.)
 *   DIR/runs/<id>.failed.json   a run whose worker threw or died, with the error
 *   DIR/summary.csv             one line per complete run
 *
 * A row: {"step", "losses": {name: value}, "gradNorms": {…}, and when evaluated "accuracy",
 * "dice": [bg, fg], "iou": [bg, fg]}. Every file operation that fails throws a SweepIOError naming
 * the path and the cause; a file read back that is not what it should be is reported by id and
 * file (`inspect`), never as a bare JSON parse error.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { StepLog } from '../experiment/train.js';
import { REDUCTION_FORMAT, RunReducer, type RunReduction } from '../report/reduce.js';
import { Claim, ClaimBook, type ClaimOptions } from './claims.js';
import { io, removeOrphanedTemporaries, SweepDataError, writeAll, writeAtomic } from './fsio.js';
import type { RunLease, RunState, RunStore } from './pool.js';
import { readRunColumns, readRunTable, RunTableBuilder, type RunColumns } from './run_table.js';
import { rowToJson, summaryCsv, type FailedRun, type RunSummary } from './summary.js';

export { rowToJson, SummaryTracker, type FailedRun, type RunSummary } from './summary.js';

/** A file's size and SHA-256, as a completion marker records them. */
export interface FileDigest {
  bytes: number;
  sha256: string;
}

/** What a completion marker records about its run's log or table. */
export interface LogDigest extends FileDigest {
  rows: number;
}

/**
 * A completion marker: the summary, and (since segloss 0.2) the digest of the log it vouches for;
 * since issue #24 its reduction's and, in place of the log's, its table's (runs/<id>.parquet).
 */
type Marker = RunSummary & { log?: LogDigest; table?: LogDigest; reduction?: FileDigest };

/** The files of a run, by suffix. */
export type RunFile = '.jsonl' | '.parquet' | '.done.json' | '.failed.json' | '.claim' | '.reduced.json';

/** A file's digest, as a completion marker records it. */
export const digestOf = (data: Buffer | string): FileDigest => ({
  bytes: Buffer.byteLength(data), sha256: createHash('sha256').update(data).digest('hex'),
});
const sameFile = (found: FileDigest, recorded: FileDigest) => found.bytes === recorded.bytes && found.sha256 === recorded.sha256;

interface JsonRow {
  step: number;
  losses: StepLog['losses'];
  gradNorms: StepLog['gradNorms'];
  accuracy?: number;
  dice?: number[];
  iou?: number[];
}

/** A log line back to a row, or null when the line is not one (damaged). */
function parseRow(line: string): StepLog | null {
  let r: JsonRow;
  try {
    r = JSON.parse(line) as JsonRow;
  } catch {
    return null;
  }
  if (typeof r !== 'object' || r === null || typeof r.step !== 'number' || typeof r.losses !== 'object') return null;
  const row: StepLog = { step: r.step, losses: r.losses, gradNorms: r.gradNorms };
  if (r.accuracy !== undefined) row.eval = { accuracy: r.accuracy, dice: r.dice!, iou: r.iou! };
  return row;
}

function readIfExists(path: string): Buffer | null {
  try {
    return readFileSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    return io('read', path, () => { throw error; });
  }
}

/** Why `log` is not the log `marker` vouches for, or null when it is. */
function logProblem(id: string, log: Buffer, marker: Marker): string | null {
  const expected = marker.log?.rows ?? marker.steps;
  if (marker.log && sameFile(digestOf(log), marker.log)) return null;
  const lines = log.toString('utf8').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const readable = lines.filter((line) => parseRow(line) != null).length;
  if (!marker.log && readable === expected && lines.length === expected) return null; // a marker from before digests
  const unreadable = lines.length - readable;
  if (readable === expected && unreadable === 0) {
    return `runs/${id}.jsonl is damaged: its ${readable} rows are not those its completion marker recorded (SHA-256 differs)`;
  }
  return `runs/${id}.jsonl is damaged: ${readable} of ${expected} rows readable`
    + (unreadable > 0 ? `, ${unreadable} unreadable line${unreadable > 1 ? 's' : ''}` : '');
}

export interface SweepStoreOptions extends ClaimOptions {}

/** A sweep's directory (the layout above). Constructing one writes nothing; `create()` does. */
export class SweepStore implements RunStore {
  readonly runsDir: string;
  private readonly claims: ClaimBook;

  constructor(readonly dir: string, options: SweepStoreOptions = {}) {
    this.runsDir = join(dir, 'runs');
    this.claims = new ClaimBook(this.runsDir, options);
  }

  /**
   * Makes the directory and runs/, and removes temporaries that killed processes of this host left.
   * Of a complete run whose process died after its marker, before it had tidied up, it also removes
   * the write-ahead log (the table, checked against the marker, holds the rows) and the claim, when
   * that claim's process is known to be gone.
   */
  create(): void {
    io('create the directory', this.runsDir, () => mkdirSync(this.runsDir, { recursive: true }));
    removeOrphanedTemporaries(this.dir);
    removeOrphanedTemporaries(this.runsDir);
    const files = io('list', this.runsDir, () => readdirSync(this.runsDir));
    const tables = new Set(files.filter((f) => f.endsWith('.parquet')));
    for (const file of files) {
      const claim = file.endsWith('.claim');
      if (!claim && !file.endsWith('.jsonl')) continue;
      const id = file.slice(0, file.lastIndexOf('.'));
      if (!claim && !tables.has(`${id}.parquet`)) continue; // an old run's log, or a run in progress
      if (this.inspect(id).kind !== 'complete') continue;
      if (claim) {
        this.claims.removeAbandoned(id);
      } else {
        const log = this.path(id, '.jsonl');
        io('remove', log, () => rmSync(log, { force: true }));
      }
    }
  }

  path(id: string, suffix: RunFile): string {
    return join(this.runsDir, `${id}${suffix}`);
  }

  writeSweep(content: object): void {
    writeAtomic(join(this.dir, 'sweep.json'), JSON.stringify(content, null, 2) + '\n');
  }

  /** sweep.json, or null when there is none; a damaged one is a SweepDataError naming it. */
  readSweep(): Record<string, unknown> | null {
    const path = join(this.dir, 'sweep.json');
    const text = readIfExists(path);
    if (text == null) return null;
    try {
      const sweep = JSON.parse(text.toString('utf8'));
      if (typeof sweep === 'object' && sweep !== null && Array.isArray(sweep.runs)) return sweep;
    } catch { /* reported below */ }
    throw new SweepDataError(`${path} is damaged (not the JSON of a sweep): restore it, or start the sweep in a new directory`);
  }

  /**
   * What the directory holds for run `id`, its completion marker checked against its log and its
   * reduction (either damaged: the run is damaged, and a resumed sweep trains it again).
   */
  inspect(id: string): RunState {
    return this.inspectRun(id, 'log');
  }

  /**
   * `inspect`, or for a report (`'report'`): a run whose marker vouches for a reduction is checked
   * against the reduction alone (its log is not read); an older run, against its log.
   */
  private inspectRun(id: string, purpose: 'log' | 'report'): RunState {
    const markerText = readIfExists(this.path(id, '.done.json'));
    if (markerText != null) {
      let marker: Marker;
      try {
        marker = JSON.parse(markerText.toString('utf8'));
      } catch {
        return { kind: 'damaged', problem: `runs/${id}.done.json is damaged (not JSON)` };
      }
      if (typeof marker !== 'object' || marker === null || marker.id !== id || typeof marker.steps !== 'number') {
        return { kind: 'damaged', problem: `runs/${id}.done.json is damaged (not the completion marker of ${id})` };
      }
      if (marker.reduction) {
        const problem = this.recordedFileProblem(id, '.reduced.json', marker.reduction, 'the reduction');
        if (problem) return { kind: 'damaged', problem };
      }
      if (marker.table && (purpose === 'log' || !marker.reduction)) {
        const problem = this.recordedFileProblem(id, '.parquet', marker.table, `the ${marker.table.rows} rows`);
        if (problem) return { kind: 'damaged', problem };
      } else if (purpose === 'log' || !marker.reduction) {
        const log = readIfExists(this.path(id, '.jsonl'));
        if (log == null) return { kind: 'damaged', problem: `runs/${id}.jsonl is missing (its completion marker is there)` };
        const problem = logProblem(id, log, marker);
        if (problem) return { kind: 'damaged', problem };
      }
      const { log: _log, table: _table, reduction: _reduction, ...summary } = marker;
      return { kind: 'complete', summary };
    }
    const failedText = readIfExists(this.path(id, '.failed.json'));
    if (failedText != null) {
      try {
        const failure = JSON.parse(failedText.toString('utf8')) as FailedRun;
        if (typeof failure?.error === 'string') return { kind: 'failed', failure: { ...failure, id } };
      } catch { /* reported below */ }
      return { kind: 'failed', failure: { id, error: `runs/${id}.failed.json is damaged (not JSON)` } };
    }
    return { kind: 'absent' };
  }

  /** Why run `id`'s file `suffix` is not `what` its marker recorded (`recorded`), or null when it is. */
  private recordedFileProblem(id: string, suffix: RunFile, recorded: FileDigest, what: string): string | null {
    const file = readIfExists(this.path(id, suffix));
    if (file == null) return `runs/${id}${suffix} is missing (its completion marker is there)`;
    const found = digestOf(file);
    if (sameFile(found, recorded)) return null;
    return `runs/${id}${suffix} is damaged: not ${what} its completion marker recorded (${found.bytes === recorded.bytes ? 'SHA-256 differs' : `${found.bytes} bytes, not ${recorded.bytes}`})`;
  }

  isComplete(id: string): boolean {
    return this.inspect(id).kind === 'complete';
  }

  /** The summary of a complete run; throws (naming the file) for one that is not. */
  readSummary(id: string): RunSummary {
    const state = this.inspect(id);
    if (state.kind === 'complete') return state.summary;
    throw new SweepDataError(state.kind === 'damaged' ? state.problem : `run ${id} is not complete in ${this.dir}`);
  }

  /**
   * The summaries of the complete runs sweep.json plans, in plan order, each checked as `inspect`
   * checks it (`'report'`: against its reduction alone where it has one, its log not read);
   * `onDamaged` hears each damaged run's problem.
   * Null when there is no sweep.json.
   */
  completeRuns(onDamaged: (problem: string) => void, check: 'log' | 'report' = 'log'): RunSummary[] | null {
    const sweep = this.readSweep();
    if (!sweep) return null;
    return (sweep.runs as { id: string }[]).flatMap(({ id }) => {
      const state = this.inspectRun(id, check);
      if (state.kind === 'damaged') onDamaged(state.problem);
      return state.kind === 'complete' ? [state.summary] : [];
    });
  }

  /**
   * The files that hold complete run `id` (`inspect` first), the marker last: its table or (a run
   * of segloss before 0.3) its log, its reduction where it has one, its marker.
   */
  completeFiles(id: string): RunFile[] {
    const has = (suffix: RunFile) => existsSync(this.path(id, suffix));
    return [has('.parquet') ? '.parquet' : '.jsonl', ...(has('.reduced.json') ? ['.reduced.json' as const] : []), '.done.json'];
  }

  /**
   * The reduction of complete run `id` (`inspect` or `completeRuns` first): its
   * runs/<id>.reduced.json, or for a run completed before reductions, its log reduced line by line.
   */
  async readReduction(id: string, summary: RunSummary): Promise<RunReduction> {
    const path = this.path(id, '.reduced.json');
    const stored = readIfExists(path);
    if (stored != null) {
      let reduction: RunReduction | null = null;
      try {
        reduction = JSON.parse(stored.toString('utf8')) as RunReduction;
      } catch { /* reported below */ }
      if (reduction?.format === REDUCTION_FORMAT && reduction.id === id) return reduction;
      if (reduction?.id === id && reduction.format !== REDUCTION_FORMAT) return this.reduceLog(id, summary); // another version's: recomputed
      throw new SweepDataError(`runs/${id}.reduced.json is damaged (not the reduction of ${id})`);
    }
    return this.reduceLog(id, summary);
  }

  /** Run `id`'s log reduced as it is read, one line at a time (its table's rows, where it has one). */
  private async reduceLog(id: string, summary: RunSummary): Promise<RunReduction> {
    const reducer = new RunReducer();
    if (existsSync(this.path(id, '.parquet'))) {
      for (const row of await this.readRows(id)) reducer.add(row);
      return reducer.finish(summary);
    }
    const path = this.path(id, '.jsonl');
    const text = io('read', path, () => readFileSync(path, 'utf8'));
    let line = 0;
    for (let start = 0; start < text.length;) {
      let end = text.indexOf('\n', start);
      if (end < 0) end = text.length;
      line++;
      if (end > start) {
        const row = parseRow(text.slice(start, end));
        if (row == null) throw new SweepDataError(`runs/${id}.jsonl is damaged: line ${line} is not a row`);
        reducer.add(row);
      }
      start = end + 1;
    }
    return reducer.finish(summary);
  }

  /**
   * The rows of run `id` (of a complete run: `inspect` first): its table's, or where it has none
   * (a run in progress, or of segloss before 0.3), its log's.
   */
  async readRows(id: string): Promise<StepLog[]> {
    const table = readIfExists(this.path(id, '.parquet'));
    if (table != null) return readRunTable(table, `runs/${id}.parquet`);
    const path = this.path(id, '.jsonl');
    const text = io('read', path, () => readFileSync(path, 'utf8'));
    return text.split('\n').filter(Boolean).map((line, k) => {
      const row = parseRow(line);
      if (row == null) throw new SweepDataError(`runs/${id}.jsonl is damaged: line ${k + 1} is not a row`);
      return row;
    });
  }

  /**
   * The columns of run `id` (of a complete run: `inspect` first), as its table holds them
   * (run_table.ts); a run of segloss before 0.3, its log's rows put in columns.
   */
  async readColumns(id: string): Promise<RunColumns> {
    const table = readIfExists(this.path(id, '.parquet'));
    if (table != null) return readRunColumns(table, `runs/${id}.parquet`);
    const builder = new RunTableBuilder(id);
    for (const row of await this.readRows(id)) builder.add(row);
    return builder.columns();
  }

  claim(id: string): RunLease | null {
    const claim = this.claims.tryClaim(id);
    return claim ? new FileRunLease(this, id, claim) : null;
  }

  holder(id: string): string | null {
    return this.claims.holder(id);
  }

  writeSummaryCsv(summaries: readonly RunSummary[]): void {
    writeAtomic(join(this.dir, 'summary.csv'), summaryCsv(summaries));
  }
}

/**
 * A run this process claimed in a SweepStore: its log written through one descriptor, its rows
 * reduced and gathered into its table as they go.
 */
class FileRunLease implements RunLease {
  private fd: number | null = null;
  private reducer: RunReducer | null = null;
  private table: RunTableBuilder | null = null;

  constructor(private readonly store: SweepStore, private readonly id: string, private readonly claim: Claim) {}

  get attempt(): string {
    return this.claim.token;
  }

  get tookOverFrom(): string | null {
    return this.claim.tookOverFrom;
  }

  begin(): void {
    this.claim.verify();
    for (const suffix of ['.done.json', '.failed.json', '.jsonl', '.parquet', '.reduced.json'] as const) {
      const path = this.store.path(this.id, suffix);
      io('remove', path, () => rmSync(path, { force: true }));
    }
    // A new file: a process that lost this run keeps writing, if at all, to the old one.
    const path = this.store.path(this.id, '.jsonl');
    this.fd = io('create', path, () => openSync(path, 'wx'));
    this.reducer = new RunReducer();
    this.table = new RunTableBuilder(this.id);
  }

  append(rows: readonly StepLog[]): void {
    if (rows.length === 0) return;
    this.claim.verify();
    const data = Buffer.from(rows.map(rowToJson).join('\n') + '\n');
    io('write', this.store.path(this.id, '.jsonl'), () => writeAll(this.fd!, data));
    for (const row of rows) {
      this.reducer!.add(row);
      this.table!.add(row);
    }
  }

  complete(summary: RunSummary): void {
    this.claim.verify();
    const logPath = this.store.path(this.id, '.jsonl');
    io('write', logPath, () => fsyncSync(this.fd!));
    this.closeLog();
    // The table and the reduction before the marker: a marker never vouches for a file that is not there.
    const rows = this.table!.rows;
    const table = Buffer.from(this.table!.encode());
    this.table = null;
    const reduction = JSON.stringify(this.reducer!.finish(summary));
    this.reducer = null;
    this.claim.verify();
    writeAtomic(this.store.path(this.id, '.parquet'), table);
    writeAtomic(this.store.path(this.id, '.reduced.json'), reduction);
    const marker: Marker = { ...summary, table: { rows, ...digestOf(table) }, reduction: digestOf(reduction) };
    this.claim.verify();
    writeAtomic(this.store.path(this.id, '.done.json'), JSON.stringify(marker, null, 2) + '\n');
    // The write-ahead log is in the table now. (Should this process die first, the JSONL stays
    // beside its table, unread, the marker vouching for the table, until a sweep's `create()`.)
    io('remove', logPath, () => rmSync(logPath, { force: true }));
    this.claim.release();
  }

  fail(failure: FailedRun): void {
    this.closeLog();
    if (this.claim.held()) {
      const record = { ...failure, attempt: this.attempt, host: hostname(), pid: process.pid };
      writeAtomic(this.store.path(this.id, '.failed.json'), JSON.stringify(record, null, 2) + '\n');
    }
    this.claim.release();
  }

  release(): void {
    try {
      this.closeLog();
    } finally {
      this.claim.release();
    }
  }

  private closeLog(): void {
    if (this.fd == null) return;
    const fd = this.fd;
    this.fd = null;
    try { closeSync(fd); } catch { /* the descriptor is gone either way */ }
  }
}
