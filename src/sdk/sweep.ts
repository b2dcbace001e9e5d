/**
 * runSweep: the runs of a sweep spec trained in parallel Comlink workers (Node worker_threads),
 * their logs streamed to a SweepStore as they come. Resumable (complete runs are kept, partial ones
 * redone), shardable (a deterministic partition of the plan), cancellable with an AbortSignal
 * (workers stop, written rows stay, unfinished runs stay resumable). A worker that throws or dies
 * fails only its run: it is recorded with the error, the worker replaced, the sweep goes on.
 */
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { version_core } from '@tensorflow/tfjs-core';
import type { LossName } from '../losses/types.js';
import { decodeRows } from '../workers/protocol.js';
import type { WorkerApi } from '../workers/worker.js';
import type { PlannedRun } from '../experiment/presets.js';
import { parseSweepSpec, planSweep, shardOf, type SweepSpec } from './plan.js';
import { SummaryTracker, SweepStore, type FailedRun, type RunSummary } from './store.js';

export interface SweepProgress {
  runId: string;
  step: number;
  steps: number;
  losses: Partial<Record<LossName, number>>;
  completedRuns: number;
  failedRuns: number;
  totalRuns: number;
  /** Seconds left for the whole sweep at the rate so far, or null before any rate is known. */
  etaSeconds: number | null;
}

export interface SweepOptions {
  outDir: string;
  /** Parallel workers (default: the machine's available parallelism). */
  workers?: number;
  /** Continue a sweep in `outDir`: complete runs are kept, the others (re)done. */
  resume?: boolean;
  /** Run only shard `index` of `count` (runs k with k mod count = index). */
  shard?: { index: number; count: number };
  signal?: AbortSignal;
  onProgress?: (progress: SweepProgress) => void;
  /** The worker script (default: dist/worker.js beside this module). */
  workerUrl?: URL;
}

export interface SweepResult {
  outDir: string;
  /** Every complete run of this sweep (or shard), in plan order. */
  runs: RunSummary[];
  failed: FailedRun[];
  /** Runs found complete and kept by a resume. */
  resumed: number;
  aborted: boolean;
}

/** segloss's version, from the package.json above this module (dist/ or src/sdk/). */
function seglossVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++, dir = dirname(dir)) {
    const path = join(dir, 'package.json');
    if (existsSync(path)) {
      const pkg = JSON.parse(readFileSync(path, 'utf8'));
      if (pkg.name === 'segloss') return pkg.version;
    }
  }
  return 'unknown';
}

class WorkerDied extends Error {
  constructor(code: number, cause: Error | null) {
    super(`worker exited with code ${code} during the run${cause ? `: ${cause.message}` : ''}`);
    this.name = 'WorkerDied';
  }
}

interface Slot {
  worker: Worker;
  api: Comlink.Remote<WorkerApi>;
  exited: Promise<never>;
}

async function startSlot(workerUrl: URL): Promise<Slot> {
  const worker = new Worker(workerUrl);
  // An uncaught error in the worker arrives as 'error' (then 'exit'): keep it for the failure record.
  let crash: Error | null = null;
  worker.on('error', (error) => { crash = error; });
  const exited = new Promise<never>((_, reject) => worker.once('exit', (code) => reject(new WorkerDied(code, crash))));
  exited.catch(() => undefined); // observed through Promise.race only
  const api = Comlink.wrap<WorkerApi>(nodeEndpoint(worker as never));
  await Promise.race([api.init(), exited]);
  return { worker, api, exited };
}

async function stopSlot(slot: Slot): Promise<void> {
  slot.api[Comlink.releaseProxy]();
  await slot.worker.terminate();
}

/** Trains every run of `spec` (a preset name, or a SweepSpec) and stores the results in `outDir`. */
export async function runSweep(spec: SweepSpec | string, options: SweepOptions): Promise<SweepResult> {
  const parsed = parseSweepSpec(typeof spec === 'string' ? { preset: spec } : spec);
  const plan = planSweep(parsed);
  const runs = options.shard ? shardOf(plan, options.shard.index, options.shard.count) : plan;
  const store = new SweepStore(options.outDir);
  const sweepFile = {
    segloss: seglossVersion(), tfjs: version_core, spec: parsed,
    shard: options.shard ?? null, runs,
  };
  const existing = store.readSweep();
  if (existing && !options.resume) {
    throw new Error(`${options.outDir} already holds a sweep: resume it (--resume) or choose another directory`);
  }
  if (existing && JSON.stringify(existing.runs) !== JSON.stringify(runs)) {
    throw new Error(`${options.outDir} holds a different sweep (other runs); resume it with its own spec`);
  }
  store.writeSweep(sweepFile);

  const pending = runs.filter((r) => !store.isComplete(r.id));
  const resumed = runs.length - pending.length;
  const failed: FailedRun[] = [];
  let completed = resumed;
  const totalSteps = pending.reduce((n, r) => n + r.config.steps, 0);
  let doneSteps = 0;
  const started = Date.now();
  const queue = [...pending];
  const slots = new Set<Slot>();
  let aborted = options.signal?.aborted ?? false;
  const onAbort = () => {
    aborted = true;
    for (const slot of slots) void stopSlot(slot);
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });

  const workerUrl = options.workerUrl ?? new URL('./worker.js', import.meta.url);
  const trainOne = async (slot: Slot, run: PlannedRun) => {
    store.beginRun(run.id);
    const tracker = new SummaryTracker();
    const losses = run.config.loggedLosses;
    const sink = Comlink.proxy((data: Float64Array) => {
      const rows = decodeRows(data, losses);
      store.appendRows(run.id, rows);
      tracker.add(rows);
      doneSteps += rows.length;
      const last = rows[rows.length - 1];
      const elapsed = (Date.now() - started) / 1000;
      options.onProgress?.({
        runId: run.id, step: last.step, steps: run.config.steps, losses: last.losses,
        completedRuns: completed, failedRuns: failed.length, totalRuns: runs.length,
        etaSeconds: doneSteps > 0 && elapsed > 0 ? ((totalSteps - doneSteps) * elapsed) / doneSteps : null,
      });
    });
    const outcome = await Promise.race([slot.api.run(run.config, sink), slot.exited]);
    store.completeRun(tracker.summary(run.id, run.config, outcome));
    completed++;
  };

  const worker = async () => {
    let slot: Slot | null = null;
    while (!aborted && queue.length > 0) {
      const run = queue.shift()!;
      try {
        if (!slot) {
          slot = await startSlot(workerUrl);
          slots.add(slot);
          if (aborted) break;
        }
        await trainOne(slot, run);
      } catch (error) {
        if (aborted) break; // the run stays partial: a resume redoes it
        const failure = { id: run.id, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
        store.failRun(failure);
        failed.push(failure);
        if (slot) {
          slots.delete(slot);
          await stopSlot(slot).catch(() => undefined);
          slot = null;
        }
      }
    }
    if (slot) {
      slots.delete(slot);
      await stopSlot(slot).catch(() => undefined);
    }
  };

  const count = Math.max(1, Math.min(options.workers ?? availableParallelism(), pending.length));
  try {
    await Promise.all(Array.from({ length: pending.length > 0 ? count : 0 }, () => worker()));
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }

  const summaries = runs.filter((r) => store.isComplete(r.id)).map((r) => store.readSummary(r.id));
  store.writeSummaryCsv(summaries);
  return { outDir: options.outDir, runs: summaries, failed, resumed, aborted };
}
