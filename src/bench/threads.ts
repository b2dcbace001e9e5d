/**
 * What one model's training step could gain from more cores by data parallelism (issue #23's
 * design probe): the unet2d step (batch 4 of 128², filters [16, 32, 64, 128], CCE, Adam) on one
 * thread, against N worker threads that each hold a replica, compute the gradients of their
 * micro-batch (batch / N images) at the same time, and send them to the main thread, which sums
 * them in a fixed order (replica 0, 1, …) and sends the sum back for every replica's Adam step.
 *
 * It measures the cost of the road, not a finished feature: with batch norm each replica uses its
 * micro-batch's statistics (the feature needs the batch's: an all-reduce per BN layer, forward and
 * backward, not measured here), and a region loss would need its sums all-reduced before the
 * backward pass. CCE is a mean over pixels: the micro-batches' gradients, weighted, are the batch's.
 */
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import '../tfjs/core_gradients.js';
import { categoricalCrossEntropy } from '../losses/categorical_cross_entropy.js';
import { unet2d } from '../models/unet.js';
import { FusedAdam } from '../ops/fused_adam.js';
import { setupWasmKernels } from '../setup.js';
import type { BenchContext } from './suite.js';

export interface ThreadsBenchRow {
  name: string;
  threads: number;
  batchNorm: boolean;
  medianMs: number;
  /** Median step over the one-thread step's, measured in the same process. */
  ratio: number;
}

const median = (times: number[]) => [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)];

/** Median ms of the one-thread step: gradients of CCE on the whole batch, then FusedAdam. */
async function oneThread(size: number, filters: number[], batch: number, batchNorm: boolean, steps: number): Promise<number> {
  const model = unet2d({ inputShape: [size, size, 1], classes: 2, filters, batchNorm, seed: 1 });
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const optimizer = new FusedAdam(1e-3, 0.9, 0.999, 1e-7);
  const x = tf.randomUniform([batch, size, size, 1], 0, 1, 'float32', 1);
  const labels = tf.tidy(() => tf.cast(tf.greater(tf.squeeze(x, [3]), 0.7), 'int32'));
  const step = () => {
    const { value, grads } = tf.variableGrads(() => categoricalCrossEntropy(labels, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, variables);
    value.dataSync();
    optimizer.applyGradients(grads);
    tf.dispose([value, ...Object.values(grads)]);
  };
  try {
    for (let i = 0; i < 2; i++) step();
    const times: number[] = [];
    for (let i = 0; i < steps; i++) {
      const t0 = performance.now();
      step();
      times.push(performance.now() - t0);
    }
    return median(times);
  } finally {
    optimizer.dispose();
    model.dispose();
    tf.dispose([x, labels]);
  }
}

/** Median ms of the data-parallel step on `parts` replicas, each in a worker thread. */
async function dataParallel(size: number, filters: number[], batch: number, batchNorm: boolean, parts: number, steps: number) {
  const url = new URL('./bench-threads-worker.js', import.meta.url);
  const workers = Array.from({ length: parts }, (_, part) => new Worker(url, { workerData: { size, filters, batch, batchNorm, part, parts } }));
  // A worker's error rejects its pending reply (and the step awaiting it): a crash is reported, not a hang.
  const pending = new Map<Worker, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  for (const w of workers) {
    w.on('message', (m) => pending.get(w)?.resolve(m));
    w.on('error', (e) => pending.get(w)?.reject(e));
  }
  const next = (w: Worker) => new Promise<unknown>((resolve, reject) => pending.set(w, { resolve, reject }));
  try {
    await Promise.all(workers.map(next)); // 'ready'
    const phases = { grads: [] as number[], sum: [] as number[], apply: [] as number[], total: [] as number[] };
    for (let i = 0; i < steps + 2; i++) {
      const t0 = performance.now();
      const replies = workers.map(next);
      for (const w of workers) w.postMessage({ kind: 'grads' });
      const grads = (await Promise.all(replies)) as Float32Array[];
      const t1 = performance.now();
      // The fixed order: replica 0's gradients, then 1's, … (the same bits for any timing).
      const sum = new Float32Array(grads[0].length);
      for (const g of grads) for (let k = 0; k < sum.length; k++) sum[k] += g[k] / parts;
      const t2 = performance.now();
      const applied = workers.map(next);
      for (const w of workers) w.postMessage({ kind: 'apply', sum });
      await Promise.all(applied);
      const t3 = performance.now();
      if (i < 2) continue; // warm-up
      phases.grads.push(t1 - t0);
      phases.sum.push(t2 - t1);
      phases.apply.push(t3 - t2);
      phases.total.push(t3 - t0);
    }
    return { total: median(phases.total), grads: median(phases.grads), sum: median(phases.sum), apply: median(phases.apply) };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

export async function benchThreads({ print, quick, steps }: BenchContext): Promise<ThreadsBenchRow[]> {
  const size = quick ? 64 : 128;
  const filters = [16, 32, 64, 128];
  const batch = 4;
  const timed = steps ?? (quick ? 2 : 5);
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  await tf.setBackend('wasm');
  await setupWasmKernels();
  print(`unet2d ${size}² batch ${batch}, filters [${filters.join(', ')}], CCE, Adam: one thread against 2 replicas in worker threads `
    + `(batch / 2 each, gradients summed in a fixed order on the main thread, the sum sent back for each replica's update); median of ${timed} steps\n`);
  const rows: ThreadsBenchRow[] = [];
  for (const batchNorm of [false, true]) {
    const one = await oneThread(size, filters, batch, batchNorm, timed);
    const two = await dataParallel(size, filters, batch, batchNorm, 2, timed);
    const label = `BN ${batchNorm ? 'on (each replica its micro-batch\'s statistics)' : 'off'}`;
    print(`${label}: one thread ${one.toFixed(0)} ms; 2 replicas ${two.total.toFixed(0)} ms (gradients ${two.grads.toFixed(0)}, sum ${two.sum.toFixed(1)}, `
      + `update round trip ${two.apply.toFixed(0)}) = ${(two.total / one).toFixed(2)}× the one-thread step`);
    rows.push({ name: `one thread, ${label}`, threads: 1, batchNorm, medianMs: one, ratio: 1 });
    rows.push({ name: `2 replicas, ${label}`, threads: 2, batchNorm, medianMs: two.total, ratio: two.total / one });
  }
  return rows;
}
