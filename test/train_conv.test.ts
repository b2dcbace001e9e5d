/**
 * Conv nets train on tfjs's wasm backend once setupWasmKernels() has added the missing backprop
 * kernels: a net written with tfjs-core ops (conv2d + batch norm + relu + depthwise conv) and a
 * tfjs-layers Sequential (conv2d + batchNormalization) both train, with gradients equal to the
 * cpu backend's.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { losses } from '../src/index.js';
import { useWasm } from './helpers/wasm.js';
import { expectClose } from './helpers/assert.js';

// Gradients of a few thousand float32 products summed in different orders on the two backends.
const GRAD_TOL = { abs: 1e-5, rel: 1e-3 };

beforeAll(async () => { await useWasm('simd'); });

/** The toy task of the seed: foreground where the pixel exceeds a threshold. */
function toyBatch(seed: number, n: number, size: number): { x: tf.Tensor4D; labels: tf.Tensor3D } {
  return tf.tidy(() => {
    const x = tf.randomUniform([n, size, size, 1], 0, 1, 'float32', seed) as tf.Tensor4D;
    const labels = tf.cast(tf.greater(tf.squeeze(x, [3]), 0.5), 'int32') as tf.Tensor3D;
    return { x, labels };
  });
}

async function onBackend<T>(name: string, body: () => T): Promise<T> {
  await tf.setBackend(name);
  return body();
}

describe('a net of tfjs-core ops', () => {
  const init = (shape: number[], seed: number) => tf.variable(tf.randomNormal(shape, 0, 0.3, 'float32', seed));
  const params = () => ({
    w1: init([3, 3, 1, 4], 1), b1: tf.variable(tf.zeros([4])),
    gamma: tf.variable(tf.ones([4])), beta: tf.variable(tf.zeros([4])),
    wd: init([3, 3, 4, 1], 2), w2: init([1, 1, 4, 2], 3), b2: tf.variable(tf.zeros([2])),
  });
  type Params = ReturnType<typeof params>;

  const forward = (p: Params, x: tf.Tensor4D): tf.Tensor4D => {
    const h = tf.add(tf.conv2d(x, p.w1 as tf.Tensor4D, 1, 'same'), p.b1);
    const { mean, variance } = tf.moments(h, [0, 1, 2]);
    const bn = tf.relu(tf.batchNorm(h, mean, variance, p.beta, p.gamma, 1e-3));
    const d = tf.depthwiseConv2d(bn as tf.Tensor4D, p.wd as tf.Tensor4D, 1, 'same');
    return tf.add(tf.conv2d(d, p.w2 as tf.Tensor4D, 1, 'same'), p.b2) as tf.Tensor4D;
  };

  it('has the cpu backend\'s gradients', async () => {
    const p = params();
    const { x, labels } = toyBatch(7, 2, 12);
    const gradsOn = async (backend: string) => onBackend(backend, () => tf.tidy(() => {
      const { grads } = tf.variableGrads(() => losses.categoricalCrossEntropy(labels, forward(p, x)) as tf.Scalar);
      return Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, g.dataSync() as Float32Array]));
    }));
    const cpu = await gradsOn('cpu');
    const wasm = await gradsOn('wasm');
    for (const name of Object.keys(cpu)) expectClose(wasm[name], cpu[name], GRAD_TOL, `grad of ${name}`);
    tf.dispose([x, labels, ...Object.values(p)]);
  });

  it('trains with optimizer.minimize on wasm: the loss falls, no tensor leaks', async () => {
    await tf.setBackend('wasm');
    const p = params();
    const optimizer = tf.train.adam(0.02);
    const stepLosses: number[] = [];
    const counts: number[] = [];
    for (let step = 0; step < 40; step++) {
      const { x, labels } = toyBatch(100 + step, 2, 12);
      const loss = optimizer.minimize(() => losses.dice(labels, forward(p, x)) as tf.Scalar, true)!;
      stepLosses.push(loss.dataSync()[0]);
      tf.dispose([loss, x, labels]);
      counts.push(tf.memory().numTensors);
    }
    const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
    expect(mean(stepLosses.slice(-5))).toBeLessThan(0.7 * mean(stepLosses.slice(0, 5)));
    expect(new Set(counts.slice(1)).size, `tensor counts ${counts.join(',')}`).toBe(1);
    optimizer.dispose();
    tf.dispose(Object.values(p));
  });
});

