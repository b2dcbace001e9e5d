/**
 * The sweep pool (src/sdk/pool.ts) is one code path whatever the store: here Node worker_threads
 * (the stand-in worker of test/fixtures/fake-worker.mjs) write into a MemorySweepStore, the
 * browser's store; failures, resume, the report's view, summary.csv (the same text SweepStore
 * writes) and saving a store to JSON and back.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MemorySweepStore } from '../src/sdk/memory_store.js';
import { parseSweepSpec, planSweep } from '../src/sdk/plan.js';
import { trainRuns } from '../src/sdk/pool.js';
import { SweepStore } from '../src/sdk/store.js';
import { nodeWorkers } from '../src/sdk/sweep.js';

const scratch = mkdtempSync(join(tmpdir(), 'segloss-memory-store-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

// Seed 1: the worker dies after its first batch; seed 2: run() throws (see the fixture).
const plan = planSweep(parseSweepSpec({ parameters: { seed: { values: [0, 1, 2, 3] }, steps: { value: 10 } } }));
const spawn = nodeWorkers(new URL('./fixtures/fake-worker.mjs', import.meta.url));

describe('trainRuns into a MemorySweepStore', () => {
  const store = new MemorySweepStore();
  store.planned = plan;

  it('stores complete runs and records failures, the workers replaced', async () => {
    const batches: string[] = [];
    const result = await trainRuns(plan, { store, spawn, workers: 2, onRows: (run, rows) => batches.push(`${run.id}:${rows.length}`) });
    expect(result).toMatchObject({ resumed: 0, aborted: false });
    expect(result.failed.map((f) => f.id).sort()).toEqual(['adam-bn0-95fg-cce-run1', 'adam-bn0-95fg-cce-run2']);
    expect(store.failed().find((f) => f.id.endsWith('run1'))!.error).toMatch(/WorkerDied: worker died during the run: it exited with code 3/);
    expect(store.failed().find((f) => f.id.endsWith('run2'))!.error).toMatch(/fake failure in run\(\)/);
    expect(plan.map((r) => store.isComplete(r.id))).toEqual([true, false, false, true]);
    expect(store.rowsOf(plan[0].id).map((r) => r.step)).toEqual([...Array(10).keys()]);
    // The run that died mid-way keeps the rows it sent, as a partial run.
    expect(store.rowsOf(plan[1].id)).toHaveLength(5);
    expect(batches).toContain(`${plan[0].id}:5`);
    expect(store.runLogs().map((r) => r.id)).toEqual([plan[0].id, plan[3].id]);
  });

  it('resumes: complete runs are kept as they are, the others retried', async () => {
    const kept = store.rowsOf(plan[0].id);
    const result = await trainRuns(plan, { store, spawn, workers: 1 });
    expect(result.resumed).toBe(2);
    expect(result.failed).toHaveLength(2);
    expect(store.rowsOf(plan[0].id)).toBe(kept);
  });

  it('writes the summary.csv that SweepStore writes for the same runs', () => {
    const files = new SweepStore(scratch);
    const summaries = store.runLogs().map((r) => store.readSummary(r.id));
    files.writeSummaryCsv(summaries);
    expect(store.summaryCsv()).toBe(readFileSync(join(scratch, 'summary.csv'), 'utf8'));
    expect(store.summaryCsv().trim().split('\n')).toHaveLength(3);
  });

  it('saves to JSON and back, partial runs and failures included', () => {
    const restored = MemorySweepStore.fromJSON(JSON.stringify(store));
    expect(restored.runLogs()).toEqual(store.runLogs());
    expect(restored.summaryCsv()).toBe(store.summaryCsv());
    expect(restored.failed()).toEqual(store.failed());
    expect(restored.rowsOf(plan[1].id)).toEqual(store.rowsOf(plan[1].id));
    expect(restored.planned).toEqual(plan);
    expect(restored.engine).toBe(null);
    store.engine = 'lanes';
    expect(MemorySweepStore.fromJSON(JSON.stringify(store)).engine).toBe('lanes');
    // A store saved before engines were recorded has none (its sweep trained on tfjs).
    const old = JSON.parse(JSON.stringify(store));
    delete old.engine;
    expect(MemorySweepStore.fromJSON(old).engine).toBe(null);
    expect(() => MemorySweepStore.fromJSON('{"format": "other"}')).toThrow(/not a saved store/);
    expect(() => MemorySweepStore.fromJSON('{"format": "segloss-mem')).toThrow(/fromJSON: the text is not JSON \(.*\): not a saved store/);
  });

  it.each([0, -1, 1.5, NaN])('refuses %s workers with a clear error, before touching the store', async (workers) => {
    const fresh = new MemorySweepStore();
    await expect(trainRuns(plan, { store: fresh, spawn, workers })).rejects.toThrow(/workers must be a positive integer/);
    expect(fresh.runLogs()).toEqual([]);
    expect(fresh.rowsOf(plan[0].id)).toEqual([]);
  });

  it('claims a run for one sweep at a time, and refuses rows for a run not begun', () => {
    const fresh = new MemorySweepStore();
    const lease = fresh.claim('x')!;
    expect(lease).not.toBeNull();
    expect(fresh.claim('x')).toBeNull();
    expect(fresh.holder('x')).toMatch(/another sweep on this store/);
    expect(() => lease.append([{ step: 0, losses: {}, gradNorms: {} }])).toThrow(/run x was not begun/);
    lease.release();
    expect(fresh.holder('x')).toBeNull();
    expect(fresh.claim('x')).not.toBeNull();
  });
});

describe('two sweeps on one MemorySweepStore at once', () => {
  it('split its runs: each run is trained once, and both see every run complete', async () => {
    const runs = planSweep(parseSweepSpec({ parameters: { seed: { values: [0, 3, 4, 5, 6, 7] }, steps: { value: 10 } } }));
    const store = new MemorySweepStore();
    store.planned = runs;
    const trainedBy: Record<string, string[]> = { a: [], b: [] };
    const sweep = (name: string) => trainRuns(runs, {
      store, spawn, workers: 1, pollMs: 20,
      onRows: (run, rows) => { if (rows[0].step === 0) trainedBy[name].push(run.id); },
    });
    const [a, b] = await Promise.all([sweep('a'), sweep('b')]);
    expect([...trainedBy.a, ...trainedBy.b].sort()).toEqual(runs.map((r) => r.id).sort());
    expect(a.trained + b.trained).toBe(6);
    expect(a.trained).toBeGreaterThan(0);
    expect(b.trained).toBeGreaterThan(0);
    expect(a.complete.map((s) => s.id)).toEqual(runs.map((r) => r.id));
    expect(b.complete).toEqual(a.complete);
  });
});

describe('a store that cannot write', () => {
  it('stops every worker and rejects with the store\'s error, leaving what was written', async () => {
    const runs = planSweep(parseSweepSpec({ parameters: { seed: { values: [0, 3, 4, 5] }, steps: { value: 10 } } }));
    const store = new MemorySweepStore();
    const full = new Error('QuotaExceededError: the storage is full');
    let appends = 0;
    const failing: typeof store = Object.create(store);
    failing.claim = (id: string) => {
      const lease = store.claim(id);
      if (!lease) return null;
      return { ...lease, append: (rows) => { if (++appends > 2) throw full; lease.append(rows); } };
    };
    const started = Date.now();
    await expect(trainRuns(runs, { store: failing, spawn, workers: 2 })).rejects.toBe(full);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(runs.filter((r) => store.isComplete(r.id)).length).toBeLessThan(4);
    expect(store.failed()).toEqual([]); // a fault of the store is not a failure of the run
    for (const run of runs) expect(store.holder(run.id)).toBeNull(); // every claim given back
  });
});
