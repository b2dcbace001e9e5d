/**
 * SweepStore and its file layer (src/sdk/store.ts, fsio.ts) in one process: atomic writes that
 * leave nothing behind on failure, temporaries of killed processes cleaned up, I/O errors that
 * name the path and cause, markers from before digests still trusted when their log is whole,
 * and a lease that lost its claim writing nothing more.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseRunConfig } from '../src/experiment/config.js';
import type { StepLog } from '../src/experiment/train.js';
import { SweepIOError, temporaryPath, writeAtomic } from '../src/sdk/fsio.js';
import { ClaimLost, recordRun } from '../src/sdk/pool.js';
import { readRunTable } from '../src/sdk/run_table.js';
import { SweepStore } from '../src/sdk/store.js';
import { withJsonlLogs } from './helpers/sweep_dir.js';

const scratch = mkdtempSync(join(tmpdir(), 'segloss-store-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => mkdtempSync(join(scratch, `d${dirs++}-`));

const config = parseRunConfig({ steps: 5 });
const rows: StepLog[] = Array.from({ length: 5 }, (_, step) => ({ step, losses: { cce: 1 / (step + 1) }, gradNorms: { cce: 0.5 } }));
const outcome = { status: 'completed' as const, steps: 5, parameters: 198 };

function storeWithRun(): SweepStore {
  const store = new SweepStore(freshDir());
  store.create();
  recordRun(store, { id: 'r', config }, rows, outcome);
  return store;
}

describe('writeAtomic', () => {
  it('replaces a file whole and leaves no temporary', () => {
    const dir = freshDir();
    writeAtomic(join(dir, 'a.json'), 'one');
    writeAtomic(join(dir, 'a.json'), 'two');
    expect(readFileSync(join(dir, 'a.json'), 'utf8')).toBe('two');
    expect(readdirSync(dir)).toEqual(['a.json']);
  });

  it('fails with a SweepIOError naming the path and the cause, leaving the old file and no temporary', () => {
    const dir = freshDir();
    writeAtomic(join(dir, 'a.json'), 'old');
    const inside = join(dir, 'a.json', 'b.json'); // a file is not a directory
    expect(() => writeAtomic(inside, 'new')).toThrow(SweepIOError);
    expect(() => writeAtomic(inside, 'new')).toThrow(`cannot write ${inside}: a parent is not a directory (ENOTDIR)`);
    expect(readdirSync(dir)).toEqual(['a.json']);
    expect(readFileSync(join(dir, 'a.json'), 'utf8')).toBe('old');
  });
});

describe('SweepStore', () => {
  it('removes the temporaries of killed processes of this host when a sweep starts, and only those', () => {
    const store = new SweepStore(freshDir());
    store.create();
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    const mine = temporaryPath(join(store.runsDir, 'x.done.json'));
    const orphan = mine.replace(`~${process.pid}~`, `~${dead}~`);
    const elsewhere = join(store.runsDir, `x.done.json.other-host~${dead}~0123abcd.tmp`);
    for (const path of [mine, orphan, elsewhere]) writeFileSync(path, '');
    store.create();
    expect(existsSync(orphan)).toBe(false);
    expect(existsSync(mine)).toBe(true); // this process is alive
    expect(existsSync(elsewhere)).toBe(true); // another host's process may be alive
    expect(hostname()).not.toBe('other-host');
  });

  it('trusts a marker from before digests when its log has every row, and names it otherwise', async () => {
    const store = storeWithRun();
    await withJsonlLogs(store.dir);
    const markerPath = store.path('r', '.done.json');
    const { log: _digest, ...legacy } = JSON.parse(readFileSync(markerPath, 'utf8'));
    writeFileSync(markerPath, JSON.stringify(legacy));
    expect(store.inspect('r').kind).toBe('complete');
    const lines = readFileSync(store.path('r', '.jsonl'), 'utf8').split('\n');
    writeFileSync(store.path('r', '.jsonl'), lines.slice(0, 2).join('\n') + '\n');
    expect(store.inspect('r')).toEqual({ kind: 'damaged', problem: 'runs/r.jsonl is damaged: 2 of 5 rows readable' });
  });

  it('names a marker that belongs to another run', () => {
    const store = storeWithRun();
    const marker = JSON.parse(readFileSync(store.path('r', '.done.json'), 'utf8'));
    writeFileSync(store.path('r', '.done.json'), JSON.stringify({ ...marker, id: 'other' }));
    expect(store.inspect('r')).toEqual({ kind: 'damaged', problem: 'runs/r.done.json is damaged (not the completion marker of r)' });
  });

  it('names a sweep.json that is not a sweep', () => {
    const store = new SweepStore(freshDir());
    store.create();
    writeFileSync(join(store.dir, 'sweep.json'), '[1, 2]');
    expect(() => store.readSweep()).toThrow(`${join(store.dir, 'sweep.json')} is damaged (not the JSON of a sweep)`);
  });

  it('a lease whose claim was taken over writes nothing more: no row, no marker, no failure', async () => {
    const store = new SweepStore(freshDir());
    store.create();
    const lease = store.claim('r')!;
    lease.begin();
    lease.append(rows.slice(0, 2));
    // Another process takes the run over: the claim file is replaced, the log started afresh.
    renameSync(store.path('r', '.claim'), join(store.runsDir, 'old-claim'));
    const taker = store.claim('r');
    expect(taker).not.toBeNull();
    taker!.begin();
    expect(() => lease.append(rows.slice(2))).toThrow(ClaimLost);
    expect(() => lease.complete({ id: 'r', config, status: 'completed', steps: 5, divergedAt: null,
      finalAccuracy: null, bestAccuracy: null, finalLosses: {}, finalDice: null })).toThrow(ClaimLost);
    lease.fail({ id: 'r', error: 'late' });
    expect(readFileSync(store.path('r', '.jsonl'), 'utf8')).toBe('');
    expect(existsSync(store.path('r', '.done.json'))).toBe(false);
    expect(existsSync(store.path('r', '.failed.json'))).toBe(false);
    expect(existsSync(store.path('r', '.claim'))).toBe(true); // the taker's, untouched
    taker!.append(rows);
    taker!.complete({ id: 'r', config, status: 'completed', steps: 5, divergedAt: null,
      finalAccuracy: null, bestAccuracy: null, finalLosses: {}, finalDice: null });
    expect(store.inspect('r').kind).toBe('complete');
    expect(await store.readRows('r')).toEqual(rows);
  });

  it('compacts a completed run into its table and reads the same rows back; names a damaged or missing table', async () => {
    const store = storeWithRun();
    expect(existsSync(store.path('r', '.jsonl'))).toBe(false);
    const rowsWithEval: StepLog[] = rows.map((row) => (row.step === 4 ? { ...row, eval: { accuracy: 0.5, dice: [0.25, NaN], iou: [0.125, 0] } } : row));
    recordRun(store, { id: 'r', config }, rowsWithEval, outcome);
    // Read back as its JSONL line would read (NaN as null).
    expect(await store.readRows('r')).toEqual(rowsWithEval.map((row) => JSON.parse(JSON.stringify(row))));
    const table = readFileSync(store.path('r', '.parquet'));
    const flipped = Buffer.from(table);
    flipped[Math.floor(table.length / 2)] ^= 1;
    writeFileSync(store.path('r', '.parquet'), flipped);
    expect(store.inspect('r')).toEqual({ kind: 'damaged', problem: 'runs/r.parquet is damaged: not the 5 rows its completion marker recorded (SHA-256 differs)' });
    writeFileSync(store.path('r', '.parquet'), table.subarray(0, 100));
    expect(store.inspect('r')).toEqual({ kind: 'damaged', problem: `runs/r.parquet is damaged: not the 5 rows its completion marker recorded (100 bytes, not ${table.length})` });
    await expect(store.readRows('r')).rejects.toThrow(/^runs\/r\.parquet is damaged: /);
    rmSync(store.path('r', '.parquet'));
    expect(store.inspect('r')).toEqual({ kind: 'damaged', problem: 'runs/r.parquet is missing (its completion marker is there)' });
    // A file that is not a run table is named as such.
    await expect(readRunTable(new Uint8Array(64), 'runs/x.parquet')).rejects.toThrow(/^runs\/x\.parquet is damaged: /);
  });

  it('keeps a run\'s JSONL where it dies between the marker and the removal: the table is what counts; a sweep\'s start removes it', async () => {
    const store = storeWithRun();
    writeFileSync(store.path('r', '.jsonl'), 'a stray log\n');
    expect(store.inspect('r').kind).toBe('complete');
    expect(await store.readRows('r')).toEqual(rows);
    expect(store.completeFiles('r')).toEqual(['.parquet', '.reduced.json', '.done.json']);
    // A run in progress (no marker) keeps its log; so does a run whose table does not match its marker.
    writeFileSync(store.path('other', '.jsonl'), '{"step":0}\n');
    const table = readFileSync(store.path('r', '.parquet'));
    writeFileSync(store.path('r', '.parquet'), table.subarray(0, 50));
    store.create();
    expect(existsSync(store.path('r', '.jsonl'))).toBe(true);
    writeFileSync(store.path('r', '.parquet'), table);
    store.create();
    expect(existsSync(store.path('r', '.jsonl'))).toBe(false);
    expect(existsSync(store.path('other', '.jsonl'))).toBe(true);
    expect(store.inspect('r').kind).toBe('complete');
  });

  it('removes the claim of a complete run whose process died before releasing it, when a sweep starts, and only such claims', () => {
    const store = storeWithRun();
    const dead = Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
    const claim = (pid: number, host = hostname()) =>
      JSON.stringify({ host, pid, token: 't', started: '2026-01-01T00:00:00.000Z', heartbeat: '2026-01-01T00:00:00.000Z', beats: 0 });
    writeFileSync(store.path('r', '.claim'), claim(dead));
    writeFileSync(store.path('running', '.claim'), claim(dead)); // not complete: left for the pool's takeover
    store.create();
    expect(existsSync(store.path('r', '.claim'))).toBe(false);
    expect(existsSync(store.path('running', '.claim'))).toBe(true);
    // A live process's claim, and another host's, stay.
    const live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      writeFileSync(store.path('r', '.claim'), claim(live.pid!));
      store.create();
      expect(existsSync(store.path('r', '.claim'))).toBe(true);
    } finally {
      live.kill();
    }
    writeFileSync(store.path('r', '.claim'), claim(dead, `${hostname()}-elsewhere`));
    store.create();
    expect(existsSync(store.path('r', '.claim'))).toBe(true);
    expect(store.inspect('r').kind).toBe('complete');
  });

  it('refuses to record a run another claimant holds', () => {
    const store = new SweepStore(freshDir());
    store.create();
    const lease = store.claim('r')!;
    expect(() => recordRun(store, { id: 'r', config }, rows, outcome)).toThrow(`segloss: run r is held by ${hostname()} (pid ${process.pid})`);
    lease.release();
    mkdirSync(join(store.runsDir, 'unrelated'));
    expect(recordRun(store, { id: 'r', config }, rows, outcome).steps).toBe(5);
  });
});
