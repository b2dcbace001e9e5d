/**
 * FusedAdam (src/ops/fused_adam.ts): every variable updated in one wasm kernel call, bit for bit
 * what tf.train.adam computes, on the wasm backend and (delegating) on cpu; as a tfjs Optimizer
 * (minimize, a tfjs-layers model's compile and fit), with tf.train.adam's weights and a config.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tfl from '@tensorflow/tfjs-layers';
import { FusedAdam, fusedAdam } from '../src/ops/fused_adam.js';
import { useWasm } from './helpers/wasm.js';
import { mulberry32 } from './helpers/random.js';

beforeAll(async () => { await useWasm('simd'); });

/** Runs `steps` updates of three variables with deterministic pseudo-gradients; returns their values. */
function train(optimizer: { applyGradients(g: tf.NamedTensorMap): void; dispose(): void }, steps: number): Float32Array[] {
  const rng = mulberry32(3);
  // In tidy: the variables outlive it, their initial-value tensors do not.
  const vars = tf.tidy(() => [[3, 3, 1, 4], [4], [1, 1, 4, 2]].map((shape) =>
    tf.variable(tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng() - 0.5), shape))));
  for (let s = 0; s < steps; s++) {
    const grads = Object.fromEntries(vars.map((v) => [v.name, tf.tensor(Float32Array.from({ length: v.size }, () => 2 * rng() - 1), v.shape)]));
    optimizer.applyGradients(grads);
    tf.dispose(Object.values(grads));
  }
  const values = vars.map((v) => v.dataSync().slice() as Float32Array);
  optimizer.dispose();
  tf.dispose(vars);
  return values;
}

describe('FusedAdam', () => {
  it.each(['wasm', 'cpu'])('on %s matches tf.train.adam bit for bit over 25 steps, leaking nothing', async (backend) => {
    await tf.setBackend(backend);
    const before = tf.memory().numTensors;
    const expected = train(tf.train.adam(0.01, 0.9, 0.999, 1e-8) as never, 25);
    const actual = train(new FusedAdam(0.01, 0.9, 0.999, 1e-8), 25);
    expect(tf.memory().numTensors).toBe(before);
    actual.forEach((values, i) => expect(Array.from(values), `variable ${i}`).toEqual(Array.from(expected[i])));
  });

  it('runs one kernel per step on wasm', async () => {
    await tf.setBackend('wasm');
    const optimizer = new FusedAdam(0.01, 0.9, 0.999, 1e-8);
    const v = tf.variable(tf.ones([5]));
    const g = tf.fill([5], 0.5);
    optimizer.applyGradients({ [v.name]: g });
    const profile = await tf.profile(() => optimizer.applyGradients({ [v.name]: g }));
    expect(profile.kernelNames).toEqual(['SeglossAdamUpdate']);
    optimizer.dispose();
    tf.dispose([v, g]);
  });

  it('is a tfjs Optimizer: minimize, and a tfjs-layers model\'s compile and fit, as tf.train.adam to the bit', async () => {
    await tf.setBackend('wasm');
    const x = tf.randomUniform([16, 6], -1, 1, 'float32', 1);
    const y = tf.randomUniform([16, 2], -1, 1, 'float32', 2);
    const fitWith = async (optimizer: tf.Optimizer) => {
      const model = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [6], units: 8, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) }),
        tfl.layers.dense({ units: 2, kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) })] });
      model.compile({ optimizer, loss: 'meanSquaredError' });
      const history = await model.fit(x, y, { epochs: 6, batchSize: 8, shuffle: false, verbose: 0 });
      const weights = model.getWeights().map((w) => Array.from(w.dataSync()));
      model.dispose();
      optimizer.dispose();
      return { loss: history.history.loss, weights };
    };
    const stock = await fitWith(tf.train.adam(0.01));
    // Counted after a first fit: tfjs-layers keeps a cache of scalars.
    const before = tf.memory().numTensors;
    const fused = await fitWith(fusedAdam(0.01));
    expect(fused).toEqual(stock);
    expect(fused.loss.at(-1)!).toBeLessThan(fused.loss[0] as number);
    // minimize: the cost it returns, and the variable moved as tf.train.adam moves its twin.
    const [v, twin] = tf.tidy(() => [tf.variable(tf.tensor1d([1, -2, 3])), tf.variable(tf.tensor1d([1, -2, 3]))]);
    const a = fusedAdam(0.1);
    const b = tf.train.adam(0.1);
    const cost = a.minimize(() => tf.sum(tf.square(v)), true)!;
    b.minimize(() => tf.sum(tf.square(twin)));
    expect(cost.dataSync()[0]).toBe(14);
    expect(a.iterations).toBe(1);
    expect(Array.from(v.dataSync())).toEqual(Array.from(twin.dataSync()));
    expect(Math.abs(v.dataSync()[0] - 0.9)).toBeLessThan(1e-5);
    tf.dispose([cost, v, twin]);
    a.dispose();
    b.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, y]);
  });

  it('saves and restores tf.train.adam\'s weights: a restored optimizer continues bit for bit; its config round-trips', async () => {
    await tf.setBackend('wasm');
    const rng = mulberry32(9);
    const grads = Array.from({ length: 12 }, () => Float32Array.from({ length: 4 }, () => rng() - 0.5));
    const run = async (restoreAt: number | null) => {
      const v = tf.variable(tf.tensor1d([0.5, -0.5, 1, 2]), true, `fa_restore_${restoreAt}`);
      let optimizer = new FusedAdam(0.05, 0.8, 0.95, 1e-6);
      for (let s = 0; s < grads.length; s++) {
        if (s === restoreAt) {
          const saved = await optimizer.getWeights();
          expect(saved.map((w) => w.name)).toEqual(['iter', `${v.name}/m`, `${v.name}/v`]);
          const copy = saved.map((w) => ({ name: w.name, tensor: w.tensor.clone() }));
          optimizer.dispose();
          optimizer = FusedAdam.fromConfig(FusedAdam, optimizer.getConfig()) as FusedAdam;
          await optimizer.setWeights(copy);
          tf.dispose(copy.map((w) => w.tensor));
        }
        tf.tidy(() => optimizer.applyGradients([{ name: v.name, tensor: tf.tensor1d(grads[s]) }]));
      }
      const out = Array.from(v.dataSync());
      optimizer.dispose();
      v.dispose();
      return out;
    };
    expect(await run(7)).toEqual(await run(null));
    expect(tf.serialization.SerializationMap.getMap().classNameMap.SeglossFusedAdam).toBeDefined();
  });
});
