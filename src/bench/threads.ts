/**
 * One model's training step on several threads (issue #23, src/parallel/): UNetTrainer's step —
 * synthetic data, unet2d at batch 4 of 128² (filters [16, 32, 64, 128], batch norm, Dice + CE,
 * FusedAdam), and unet3d at batch 2 of 48³ (filters [16, 32, 64]) — on 1 thread and on N, in one
 * process: the median ms a step, and N threads' over one thread's. The steps are the same bits
 * on every count (test/threads.test.ts); only the time differs.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import '../tfjs/core_gradients.js';
import { setupWasmKernels } from '../setup.js';
import type { BenchContext } from './suite.js';

export interface ThreadsBenchRow {
  name: string;
  dims: 2 | 3;
  threads: number;
  medianMs: number;
  /** Median step over the one-thread step's, measured in the same process. */
  ratio: number;
}

const median = (times: number[]) => [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)];

/** Median ms of `timed` steps of a trainer on `threads` threads, after two steps of warm-up (the first evaluates). */
export async function trainerStep(input: Record<string, unknown>, threads: number, timed: number, print: (line: string) => void): Promise<{ ms: number; threads: number }> {
  const { UNetTrainer } = await import('../models/train.js');
  const trainer = await UNetTrainer.open({ ...input, steps: 1_000_000, evalEvery: 1_000_000, threads }, undefined, { onNotice: print });
  try {
    for (let i = 0; i < 2; i++) trainer.runStep();
    const times: number[] = [];
    for (let i = 0; i < timed; i++) {
      const t0 = performance.now();
      trainer.runStep();
      times.push(performance.now() - t0);
    }
    return { ms: median(times), threads: trainer.threads };
  } finally {
    trainer.dispose();
  }
}

export async function benchThreads({ print, quick, steps, threads }: BenchContext): Promise<ThreadsBenchRow[]> {
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  await tf.setBackend('wasm');
  await setupWasmKernels();
  const counts = [...new Set([1, ...(threads ?? [2])])].sort((a, b) => a - b);
  const timed = steps ?? (quick ? 2 : 5);
  const cases: { name: string; dims: 2 | 3; input: Record<string, unknown> }[] = [
    { name: `unet2d ${quick ? 64 : 128}² batch 4, filters [16, 32, 64, 128]`, dims: 2,
      input: { imageSize: quick ? 64 : 128, batchSize: 4, filters: [16, 32, 64, 128], trainImages: 8, validationImages: 1 } },
    { name: `unet3d ${quick ? 16 : 48}³ batch 2, filters [16, 32, 64]`, dims: 3,
      input: { dims: 3, imageSize: quick ? 16 : 48, batchSize: 2, filters: [16, 32, 64], trainImages: 4, validationImages: 1 } },
  ];
  print(`UNetTrainer steps (synthetic data, batch norm, Dice + CE, FusedAdam) on ${counts.join(', ')} thread(s); median of ${timed} steps\n`);
  const rows: ThreadsBenchRow[] = [];
  for (const c of cases) {
    let one = 0;
    for (const asked of counts) {
      const { ms, threads: n } = await trainerStep(c.input, asked, timed, print);
      if (asked === 1) one = ms;
      else if (n !== asked) continue; // lowered to a count already measured (the notice says so)
      rows.push({ name: c.name, dims: c.dims, threads: n, medianMs: ms, ratio: ms / one });
      print(`${c.name}, ${n} thread${n > 1 ? 's' : ' '}: ${ms.toFixed(0).padStart(6)} ms a step  ${(ms / one).toFixed(2)}× one thread's`);
    }
  }
  return rows;
}
