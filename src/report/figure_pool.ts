/**
 * Draws a report's figures on every core (Node): processes each running figure_worker.ts, fed as
 * the report loads each figure's runs, a few figures queued per process at most (so the specs
 * waiting stay few). A sweep of thousands of runs has a figure per three of them; each takes
 * ~0.25 s to draw (vega's SVG, then resvg's PNG), so the drawing sets the report's pace.
 *
 * Processes, not worker_threads: two threads of one process drawing PNGs ran no faster than one
 * (measured: 9.7 s against 9.8 s for 36 figures on 2 cores), each figure twice as slow; resvg's
 * ~10 MB pixmaps, mapped and unmapped per figure, make the threads of one address space wait on
 * each other. A pool of one, or a report of few figures, draws them in this process.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { fork, type ChildProcess } from 'node:child_process';
import { writeFigure, type FigureJob } from './figure_files.js';

export interface FigurePool {
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

/** Figures per process below which starting processes (each loads vega and resvg, ~0.5 s) is not worth it. */
const FIGURES_PER_PROCESS = 6;
const QUEUED_PER_PROCESS = 2;

export function figurePool(dir: string, figures: number, processes = availableParallelism()): FigurePool {
  const size = Math.min(processes, Math.floor(figures / FIGURES_PER_PROCESS));
  const url = workerUrl();
  if (size < 2 || url == null) {
    return { draw: (job) => writeFigure(dir, job), finish: async () => {} };
  }
  let failure: Error | null = null;
  const waiting: (() => void)[] = [];
  const idle: (() => void)[] = [];
  const workers = Array.from({ length: size }, () => {
    // execArgv: not the parent's (a `node --input-type=module -e` would pass a flag a script refuses).
    const worker: ChildProcess = fork(fileURLToPath(url), [dir], { execArgv: [], serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const w = { worker, queued: 0 };
    worker.on('message', (m: { key: string; error?: string }) => {
      w.queued--;
      if (m.error && !failure) failure = new Error(`report: figure ${m.key}: ${m.error}`);
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
    async draw(job) {
      if (failure) throw failure;
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
