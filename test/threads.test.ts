/**
 * One model's training step on several threads (src/parallel/, issue #23): the log and the
 * weights are the same bits for 1, 2 and 3 threads (2D with batch norm, 2D without, 3D), whatever
 * each thread's share of the batch; a thread that fails is an error naming it, never a hang; thread
 * counts that cannot be had fall back with a notice.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UNetTrainer, type TrainingRow, type UNetTrainingInput } from '../src/models/index.js';
import { planThreads } from '../src/parallel/plan.js';
import { SharedCollective, sharedBytes } from '../src/parallel/collective.js';
import { writeSphereCases } from './helpers/nifti.js';
import { useWasm } from './helpers/wasm.js';

const scratch = mkdtempSync(join(tmpdir(), 'segloss-threads-'));
beforeAll(async () => { await useWasm('simd'); });
afterAll(() => rmSync(scratch, { recursive: true, force: true }));


async function train(input: UNetTrainingInput, threads: number): Promise<{ rows: TrainingRow[]; weights: Float32Array[]; threads: number }> {
  const notices: string[] = [];
  const t = await UNetTrainer.open({ ...input, threads }, undefined, { onNotice: (m) => notices.push(m) });
  try {
    const rows: TrainingRow[] = [];
    while (t.step < t.options.steps) rows.push(await t.nextStep());
    return { rows, weights: t.model.getWeights().map((w) => w.dataSync() as Float32Array), threads: t.threads };
  } finally {
    t.dispose();
  }
}

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

/** The log and the weights of `input` on 2 and 3 threads are one thread's, bit for bit. */
async function expectSameBitsOnThreads(input: UNetTrainingInput): Promise<void> {
  const one = await train(input, 1);
  expect(one.threads).toBe(1);
  for (const threads of [2, 3]) {
    const many = await train(input, threads);
    expect(many.threads).toBe(threads);
    expect(many.rows).toEqual(one.rows);
    many.weights.forEach((w, k) => expect(bits(w), `weight ${k} on ${threads} threads`).toEqual(bits(one.weights[k])));
  }
}