describe('a tfjs-layers Sequential', () => {
  const build = () => {
    const model = tfl.sequential();
    model.add(tfl.layers.conv2d({
      inputShape: [12, 12, 1], filters: 4, kernelSize: 3, padding: 'same', kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }),
    }));
    model.add(tfl.layers.batchNormalization());
    model.add(tfl.layers.activation({ activation: 'relu' }));
    model.add(tfl.layers.conv2d({ filters: 2, kernelSize: 1, padding: 'same', kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }));
    return model;
  };

  it('has the cpu backend\'s gradients', async () => {
    await tf.setBackend('wasm');
    const model = build();
    const { x, labels } = toyBatch(9, 2, 12);
    const gradsOn = async (backend: string) => onBackend(backend, () => tf.tidy(() => {
      const { grads } = tf.variableGrads(() =>
        losses.categoricalCrossEntropy(labels, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar);
      return Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, g.dataSync() as Float32Array]));
    }));
    const cpu = await gradsOn('cpu');
    const wasm = await gradsOn('wasm');
    expect(Object.keys(wasm).sort()).toEqual(Object.keys(cpu).sort());
    for (const name of Object.keys(cpu)) expectClose(wasm[name], cpu[name], GRAD_TOL, `grad of ${name}`);
    model.dispose();
    tf.dispose([x, labels]);
  });

  it('trains with model.fit on wasm', async () => {
    await tf.setBackend('wasm');
    const model = build();
    model.compile({ optimizer: tf.train.adam(0.03), loss: (y: tf.Tensor, logits: tf.Tensor) => losses.categoricalCrossEntropy(y, logits) });
    const { x, labels } = toyBatch(11, 16, 12);
    const y = tf.tidy(() => tf.cast(tf.oneHot(labels, 2), 'float32'));
    const history = await model.fit(x, y, { epochs: 12, batchSize: 4, verbose: 0, shuffle: false });
    const fitLosses = history.history.loss as number[];
    expect(fitLosses.every(Number.isFinite)).toBe(true);
    expect(fitLosses[fitLosses.length - 1]).toBeLessThan(0.6 * fitLosses[0]);
    model.dispose();
    tf.dispose([x, labels, y]);
  });
});

describe('tfjs-layers models compiled with the loss zoo', () => {
  /** conv → relu → 1×1 conv to `channels`, ending in `activation` (a softmax layer, or a sigmoid). */
  const build = (channels: number, activation: 'softmax' | 'sigmoid') => {
    const model = tfl.sequential();
    // Seeded initialisers: the same weights on every run, so whether the loss falls is reproducible.
    model.add(tfl.layers.conv2d({
      inputShape: [12, 12, 1], filters: 4, kernelSize: 3, padding: 'same', activation: 'relu',
      kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }),
    }));
    model.add(tfl.layers.conv2d({
      filters: channels, kernelSize: 1, padding: 'same', activation, kernelInitializer: tfl.initializers.glorotUniform({ seed: 4 }),
    }));
    return model;
  };

  it.each([
    ['a softmax-output model, Dice on its probabilities (activation: none)', 2, 'softmax',
      (y: tf.Tensor, p: tf.Tensor) => losses.dice(y, p, { activation: 'none' })],
    ['a softmax-output model, focal on its probabilities', 2, 'softmax',
      (y: tf.Tensor, p: tf.Tensor) => losses.focal(y, p, { activation: 'none', gamma: 2 })],
    ['a 1-channel sigmoid model, binary cross-entropy on its probabilities', 1, 'sigmoid',
      (y: tf.Tensor, p: tf.Tensor) => losses.binaryCrossEntropy(y, p, { activation: 'none' })],
    ['a 1-channel sigmoid model, Tversky on its probabilities', 1, 'sigmoid',
      (y: tf.Tensor, p: tf.Tensor) => losses.tversky(y, p, { activation: 'none', alpha: 0.3, beta: 0.7 })],
  ] as const)('%s: cpu gradients on wasm, and model.fit learns', async (_, channels, activation, loss) => {
    await tf.setBackend('wasm');
    const model = build(channels, activation);
    const { x, labels } = toyBatch(21, 16, 12);
    // Targets as model.fit takes them: one-hot [N,H,W,2] for the softmax model, the mask [N,H,W,1] for the sigmoid one.
    const y = tf.tidy(() => (channels === 1 ? tf.expandDims(tf.cast(labels, 'float32'), -1) : tf.cast(tf.oneHot(labels, 2), 'float32')));
    const gradsOn = async (backend: string) => onBackend(backend, () => tf.tidy(() => {
      const { grads } = tf.variableGrads(() => tf.mean(loss(y, model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar);
      return Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, g.dataSync() as Float32Array]));
    }));
    const cpu = await gradsOn('cpu');
    const wasm = await gradsOn('wasm');
    for (const name of Object.keys(cpu)) expectClose(wasm[name], cpu[name], GRAD_TOL, `grad of ${name}`);
    model.compile({ optimizer: tf.train.adam(0.03), loss: loss as never });
    const history = await model.fit(x, y, { epochs: 10, batchSize: 4, verbose: 0, shuffle: false });
    const fitLosses = history.history.loss as number[];
    expect(fitLosses.every(Number.isFinite)).toBe(true);
    expect(fitLosses[fitLosses.length - 1]).toBeLessThan(0.8 * fitLosses[0]);
    // A second fit allocates nothing new (the first made Adam's slots): the loss leaks nothing.
    const before = tf.memory().numTensors;
    await model.fit(x, y, { epochs: 1, batchSize: 4, verbose: 0 });
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
    tf.dispose([x, labels, y]);
  });
});
