/**
 * A training thread's replica, wherever it runs (a Node worker_thread: replica_worker.ts; a
 * browser's module Web Worker: replica_worker.browser.ts): the trainer's model and optimizer,
 * rebuilt from its options, weights and moments, then one `trainingStep` on this thread's part of
 * each batch the trainer posts. A step that fails stops the shared collective with the thread's
 * own words, which the trainer reads from the shared buffer as its own step fails.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import '../tfjs/core_gradients.js';
import { buildModel, trainingStep, type TrainingSet } from '../models/train.js';
import { FusedAdam } from '../ops/fused_adam.js';
import { setupWasmKernels } from '../setup.js';
import { SharedCollective, ThreadStopped } from './collective.js';
import type { ReplicaInit, ReplicaStep } from './replicas.js';

export interface Replica {
  readonly collective: SharedCollective;
  /** Runs this thread's part of a step; never throws (a failure stops the collective, with why). */
  step(message: ReplicaStep): void;
}

/** Starts tfjs's wasm backend (its single-threaded build: the threads are the replicas) and the replica. */
export async function startReplica(init: ReplicaInit): Promise<Replica> {
  const collective = new SharedCollective(init.shared, init.rank, init.size, init.batch);
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  if (!(await tf.setBackend('wasm'))) throw new Error('tfjs could not start its wasm backend');
  await setupWasmKernels();
  const shape = { dims: init.dims, inputShape: init.inputShape, classes: init.classes } as TrainingSet;
  const model = buildModel(init.options, shape);
  const initial = init.weights.map((w, k) => tf.tensor(w, model.weights[k].shape as number[]));
  model.setWeights(initial);
  tf.dispose(initial);
  const optimizer = new FusedAdam(init.options.learningRate, 0.9, 0.999, 1e-7);
  optimizer.loadState(model.trainableWeights.map((w) => (w.read() as tf.Variable).name), init.optimizer);
  // Test hook (Node: SEGLOSS_TEST_THREAD_FAIL=rank:step:throw|exit): this thread fails at that step.
  const [failRank, failStep, failHow] = (init.failAt ?? '').split(':');
  return {
    collective,
    step(m) {
      try {
        if (Number(failRank) === init.rank && Number(failStep) === m.step) {
          if (failHow === 'exit' && typeof process !== 'undefined') process.exit(3);
          throw new Error(`test failure at step ${m.step}`);
        }
        trainingStep(model, optimizer, init.options.loss, collective, init.inputShape, m.images, m.labels);
      } catch (error) {
        // Waiting for a thread that stopped is no cause of its own: that thread says why.
        collective.stop(error instanceof ThreadStopped ? undefined : `thread ${init.rank}: ${(error as Error).message} (step ${m.step})`);
      }
    },
  };
}