describe('training on several threads', () => {
  const cases: [string, UNetTrainingInput][] = [
    ['2D, batch norm, Dice + CE, batch 6', { imageSize: 16, filters: [4, 8], batchSize: 6, steps: 4, trainImages: 12, validationImages: 2, evalEvery: 2, seed: 5 }],
    ['2D, no batch norm (biases), generalized Dice, batch 5', { imageSize: 16, filters: [4, 8], batchNorm: false, loss: 'generalized-dice', batchSize: 5, steps: 3, trainImages: 10, validationImages: 2, evalEvery: 2, seed: 6 }],
    ['2D, Lovász, batch 3', { imageSize: 16, filters: [4, 8], loss: 'lovasz', batchSize: 3, steps: 3, trainImages: 6, validationImages: 2, evalEvery: 2, seed: 7 }],
    ['3D synthetic volumes, no batch norm (biases), batch 3', { dims: 3, imageSize: 8, filters: [4, 8], batchNorm: false, batchSize: 3, steps: 3, trainImages: 6, validationImages: 2, evalEvery: 2, seed: 8 }],
  ];
  it.each(cases)('gives the same log and weights, bit for bit, on 1, 2 and 3 threads: %s', async (_name, input) => {
    await expectSameBitsOnThreads(input);
  }, 120_000);

  it('gives the same bits in 3D: a unet3d on NIfTI patches of a folder (batch 3, three classes)', async () => {
    const dir = join(scratch, 'volumes');
    writeSphereCases(dir);
    const input: UNetTrainingInput = { data: { path: dir, valPatches: 2, augment: { flip: true } }, imageSize: 8, filters: [4, 8], batchSize: 3, steps: 4, evalEvery: 2, seed: 4 };
    await expectSameBitsOnThreads(input);
  }, 120_000);

  it('leaks no tensors: a trainer on 2 threads, disposed, leaves none behind', async () => {
    const before = tf.memory().numTensors;
    await train(cases[0][1], 2);
    expect(tf.memory().numTensors).toBe(before);
  }, 60_000);

  it('holds its tensors and wasm memory flat over a long run on 2 threads', async () => {
    const t = await UNetTrainer.open({ ...cases[0][1], steps: 200, evalEvery: 50, threads: 2 }, undefined, { onNotice: () => {} });
    try {
      for (let i = 0; i < 20; i++) t.runStep();
      const tensors = tf.memory().numTensors;
      const bytes = tf.memory().numBytes;
      const heap = (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.length;
      while (t.step < 200) t.runStep(); // 180 steps more, 4 evaluations among them
      expect(tf.memory().numTensors).toBe(tensors);
      expect(tf.memory().numBytes).toBe(bytes);
      expect((tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.length).toBe(heap);
    } finally {
      t.dispose();
    }
  }, 120_000);
});

describe('a thread\'s last words (the shared buffer)', () => {
  it('are read by every thread, in rank order, the first word of each kept, a long one cut', () => {
    const buffer = new SharedArrayBuffer(sharedBytes(16, 3));
    const [zero, one, two] = [0, 1, 2].map((rank) => new SharedCollective(buffer, rank, 3, 3));
    expect(zero.messages()).toEqual([]);
    two.stop('thread 2: out of memory (step 7)');
    one.stop('thread 1: é — ünïcode survives');
    one.stop('thread 1: a second word, not kept');
    expect(zero.stoppedRank()).toBe(2);
    expect(zero.messages()).toEqual(['thread 1: é — ünïcode survives', 'thread 2: out of memory (step 7)']);
    const long = new SharedCollective(new SharedArrayBuffer(sharedBytes(16, 1)), 0, 1, 1);
    long.stop(`thread 0: ${'x'.repeat(2000)}`);
    const [cut] = long.messages();
    expect(cut.startsWith('thread 0: xxx')).toBe(true);
    expect(cut.endsWith(' …')).toBe(true);
    expect(new TextEncoder().encode(cut).length).toBeLessThanOrEqual(508);
  });
});

describe('planThreads', () => {
  it('defaults to the cores, at most one thread per image, silently', () => {
    expect(planThreads(undefined, { cores: 8, batch: 4, unavailable: null })).toEqual({ threads: 4, notices: [] });
    expect(planThreads(undefined, { cores: 2, batch: 4, unavailable: null })).toEqual({ threads: 2, notices: [] });
    expect(planThreads(undefined, { cores: 8, batch: 4, unavailable: "threads need X" })).toEqual({ threads: 1, notices: [] });
  });
  it('says so when it cannot give what was asked for', () => {
    const big = planThreads(6, { cores: 16, batch: 4, unavailable: null });
    expect(big.threads).toBe(4);
    expect(big.notices.join()).toMatch(/6 threads for a batch of 4: each thread takes at least one image, so 4 threads/);
    const shared = planThreads(3, { cores: 2, batch: 4, unavailable: null });
    expect(shared.threads).toBe(3);
    expect(shared.notices.join()).toMatch(/3 threads on 2 cores: they share the cores/);
    const none = planThreads(4, { cores: 8, batch: 4, unavailable: "threads need X" });
    expect(none.threads).toBe(1);
    expect(none.notices.join()).toMatch(/4 threads asked for, but threads need X: training on one thread/);
    expect(() => planThreads(0, { cores: 2, batch: 4, unavailable: null })).toThrow(/positive integer, got 0/);
  });
});

describe('the per-image reductions (one thread)', () => {
  it('give the whole-batch kernels\' loss and gradients within float32 rounding (2D with BN, and without)', async () => {
    const { unet2d } = await import('../src/models/index.js');
    const { localCollective, withCollective } = await import('../src/parallel/collective.js');
    const { dice } = await import('../src/losses/index.js');
    for (const batchNorm of [true, false]) {
      const model = unet2d({ inputShape: [16, 16, 1], classes: 2, filters: [4, 8], batchNorm, seed: 2 });
      const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
      const x = tf.randomUniform([3, 16, 16, 1], 0, 1, 'float32', 9);
      const y = tf.tidy(() => tf.cast(tf.greater(tf.squeeze(x, [3]), 0.6), 'int32'));
      const gradsOf = () => {
        const { value, grads } = tf.variableGrads(() => dice(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, variables);
        const out = [value, ...variables.map((v) => grads[v.name])].map((t) => Array.from(t.dataSync()));
        tf.dispose([value, ...Object.values(grads)]);
        return out;
      };
      const whole = gradsOf();
      const perImage = withCollective(localCollective(3), gradsOf);
      expect(perImage).not.toEqual(whole); // another order of additions: not the same bits …
      perImage.forEach((g, k) => {
        const scale = Math.max(...whole[k].map(Math.abs));
        g.forEach((v, i) => expect(Math.abs(v - whole[k][i]), `BN ${batchNorm}, ${k === 0 ? 'loss' : variables[k - 1].name}[${i}]`).toBeLessThanOrEqual(1e-5 * scale + 1e-7));
      }); // … the same values within rounding
      tf.dispose([x, y]);
      model.dispose();
    }
  });
});

describe('a thread that fails', () => {
  const input: UNetTrainingInput = { imageSize: 16, filters: [4, 8], batchSize: 4, steps: 6, trainImages: 8, validationImages: 2, evalEvery: 3, seed: 1 };
  it.each([['throws', 'throw', /thread 1: test failure at step 2 \(step 2\)/], ['exits', 'exit', /thread 1 exited \(code 3\)/]] as const)(
    'is an error naming it, not a hang, when it %s; the trainer then refuses further steps', async (_what, how, message) => {
      process.env.SEGLOSS_TEST_THREAD_FAIL = `1:2:${how}`;
      const t = await UNetTrainer.open({ ...input, threads: 2 }, undefined, { onNotice: () => {} });
      try {
        expect(t.threads).toBe(2);
        t.runStep();
        t.runStep();
        let failure: Error | null = null;
        // An exit is seen between steps (the event loop); a throw in the step it happens in.
        for (let i = 0; i < 3 && !failure; i++) {
          try {
            t.runStep();
            await new Promise((resolve) => setTimeout(resolve, 200));
          } catch (error) {
            failure = error as Error;
          }
        }
        expect(failure?.message).toMatch(/a training step on 2 threads failed/);
        expect(failure?.message).toMatch(message);
        expect(() => t.runStep()).toThrow(/a training step on 2 threads failed/);
      } finally {
        delete process.env.SEGLOSS_TEST_THREAD_FAIL;
        t.dispose();
      }
    }, 60_000);
});
