/**
 * A trainer's other threads, wherever they run: thread 0 is the trainer itself, on the calling
 * thread; threads 1 … N − 1 each hold a replica of its model and optimizer (src/parallel/replica.ts),
 * started from the trainer's weights and moments. Each step the trainer posts every thread its part
 * of the batch and runs its own part; the kernels meet at each reduction over the batch
 * (SharedCollective), every thread applies the same update, and the replicas stay the same bits.
 * A thread that fails stops the shared buffer with its own words, so no thread waits for it
 * forever, and the step fails with what that thread said.
 *
 * How a thread is started is the host's: worker_threads in Node (node.ts), module Web Workers in a
 * browser (web.ts).
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import type * as tf from '@tensorflow/tfjs-core';
import type { FusedAdam } from '../ops/fused_adam.js';
import type { UNetTrainingOptions } from '../models/train.js';
import { partOf, SharedCollective, sharedBytes, ThreadStopped } from './collective.js';

/** What a replica thread starts from. */
export interface ReplicaInit {
  kind: 'init';
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
  /** Test hook: 'rank:step:throw|exit' makes that thread fail at that step. */
  failAt?: string;
}

export interface ReplicaStep {
  kind: 'step';
  step: number;
  /** This thread's images of the batch. */
  images: Float32Array;
  /** The whole batch's labels. */
  labels: Int32Array;
}

/** A started thread, as its host sees it. */
export interface ReplicaThread {
  readonly rank: number;
  post(message: ReplicaStep | { kind: 'close' }, transfer?: Transferable[]): void;
  terminate(): void;
}

/**
 * Starts thread `init.rank` and resolves once it is ready. `onProblem` hears what the host learns
 * of the thread outside a step (it died, an uncaught error); the collective is stopped for it.
 */
export type SpawnReplica = (init: ReplicaInit, onProblem: (message: string) => void) => Promise<ReplicaThread>;

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

export interface ReplicaSource {
  threads: number;
  options: UNetTrainingOptions;
  model: tfl.LayersModel;
  optimizer: FusedAdam;
  dims: 2 | 3;
  inputShape: number[];
  classes: number;
  failAt?: string;
}

/** Words the largest reduction of a step needs per image: a filter gradient, batch norm's sums, or an image's logits. */
function wordsPerImage(model: tfl.LayersModel, inputShape: number[], classes: number): number {
  const largestWeight = Math.max(...model.trainableWeights.map((w) => w.shape.reduce((a: number, b) => a * (b ?? 1), 1)));
  const channels = Math.max(...model.trainableWeights.map((w) => w.shape[w.shape.length - 1] ?? 1));
  const voxels = inputShape.slice(0, -1).reduce((a, b) => a * b, 1);
  return Math.max(largestWeight, 4 * channels, voxels * classes);
}

export async function startReplicas(o: ReplicaSource, spawn: SpawnReplica): Promise<Replicas> {
  const { threads: size, options } = o;
  const batch = options.batchSize;
  const shared = new SharedArrayBuffer(sharedBytes(batch * wordsPerImage(o.model, o.inputShape, o.classes), size));
  const collective = new SharedCollective(shared, 0, size, batch);
  const names = o.model.trainableWeights.map((w) => (w.read() as tf.Variable).name);
  const weights = o.model.getWeights().map((t) => t.dataSync() as Float32Array);
  const optimizer = o.optimizer.saveState(names);
  // Heard between steps (the event loop runs then): the next step fails at once.
  const problems: string[] = [];
  const onProblem = (message: string) => { problems.push(message); collective.stop(); };
  const started = await Promise.allSettled(Array.from({ length: size - 1 }, (_, k) => spawn({
    kind: 'init', rank: k + 1, size, batch, shared, options, dims: o.dims, inputShape: o.inputShape, classes: o.classes,
    weights, optimizer, failAt: o.failAt,
  }, onProblem)));
  const threads = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  let failure: Error | null = null;
  const close = () => {
    for (const t of threads) {
      t.post({ kind: 'close' });
      t.terminate();
    }
  };
  const refused = started.flatMap((s) => (s.status === 'rejected' ? [(s.reason as Error).message] : []));
  if (refused.length > 0) {
    close();
    throw new Error(`segloss threads: a training thread did not start: ${refused.join('; ')}`);
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
        t.post(message, [message.images.buffer as ArrayBuffer]);
      }
    },
    failed(error) {
      collective.stop();
      // A thread that exits between steps is heard twice (its own word, and its host's): once is enough.
      const causes = [...(error instanceof ThreadStopped ? [] : [`thread 0: ${error.message}`]), ...new Set([...collective.messages(), ...problems])];
      failure = new Error(`segloss train: a training step on ${size} threads failed: ${(causes.length > 0 ? causes : [error.message]).join('; ')}`);
      close();
      return failure;
    },
    close,
  };
}
