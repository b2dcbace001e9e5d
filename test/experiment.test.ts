/**
 * The seed experiment (src/experiment): config validation and defaults, the PRNG and toy data,
 * the ConvNet's parameter counts, presets, determinism, divergence, and no tensor leaks.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, parseRunConfig, runId, type RunConfigInput } from '../src/experiment/config.js';
import { makeBatchValues } from '../src/experiment/data.js';
import { ConvNet } from '../src/experiment/model.js';
import { expandPreset, presets } from '../src/experiment/presets.js';
import { Random } from '../src/experiment/random.js';
import { trainRun, type StepLog } from '../src/experiment/train.js';
import { useWasm } from './helpers/wasm.js';

beforeAll(async () => { await useWasm('simd'); });

function runAll(input: RunConfigInput): { rows: StepLog[]; outcome: ReturnType<typeof trainRun> extends Generator<unknown, infer R> ? R : never } {
  const rows: StepLog[] = [];
  const it = trainRun(parseRunConfig(input));
  let next = it.next();
  while (!next.done) {
    rows.push(next.value);
    next = it.next();
  }
  return { rows, outcome: next.value };
}

describe('run config', () => {
  it('defaults to the seed\'s published settings', () => {
    expect(parseRunConfig({})).toEqual({
      imageSize: 32, batchSize: 2, nConv: 2, filters: 4, batchNorm: false,
      optimizer: { name: 'adam', learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 },
      trainLoss: 'cce', loggedLosses: ['cce', 'dicefg', 'dice'], foreground: 0.95, invertInput: false,
      steps: 10_001, evalEvery: 250, validationImages: 100, seed: 0,
    });
  });

  it('fills in an optimizer\'s defaults and always logs the training loss', () => {
    const c = parseRunConfig({ optimizer: { name: 'sgd' }, trainLoss: 'dice_square', loggedLosses: ['cce'] });
    expect(c.optimizer).toEqual({ name: 'sgd', learningRate: 1e-3, momentum: 0 });
    expect(c.loggedLosses).toEqual(['cce', 'dice_square']);
  });

  it.each([
    [{ batchSize: 0 }, 'batchSize'],
    [{ foreground: 1 }, 'foreground'],
    [{ optimizer: { name: 'rmsprop' } }, 'optimizer.name'],
    [{ optimizer: { name: 'adam', beta1: 1.5 } }, 'optimizer.beta1'],
    [{ trainLoss: 'focus' }, 'trainLoss: unknown loss "focus"'],
    [{ trainLoss: { name: 'tversky', alpha: -1 } }, 'trainLoss: tversky.alpha'],
    [{ trainLoss: { name: 'tversky', alpha: 0, beta: 0 } }, 'alpha + beta must be positive'],
    [{ trainLoss: { name: 'focal', gama: 2 } }, 'focal: Unrecognized key'],
    [{ trainLoss: { name: 'cce', gamma: 2 } }, 'the seed\'s loss cce takes no options'],
    [{ trainLoss: 'tversky-a0.5' }, 'unknown loss "tversky-a0.5"'],
    [{ loggedLosses: ['cce', 'iou'] }, 'loggedLosses.1'],
    [{ steps: 2.5 }, 'steps'],
    [{ stpes: 5 }, 'stpes'],
  ] as [unknown, string][])('rejects %j with an error naming %s', (input, field) => {
    let error: unknown;
    try { parseRunConfig(input); } catch (e) { error = e; }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain(field);
  });

  it('takes a zoo loss by name or with its options, as one key per loss (options at their defaults: the bare name)', () => {
    const key = (trainLoss: unknown) => parseRunConfig({ trainLoss }).trainLoss;
    expect(key({ name: 'tversky', alpha: 0.3, beta: 0.7 })).toBe('tversky');
    expect(key({ name: 'tversky' })).toBe('tversky');
    expect(key({ name: 'tversky', alpha: 0.5, beta: 0.5 })).toBe('tversky-a0.5-b0.5');
    expect(key('tversky-a0.5-b0.5')).toBe('tversky-a0.5-b0.5');
    expect(key({ name: 'focal', gamma: 1 })).toBe('focal-g1');
    expect(key({ name: 'dice-ce', lambdaDice: 0.5 })).toBe('dice-ce-d0.5-c1');
    for (const name of ['generalized-dice', 'lovasz', 'dice-ce', 'focal', 'dicefg']) expect(key({ name })).toBe(name);
    // Logged too, after the seed's three.
    expect(parseRunConfig({ trainLoss: { name: 'focal', gamma: 1 } }).loggedLosses).toEqual(['cce', 'dicefg', 'dice', 'focal-g1']);
    expect(runId(parseRunConfig({ trainLoss: { name: 'tversky', alpha: 0.5, beta: 0.5 } }), 1)).toBe('adam-bn0-95fg-tversky-a0.5-b0.5-run1');
  });

  it('names runs as the seed\'s files do', () => {
    expect(runId(parseRunConfig({ trainLoss: 'dicefg' }), 0)).toBe('adam-bn0-95fg-dicefg-run0');
    expect(runId(parseRunConfig({ optimizer: { name: 'sgd' }, batchNorm: true, foreground: 0.05 }), 2)).toBe('sgd-bn1-5fg-cce-run2');
  });
});

describe('randomness and data', () => {
  it('is reproducible per seed and stream, and different across them', () => {
    const draw = (seed: number, stream: number) => Array.from({ length: 5 }, (() => {
      const r = new Random(seed, stream);
      return () => r.nextUint32();
    })());
    expect(draw(3, 1)).toEqual(draw(3, 1));
    expect(draw(3, 1)).not.toEqual(draw(4, 1));
    expect(draw(3, 1)).not.toEqual(draw(3, 2));
  });

  it('draws uniform floats in [0, 1) with the expected mean and spread', () => {
    const values = new Random(11).fillUniform(new Float32Array(200_000));
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length;
    expect(values.every((v) => v >= 0 && v < 1)).toBe(true);
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.005);
    expect(Math.abs(variance - 1 / 12)).toBeLessThan(0.002);
  });

  it.each([0.05, 0.5, 0.95])('labels foreground where x > 1 − %s, about that fraction of pixels', (foreground) => {
    const { x, labels } = makeBatchValues(new Random(1), 50, 32, foreground);
    expect(labels.every((y, i) => y === (x[i] > 1 - foreground ? 1 : 0))).toBe(true);
    const fraction = labels.reduce((a, b) => a + b, 0) / labels.length;
    expect(Math.abs(fraction - foreground)).toBeLessThan(0.01);
  });

  it('with invertInput: the same labels, each image 1 − x exactly (the minority class at the other end of [0, 1])', () => {
    const plain = makeBatchValues(new Random(4), 20, 16, 0.05);
    const inverted = makeBatchValues(new Random(4), 20, 16, 0.05, true);
    expect(inverted.labels).toEqual(plain.labels);
    expect(inverted.x.every((v, i) => v === 1 - plain.x[i] && v > 0 && v <= 1)).toBe(true);
    // At 5% fg the foreground is bright (x > 0.95); inverted, it is dark (x < 0.05).
    const fgMean = (x: Float32Array) => x.reduce((a, v, i) => a + (plain.labels[i] ? v : 0), 0) / plain.labels.reduce((a, b) => a + b, 0);
    expect(fgMean(plain.x)).toBeGreaterThan(0.95);
    expect(fgMean(inverted.x)).toBeLessThan(0.05);
  });
});

describe('the ConvNet', () => {
  it.each([[false, 198], [true, 206]] as const)('with batch norm %s has %i trainable parameters', (batchNorm, count) => {
    const net = new ConvNet({ nConv: 2, filters: 4, batchNorm }, new Random(0));
    expect(net.parameterCount()).toBe(count);
    net.dispose();
  });

  it('initialises kernels Xavier-uniform: within ±√(6/(fan_in+fan_out)), reproducibly', () => {
    const values = (seed: number) => {
      const net = new ConvNet({ nConv: 2, filters: 4, batchNorm: false }, new Random(seed));
      const kernel = net.trainable[2].dataSync().slice(); // conv1 kernel [3,3,4,4]
      net.dispose();
      return kernel;
    };
    const limit = Math.sqrt(6 / (36 + 36));
    const k = values(5);
    expect(Math.max(...k.map(Math.abs))).toBeLessThanOrEqual(limit);
    expect(Math.max(...k.map(Math.abs))).toBeGreaterThan(0.8 * limit);
    expect(values(5)).toEqual(k);
  });
});

describe('presets', () => {
  it('seed expands to the published 108 runs with unique ids', () => {
    const runs = expandPreset(presets.seed);
    expect(runs).toHaveLength(108);
    expect(new Set(runs.map((r) => r.id)).size).toBe(108);
    expect(runs[0].id).toBe('adam-bn0-5fg-cce-run0');
    expect(runs.at(-1)!.id).toBe('sgd-bn1-95fg-dice-run2');
    expect(runs.every((r) => r.config.steps === 10_001 && r.config.batchSize === 2)).toBe(true);
  });

  it('seed-draft has five losses, batch 5, Adam, no BN, five foreground fractions, 5 runs', () => {
    const runs = expandPreset(presets['seed-draft']);
    expect(runs).toHaveLength(125);
    expect(runs.every((r) => r.config.batchSize === 5 && !r.config.batchNorm && r.config.optimizer.name === 'adam'
      && r.config.loggedLosses.length === 5)).toBe(true);
    expect([...new Set(runs.map((r) => r.config.foreground))]).toEqual([0.05, 0.1, 0.5, 0.9, 0.95]);
  });

  it('quick is 95% fg, Adam, BN off and on, the three losses, one run; overrides apply', () => {
    const runs = expandPreset(presets.quick, { steps: 11 });
    expect(runs.map((r) => r.id)).toEqual([
      'adam-bn0-95fg-cce-run0', 'adam-bn0-95fg-dicefg-run0', 'adam-bn0-95fg-dice-run0',
      'adam-bn1-95fg-cce-run0', 'adam-bn1-95fg-dicefg-run0', 'adam-bn1-95fg-dice-run0',
    ]);
    expect(runs.every((r) => r.config.steps === 11)).toBe(true);
  });

  it('losses is 95% fg, Adam, BN off and on, eight training losses × 3 runs of 10,001 steps, each logging the seed\'s three and its own', () => {
    const runs = expandPreset(presets.losses);
    expect(runs).toHaveLength(48);
    expect(new Set(runs.map((r) => r.id)).size).toBe(48);
    expect([...new Set(runs.map((r) => r.config.trainLoss))]).toEqual(['cce', 'dice', 'dicefg', 'generalized-dice', 'tversky', 'focal', 'dice-ce', 'lovasz']);
    expect(runs.find((r) => r.config.trainLoss === 'tversky')!.id).toBe('adam-bn0-95fg-tversky-run0');
    for (const r of runs) {
      expect(r.config.loggedLosses).toEqual([...new Set(['cce', 'dicefg', 'dice', r.config.trainLoss])]);
      expect(r.config.foreground === 0.95 && r.config.steps === 10_001 && r.config.optimizer.name === 'adam').toBe(true);
    }
  });

  it('puzzle is {5, 95}% fg × inputs {as drawn, inverted} × {cce, dice} × 3 runs, Adam, no BN, 10,001 steps, readable ids', () => {
    const runs = expandPreset(presets.puzzle);
    expect(runs).toHaveLength(24);
    expect(new Set(runs.map((r) => r.id)).size).toBe(24);
    expect(runs.slice(0, 6).map((r) => r.id)).toEqual([
      'adam-bn0-5fg-cce-run0', 'adam-bn0-5fg-cce-run1', 'adam-bn0-5fg-cce-run2',
      'adam-bn0-5fg-dice-run0', 'adam-bn0-5fg-dice-run1', 'adam-bn0-5fg-dice-run2',
    ]);
    expect(runs[6].id).toBe('adam-bn0-5fg-inv-cce-run0');
    expect(runs.every((r) => r.config.steps === 10_001 && !r.config.batchNorm && r.config.optimizer.name === 'adam')).toBe(true);
    expect(runs.filter((r) => r.config.invertInput)).toHaveLength(12);
  });
});

describe('a training run', () => {
  it('logs every logged loss and its gradient norm every step, evaluations every evalEvery steps', () => {
    const { rows, outcome } = runAll({ steps: 12, evalEvery: 5, batchNorm: true, validationImages: 4 });
    expect(outcome).toEqual({ status: 'completed', steps: 12, parameters: 206 });
    expect(rows.map((r) => r.step)).toEqual([...Array(12).keys()]);
    for (const row of rows) {
      expect(Object.keys(row.losses).sort()).toEqual(['cce', 'dice', 'dicefg']);
      for (const name of ['cce', 'dice', 'dicefg'] as const) {
        expect(row.losses[name]).toBeGreaterThan(0);
        expect(row.gradNorms[name]).toBeGreaterThan(0);
      }
    }
    expect(rows.filter((r) => r.eval).map((r) => r.step)).toEqual([0, 5, 10, 11]);
    const e = rows[0].eval!;
    expect(e.accuracy).toBeGreaterThanOrEqual(0);
    expect(e.accuracy).toBeLessThanOrEqual(1);
    expect(e.dice).toHaveLength(2);
    expect(e.iou.every((v, c) => v <= e.dice[c] + 1e-12)).toBe(true); // IoU ≤ Dice always
  });

  it.each(['generalized-dice', 'tversky', 'focal', 'dice-ce', 'lovasz'])('trains with the zoo\'s %s: logs it beside the seed\'s three, its loss falls', (trainLoss) => {
    const { rows, outcome } = runAll({ steps: 60, evalEvery: 30, trainLoss, validationImages: 4, optimizer: { name: 'adam', learningRate: 0.01 } });
    expect(outcome.status).toBe('completed');
    for (const row of rows) {
      expect(Object.keys(row.losses)).toEqual(['cce', 'dicefg', 'dice', trainLoss]);
      expect(Object.values(row.losses).every(Number.isFinite)).toBe(true);
      expect(row.gradNorms[trainLoss]).toBeGreaterThan(0);
    }
    const mean = (rs: typeof rows) => rs.reduce((a, r) => a + r.losses[trainLoss]!, 0) / rs.length;
    expect(mean(rows.slice(-10))).toBeLessThan(mean(rows.slice(0, 10)));
  });

  it('is bit-identical for the same config and seed, and differs for another seed', () => {
    const config = { steps: 25, evalEvery: 10, batchNorm: true, trainLoss: 'dicefg' as const, validationImages: 8 };
    const a = runAll({ ...config, seed: 7 }).rows;
    const b = runAll({ ...config, seed: 7 }).rows;
    expect(b).toEqual(a);
    expect(runAll({ ...config, seed: 8 }).rows).not.toEqual(a);
  });

  it('ends as diverged at the step whose loss is not finite, without crashing or leaking', () => {
    const before = tf.memory().numTensors;
    const { rows, outcome } = runAll({ steps: 200, optimizer: { name: 'sgd', learningRate: 1e30 }, trainLoss: 'cce' });
    expect(outcome.status).toBe('diverged');
    expect(outcome.divergedAt).toBe(rows.at(-1)!.step);
    expect(outcome.steps).toBe(rows.length);
    expect(Object.values(rows.at(-1)!.losses).some((v) => !Number.isFinite(v))).toBe(true);
    expect(rows.slice(0, -1).every((r) => Object.values(r.losses).every(Number.isFinite))).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('keeps tf.memory().numTensors flat over 500 steps and releases everything at the end', () => {
    const before = tf.memory().numTensors;
    const counts: number[] = [];
    for (const _ of trainRun(parseRunConfig({ steps: 500, evalEvery: 50, batchNorm: true, validationImages: 4 }))) {
      counts.push(tf.memory().numTensors);
    }
    expect(new Set(counts).size, `tensor counts from ${Math.min(...counts)} to ${Math.max(...counts)}`).toBe(1);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('the seed\'s observation', () => {
  // Adam without batch norm at 95% foreground: DICEFG falls into the trivial all-foreground
  // solution (accuracy = the foreground fraction, dicefg ≈ 0.026, dice ≈ 0.51: DESIGN.md §3),
  // CCE converges. 1,501 steps show it; scripts/seed-check.ts runs longer, over several seeds.
  it('DICEFG sticks at all-foreground where CCE converges', () => {
    const final = (trainLoss: 'dicefg' | 'cce') => {
      const { rows } = runAll({ trainLoss, steps: 1501, evalEvery: 500, seed: 0 });
      return { losses: rows.at(-1)!.losses, eval: rows.at(-1)!.eval! };
    };
    const stuck = final('dicefg');
    expect(stuck.eval.accuracy).toBeCloseTo(0.95, 2);
    expect(stuck.eval.dice[0]).toBeLessThan(0.05); // background is (almost) never predicted
    expect(stuck.losses.dicefg!).toBeCloseTo(0.026, 1);
    expect(stuck.losses.dice!).toBeCloseTo(0.51, 1);
    const converged = final('cce');
    expect(converged.eval.accuracy).toBeGreaterThan(0.97);
    expect(converged.eval.dice[0]).toBeGreaterThan(0.6);
  });
});
