/**
 * A training thread's replica (built to dist/train-replica-worker.js; src/parallel/node.ts starts
 * it): the trainer's model and optimizer, rebuilt from its options and its weights and moments,
 * then one `trainingStep` on this thread's part of each batch the trainer posts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import '../tfjs/core_gradients.js';
import { buildModel, trainingStep, type TrainingSet } from '../models/train.js';
import { FusedAdam } from '../ops/fused_adam.js';
import { setupWasmKernels } from '../setup.js';
import { SharedCollective, ThreadStopped } from './collective.js';
import type { ReplicaInit, ReplicaStep } from './node.js';

const init = workerData as ReplicaInit;
const collective = new SharedCollective(init.shared, init.rank, init.size, init.batch);
// A thread that ends for any reason lets no other wait for it, and says why.
let closing = false;
process.on('exit', (code) => {
  if (!closing) init.errors.postMessage({ message: `thread ${init.rank} exited (code ${code})` });
  collective.stop();
});

/** Test hook: SEGLOSS_TEST_THREAD_FAIL=rank:step:throw|exit makes that thread fail at that step. */
const [failRank, failStep, failHow] = (process.env.SEGLOSS_TEST_THREAD_FAIL ?? '').split(':');

tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
await tf.setBackend('wasm');
await setupWasmKernels();
const shape = { dims: init.dims, inputShape: init.inputShape, classes: init.classes } as TrainingSet;
const model = buildModel(init.options, shape);
const initial = init.weights.map((w, k) => tf.tensor(w, model.weights[k].shape as number[]));
model.setWeights(initial);
tf.dispose(initial);
const optimizer = new FusedAdam(init.options.learningRate, 0.9, 0.999, 1e-7);
optimizer.loadState(model.trainableWeights.map((w) => (w.read() as tf.Variable).name), init.optimizer);

parentPort!.on('message', (m: ReplicaStep | { kind: 'close' }) => {
  if (m.kind === 'close') {
    closing = true;
    return;
  }
  try {
    if (Number(failRank) === init.rank && Number(failStep) === m.step) {
      if (failHow === 'exit') process.exit(3);
      throw new Error(`test failure at step ${m.step}`);
    }
    trainingStep(model, optimizer, init.options.loss, collective, init.inputShape, m.images, m.labels);
  } catch (error) {
    // The message first: the trainer reads it as soon as it sees this thread stopped. Waiting for
    // a thread that stopped is no cause of its own: that thread says why.
    if (!(error instanceof ThreadStopped)) init.errors.postMessage({ message: `thread ${init.rank}: ${(error as Error).message} (step ${m.step})` });
    collective.stop();
  }
});
parentPort!.postMessage({ kind: 'ready' });
