/**
 * Draws a report's figures (Node). A drawer keeps two threads busy: vega draws a figure's SVG on
 * its JS thread while resvg draws the previous figure's PNG on one of libuv's (figure_files.ts).
 * So on 2 cores a report draws in its own process; with four or more, in processes, one per two
 * cores and at most one per FIGURES_PER_PROCESS figures, each running figure_worker.ts, fed as the
 * report loads each figure's runs, a couple of figures queued per process. The processes start
 * with the first figure to draw (none for a report whose figures are unchanged).
 *
 * Measured on 2 cores (bench/RESULTS.md): the seed preset's 36 figures in 4.6–4.9 s in the
 * report's process against 4.7–5.2 s in two processes; 360 figures in 41 s and 650 MB against 39 s
 * and 1.3 GB. (No machine of 4 cores or more was at hand: their rule rests on this reasoning.)
 * Processes, not worker_threads: two threads of one process drawing PNGs ran no faster than one
 * (resvg's ~8 MB pixmaps, mapped and unmapped per figure, make the threads of one address space
 * wait on each other).
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { fork, type ChildProcess } from 'node:child_process';
import { FigureDrawer, type FigureJob } from './figure_files.js';

export interface FigurePool {
  /** The processes drawing (0: this process draws). */
  readonly processes: number;
  /** Queues a figure; resolves when the pool has room for another (not when this one is drawn). */
  draw(job: FigureJob): Promise<void>;
  /** Waits for every queued figure; rejects with the first figure that failed. */
  finish(): Promise<void>;
}

/** dist/report-figure-worker.js: beside this module once built, else (running from src/) in dist/. */
function workerUrl(): URL | null {
  for (const candidate of ['./report-figure-worker.js', '../../dist/report-figure-worker.js']) {
    const url = new URL(candidate, import.meta.url);
    if (existsSync(fileURLToPath(url))) return url;
  }
  return null;
}

/** Figures a process must have (≈ 1.5 s of drawing) to be worth its start (vega and resvg loaded, ≈ 0.5 s). */
const FIGURES_PER_PROCESS = 12;
const QUEUED_PER_PROCESS = 2;
/** Threads a drawer keeps busy (vega's, and resvg's on libuv's pool). */
const THREADS_PER_DRAWER = 2;

/** The error a report fails with when figure `key` could not be drawn. */
const figureFailed = (key: string, why: string) => new Error(`report: figure ${key}: ${why}`);

/** A pool for `figures` figures on `cores` cores (default: all). */
export function figurePool(dir: string, figures: number, cores = availableParallelism()): FigurePool {
  const size = Math.min(Math.floor(cores / THREADS_PER_DRAWER), Math.floor(figures / FIGURES_PER_PROCESS));
  const url = workerUrl();
  if (size < 2 || url == null) return inProcess(dir);
  return processes(dir, url, size);
}

/** Draws the figures in `size` processes, started with the first figure. */
function processes(dir: string, url: URL, size: number): FigurePool {
  let failure: Error | null = null;
  const waiting: (() => void)[] = [];
  const idle: (() => void)[] = [];
  let workers: { worker: ChildProcess; queued: number }[] = [];
  const start = () => Array.from({ length: size }, () => {
    // execArgv: not the parent's (a `node --input-type=module -e` would pass a flag a script refuses).
    const worker: ChildProcess = fork(fileURLToPath(url), [dir], { execArgv: [], serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const w = { worker, queued: 0 };
    worker.on('message', (m: { key: string; error?: string }) => {
      w.queued--;
      if (m.error && !failure) failure = figureFailed(m.key, m.error);
      waiting.shift()?.();
      if (workers.every((x) => x.queued === 0)) for (const done of idle.splice(0)) done();
    });
    const lost = (why: string) => {
      if (closed) return;
      failure ??= new Error(`report: a figure process ${why}`);
      w.queued = 0;
      for (const wake of [...waiting.splice(0), ...idle.splice(0)]) wake();
    };
    worker.on('error', (error) => lost(`failed: ${error.message}`));
    worker.on('exit', (code, signal) => lost(`exited (${signal ?? `code ${code}`})`));
    return w;
  });
  let closed = false;
  const close = async () => {
    closed = true;
    await Promise.all(workers.map((w) => new Promise<void>((resolve) => {
      if (w.worker.exitCode != null || w.worker.signalCode != null) return resolve();
      w.worker.once('exit', () => resolve());
      w.worker.kill();
    })));
  };
  return {
    processes: size,
    async draw(job) {
      if (failure) throw failure;
      if (workers.length === 0) workers = start();
      for (;;) {
        const free = workers.reduce((a, b) => (b.queued < a.queued ? b : a));
        if (free.queued < QUEUED_PER_PROCESS) {
          free.queued++;
          free.worker.send(job);
          return;
        }
        await new Promise<void>((resolve) => waiting.push(resolve));
        if (failure) throw failure;
      }
    },
    async finish() {
      try {
        if (!failure && workers.some((w) => w.queued > 0)) await new Promise<void>((resolve) => idle.push(resolve));
        if (failure) throw failure;
      } finally {
        await close();
      }
    },
  };
}

/** Draws the figures in this process (its FigureDrawer: SVGs on the JS thread, PNGs on libuv's). */
function inProcess(dir: string): FigurePool {
  const drawer = new FigureDrawer(dir);
  const written = new Set<Promise<void>>();
  let failure: Error | null = null;
  return {
    processes: 0,
    async draw(job) {
      if (failure) throw failure;
      const { png } = await drawer.draw(job).catch((error: Error) => {
        throw figureFailed(job.key, error.message);
      });
      const done = png.then((error) => { if (error) failure ??= figureFailed(job.key, error.message); written.delete(done); });
      written.add(done);
    },
    async finish() {
      await Promise.all(written);
      if (failure) throw failure;
    },
  };
}
