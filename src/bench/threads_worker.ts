/**
 * A replica for `segloss bench threads` (built to dist/bench-threads-worker.js): a unet2d on
 * tfjs-wasm with segloss's kernels, the same seed as every other replica; on 'grads', the gradients
 * of CCE on its micro-batch, flat, transferred; on 'apply', one Adam step with the summed gradients.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import '../tfjs/core_gradients.js';
import { categoricalCrossEntropy } from '../losses/categorical_cross_entropy.js';
import { unet2d } from '../models/unet.js';
import { FusedAdam } from '../ops/fused_adam.js';
import { setupWasmKernels } from '../setup.js';

const { size, filters, batch, batchNorm, part, parts } = workerData as { size: number; filters: number[]; batch: number; batchNorm: boolean; part: number; parts: number };

tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
await tf.setBackend('wasm');
await setupWasmKernels();
const model = unet2d({ inputShape: [size, size, 1], classes: 2, filters, batchNorm, seed: 1 });
const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
const optimizer = new FusedAdam(1e-3, 0.9, 0.999, 1e-7);
// The whole batch, as the one-thread step sees it; this replica's micro-batch is its share of it.
const x = tf.tidy(() => tf.slice(tf.randomUniform([batch, size, size, 1], 0, 1, 'float32', 1), [part * (batch / parts)], [batch / parts]));
const labels = tf.tidy(() => tf.cast(tf.greater(tf.squeeze(x, [3]), 0.7), 'int32'));

parentPort!.on('message', (message: { kind: 'grads' } | { kind: 'apply'; sum: Float32Array }) => {
  if (message.kind === 'grads') {
    const { grads } = tf.variableGrads(() => categoricalCrossEntropy(labels, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, variables);
    const flat = new Float32Array(variables.reduce((n, v) => n + v.size, 0));
    let offset = 0;
    for (const v of variables) {
      flat.set(grads[v.name].dataSync() as Float32Array, offset);
      offset += v.size;
    }
    tf.dispose(Object.values(grads));
    parentPort!.postMessage(flat, [flat.buffer]);
  } else {
    let offset = 0;
    const named = Object.fromEntries(variables.map((v) => {
      const t = tf.tensor(message.sum.subarray(offset, offset + v.size), v.shape);
      offset += v.size;
      return [v.name, t];
    }));
    optimizer.applyGradients(named);
    tf.dispose(Object.values(named));
    parentPort!.postMessage('applied');
  }
});
parentPort!.postMessage('ready');
