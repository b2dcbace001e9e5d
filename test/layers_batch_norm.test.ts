/**
 * tfjs-layers' BatchNormalization on segloss's fused kernels (src/tfjs/layers_batch_norm.ts):
 * after setupWasmKernels() a stock layer's training call runs one fused kernel each way and gives
 * the layer's own output, gradients and moving averages (float32, other summation orders: stated
 * tolerances); inference, other axes and `replaceTfjsKernels: false` run the layer's own call.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupWasmKernels } from '../src/index.js';
import { fusedLayersBatchNormInstalled, useFusedLayersBatchNorm } from '../src/tfjs/layers_batch_norm.js';
import { mulberry32 } from './helpers/random.js';
import { useWasm } from './helpers/wasm.js';

beforeAll(async () => { await useWasm('simd'); });
afterAll(async () => { await setupWasmKernels(); });

const rng = mulberry32(11);
const X = Float32Array.from({ length: 3 * 5 * 6 * 8 }, () => 3 * rng() - 1);
const DY = Float32Array.from({ length: X.length }, () => rng() - 0.5);

/** One training call of a BN layer (momentum 0.9) on X: output, gradients w.r.t. x, γ, β, the moving averages after, and the kernels run. */
async function trainingCall(fused: boolean, layerArgs: Record<string, unknown> = {}) {
  useFusedLayersBatchNorm(fused);
  const layer = tfl.layers.batchNormalization({ momentum: 0.9, ...layerArgs });
  const x = tf.tensor4d(X, [3, 5, 6, 8]);
  const dy = tf.tensor4d(DY, [3, 5, 6, 8]);
  layer.build(x.shape);
  const [gamma, beta] = layer.trainableWeights.map((w) => w.read() as tf.Variable);
  // A first call: tfjs-layers keeps a cache of scalars, counted from then on.
  tf.dispose(layer.apply(x, { training: true }) as tf.Tensor);
  const before = tf.memory().numTensors;
  let y: number[] = [];
  const profile = await tf.profile(() => {
    const { value, grads } = tf.variableGrads(() => {
      const out = layer.apply(x, { training: true }) as tf.Tensor;
      y = Array.from(out.dataSync());
      return tf.sum(tf.mul(out, dy)) as tf.Scalar;
    }, [gamma, beta]);
    tf.dispose([value, ...Object.values(grads)]);
  });
  const dx = tf.grad((input: tf.Tensor) => tf.sum(tf.mul(layer.apply(input, { training: true }) as tf.Tensor, dy)))(x);
  const { grads } = tf.variableGrads(() => tf.sum(tf.mul(layer.apply(x, { training: true }) as tf.Tensor, dy)) as tf.Scalar, [gamma, beta]);
  const out = {
    y, dx: Array.from(dx.dataSync()), dgamma: Array.from(grads[gamma.name].dataSync()), dbeta: Array.from(grads[beta.name].dataSync()),
    // Four training calls so far: the moving averages moved four times.
    moving: layer.getWeights().slice(2).map((w) => Array.from(w.dataSync())),
    kernels: profile.kernelNames, leaked: 0,
  };
  tf.dispose([dx, ...Object.values(grads)]);
  out.leaked = tf.memory().numTensors - before;
  // The layer's weights (a layer used eagerly only cannot be disposed: tfjs-layers counts symbolic uses).
  tf.dispose([x, dy, ...layer.weights.map((w) => w.read())]);
  return out;
}

function maxRelative(got: number[], want: number[]): number {
  const scale = Math.max(...want.map(Math.abs), 1e-30);
  return Math.max(...want.map((v, i) => Math.abs(got[i] - v))) / scale;
}

describe('tfjs-layers BatchNormalization on the fused kernels', () => {
  it('is installed by setupWasmKernels() and removed with replaceTfjsKernels: false', async () => {
    await setupWasmKernels();
    expect(fusedLayersBatchNormInstalled()).toBe(true);
    await setupWasmKernels({ replaceTfjsKernels: false });
    expect(fusedLayersBatchNormInstalled()).toBe(false);
    await setupWasmKernels();
    expect(fusedLayersBatchNormInstalled()).toBe(true);
  });

  it('gives the layer\'s own output, gradients and moving averages in one kernel each way, with no tensor more', async () => {
    const stock = await trainingCall(false);
    const fused = await trainingCall(true);
    expect(fused.kernels.filter((k) => k.startsWith('SeglossBatchNorm'))).toEqual(['SeglossBatchNormTraining', 'SeglossBatchNormTrainingGrad']);
    expect(stock.kernels).not.toContain('SeglossBatchNormTraining');
    // tf.moments and tf.batchNorm are gone from the fused call.
    expect(stock.kernels).toEqual(expect.arrayContaining(['Mean', 'FusedBatchNorm']));
    expect(fused.kernels).not.toContain('FusedBatchNorm');
    expect(fused.kernels).not.toContain('Mean');
    // float32 with other summation orders (segloss sums in f64): within 1e-5 of the largest entry.
    for (const key of ['y', 'dx', 'dgamma', 'dbeta'] as const) {
      expect(maxRelative(fused[key], stock[key]), key).toBeLessThanOrEqual(1e-5);
    }
    fused.moving.forEach((m, k) => expect(maxRelative(m, stock.moving[k]), `moving ${k}`).toBeLessThanOrEqual(1e-6));
    // The moving mean moved: momentum 0.9 from 0, four times.
    expect(Math.max(...fused.moving[0].map(Math.abs))).toBeGreaterThan(0.05);
    // The same tensor count after either call (one, the same in both, is tf.profile's own); the
    // U-Net tests (models.test.ts) check tensor counts stay flat over training steps.
    expect(fused.leaked).toBe(stock.leaked);
    expect(fused.leaked).toBeLessThanOrEqual(1);
  });

  it('leaves other axes to the layer\'s own call', async () => {
    useFusedLayersBatchNorm(true);
    const x = tf.tensor4d(X, [3, 5, 6, 8]);
    // (Without γ or β the layer's own training call fails in tfjs-layers 4.22: it reads γ and β regardless.)
    for (const args of [{ axis: 1 }, { axis: -1 }]) {
      const layer = tfl.layers.batchNormalization(args);
      const profile = await tf.profile(() => { (layer.apply(x, { training: true }) as tf.Tensor).dispose(); });
      expect(profile.kernelNames.includes('SeglossBatchNormTraining'), JSON.stringify(args)).toBe(args.axis === -1);
      tf.dispose(layer.weights.map((w) => w.read()));
    }
    x.dispose();
  });

  it('leaves inference to the layer (moving averages, no kernel of segloss)', async () => {
    useFusedLayersBatchNorm(true);
    const layer = tfl.layers.batchNormalization();
    const x = tf.tensor4d(X, [3, 5, 6, 8]);
    const profile = await tf.profile(() => { (layer.apply(x, { training: false }) as tf.Tensor).dispose(); });
    expect(profile.kernelNames).not.toContain('SeglossBatchNormTraining');
    tf.dispose([x, ...layer.weights.map((w) => w.read())]);
  });
});
