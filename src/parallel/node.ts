/**
 * A trainer's other threads in Node (worker_threads, dist/train-replica-worker.js): thread 0 is
 * the trainer itself, on the calling thread; threads 1 … N − 1 each hold a replica of its model
 * and optimizer, started from the trainer's weights and moments. Each step the trainer posts every
 * thread its part of the batch and runs its own part; the kernels meet at each reduction over the
 * batch (SharedCollective), every thread applies the same update, and the replicas stay the same
 * bits. A thread that fails marks the shared buffer stopped, so no thread waits for it forever:
 * the step fails with the thread's own error.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import type * as tfl from '@tensorflow/tfjs-layers';
import type * as tf from '@tensorflow/tfjs-core';
import type { FusedAdam } from '../ops/fused_adam.js';
import type { UNetTrainingOptions } from '../models/train.js';
import { partOf, SharedCollective, sharedBytes, ThreadStopped } from './collective.js';

export const cores = (): number => availableParallelism();

/** What a replica thread starts from (workerData). */
export interface ReplicaInit {
  rank: number;
  size: number;
  batch: number;
  shared: SharedArrayBuffer;
  options: UNetTrainingOptions;
  dims: 2 | 3;
  inputShape: number[];
  classes: number;
  /** model.getWeights(), in order. */
  weights: Float32Array[];
  optimizer: { accBeta1: number; accBeta2: number; moments: Float32Array[] };
  /** A port for the thread's errors (each a sentence naming the thread), read synchronously by the trainer when a step fails. */
  errors: MessagePort;
}

export interface ReplicaStep {
  kind: 'step';
  step: number;
  /** This thread's images of the batch. */
  images: Float32Array;
  /** The whole batch's labels. */
  labels: Int32Array;
}

/** The trainer's side of its threads. */
export interface Replicas {
  readonly size: number;
  /** Thread 0's collective (the trainer's). */
  readonly collective: SharedCollective;
  /** Sends every other thread its part of step `step`'s batch. */
  post(step: number, images: Float32Array, labels: Int32Array): void;
  /** The error a failed step reports: the failing thread's own error, and the threads stopped. */
  failed(error: Error): Error;
  close(): void;
}

/** dist/train-replica-worker.js: beside this module once built, else (running from src/) in dist/. */
function workerUrl(): URL {
  const beside = new URL('./train-replica-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(beside))) return beside;
  const built = new URL('../../dist/train-replica-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(built))) return built;
  throw new Error('segloss threads: dist/train-replica-worker.js is missing: npm run build');
}

/** Words the largest reduction of a step needs per image: a filter gradient, batch norm's sums, or an image's logits. */
function wordsPerImage(model: tfl.LayersModel, inputShape: number[], classes: number): number {
  const largestWeight = Math.max(...model.trainableWeights.map((w) => w.shape.reduce((a: number, b) => a * (b ?? 1), 1)));
  const channels = Math.max(...model.trainableWeights.map((w) => w.shape[w.shape.length - 1] ?? 1));
  const voxels = inputShape.slice(0, -1).reduce((a, b) => a * b, 1);
  return Math.max(largestWeight, 4 * channels, voxels * classes);
}

export async function startReplicas(o: {
  threads: number; options: UNetTrainingOptions; model: tfl.LayersModel; optimizer: FusedAdam;
  dims: 2 | 3; inputShape: number[]; classes: number;
}): Promise<Replicas> {
  const { threads: size, options } = o;
  const batch = options.batchSize;
  const shared = new SharedArrayBuffer(sharedBytes(batch * wordsPerImage(o.model, o.inputShape, o.classes)));
  const collective = new SharedCollective(shared, 0, size, batch);
  const names = o.model.trainableWeights.map((w) => (w.read() as tf.Variable).name);
  const weights = o.model.getWeights().map((t) => t.dataSync() as Float32Array);
  const optimizer = o.optimizer.saveState(names);
  const url = workerUrl();
  const threads = Array.from({ length: size - 1 }, (_, k) => {
    const { port1, port2 } = new MessageChannel();
    const init: ReplicaInit = {
      rank: k + 1, size, batch, shared, options, dims: o.dims, inputShape: o.inputShape, classes: o.classes,
      weights, optimizer, errors: port2,
    };
    const worker = new Worker(url, { workerData: init, transferList: [port2] });
    worker.unref();
    return { worker, errors: port1, rank: k + 1 };
  });
  let closed = false;
  let failure: Error | null = null;
  const problems: string[] = [];
  for (const t of threads) {
    // Seen between steps (the event loop runs then): the next step fails at once.
    t.worker.on('error', (error) => { problems.push(`thread ${t.rank}: ${error.message}`); collective.stop(); });
    t.worker.on('exit', (code) => { if (!closed) { problems.push(`thread ${t.rank} exited (code ${code})`); collective.stop(); } });
  }
  const close = () => {
    closed = true;
    for (const t of threads) {
      t.worker.postMessage({ kind: 'close' });
      t.errors.close();
      void t.worker.terminate();
    }
  };
  try {
    await Promise.all(threads.map((t) => new Promise<void>((resolve, reject) => {
      t.worker.once('message', (m: { kind: string }) => (m.kind === 'ready' ? resolve() : reject(new Error(`thread ${t.rank} said ${m.kind}`))));
      t.worker.once('error', reject);
      t.worker.once('exit', (code) => reject(new Error(`thread ${t.rank} exited (code ${code}) while starting`)));
    })));
  } catch (error) {
    close();
    throw new Error(`segloss threads: a training thread did not start: ${(error as Error).message}`);
  }
  return {
    size,
    collective,
    post(step, images, labels) {
      if (failure) throw failure;
      const voxels = images.length / batch;
      for (const t of threads) {
        const { first, count } = partOf(batch, size, t.rank);
        const message: ReplicaStep = { kind: 'step', step, images: images.slice(first * voxels, (first + count) * voxels), labels };
        t.worker.postMessage(message, [message.images.buffer as ArrayBuffer]);
      }
    },
    failed(error) {
      collective.stop();
      for (const t of threads) {
        for (let m = receiveMessageOnPort(t.errors); m; m = receiveMessageOnPort(t.errors)) problems.push((m.message as { message: string }).message);
      }
      // A thread that exits between steps is heard twice (its own word, and its 'exit' event): once is enough.
      const causes = [...(error instanceof ThreadStopped ? [] : [`thread 0: ${error.message}`]), ...new Set(problems)];
      failure = new Error(`segloss train: a training step on ${size} threads failed: ${(causes.length > 0 ? causes : [error.message]).join('; ')}`);
      close();
      return failure;
    },
    close,
  };
}
