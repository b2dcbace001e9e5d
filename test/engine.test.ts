/**
 * The lockstep engine (src/engine/lanes.ts, assembly/engine/lanes.ts) against the reference path
 * (trainRun on tfjs-backend-wasm with segloss's kernels): every cell of the seed preset over 50
 * steps (losses, gradient norms, weights, moving averages), architectures off the seed's (odd
 * filter counts, one and three layers, odd image sizes, every logged loss, SGD with momentum);
 * lane independence (a run's bits whatever its group and lane); divergence; the verdicts of the
 * quick preset; the seed's finding; memory; bad groups.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseRunConfig, type RunConfig, type RunConfigInput } from '../src/experiment/config.js';
import { makeBatch } from '../src/experiment/data.js';
import { ConvNet } from '../src/experiment/model.js';
import { expandPreset, presets } from '../src/experiment/presets.js';
import { makeOptimizer, runRandoms, trainingStep, trainRun, type StepLog } from '../src/experiment/train.js';
import { LaneGroup, laneEngineSupports, parameterCount, trainLanes } from '../src/engine/lanes.js';
import { judgeRun } from '../src/report/verdict.js';
import { compareDesigns } from '../src/bench/designs.js';
import { backendMemory, useWasm, wasmBackend } from './helpers/wasm.js';

beforeAll(async () => { await useWasm('simd'); });

/** Float32 summation order is the only difference allowed: 1e-4 relative (issue #13). */
const TOLERANCE = 1e-4;

function referenceRows(config: RunConfig): StepLog[] {
  return [...trainRun(config)];
}

function laneRows(configs: readonly RunConfig[]): StepLog[][] {
  const out: StepLog[][] = configs.map(() => []);
  for (const rows of trainLanes(configs)) rows.forEach((r, j) => { if (r) out[j].push(r); });
  return out;
}

/** The reference path's net after `steps` steps of trainRun's loop: its parameters and moving averages. */
function referenceWeights(config: RunConfig, steps: number): { parameters: Float32Array; moving: Float32Array } {
  const randoms = runRandoms(config.seed);
  const net = new ConvNet(config, randoms.weights);
  const optimizer = makeOptimizer(config);
  try {
    for (let step = 0; step < steps; step++) {
      const batch = makeBatch(randoms.batches, config.batchSize, config.imageSize, config.foreground);
      trainingStep(net, optimizer, batch, config, step);
      tf.dispose([batch.x, batch.labels]);
    }
    const parameters = Float32Array.from(net.trainable.flatMap((v) => [...v.dataSync()]));
    return { parameters, moving: net.movingAverages() };
  } finally {
    optimizer.dispose();
    net.dispose();
  }
}

/** max |a − b| / max |b| over `b`'s values (0/0 = 0). */
function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return scale === 0 ? diff : diff / scale;
}

function rel(a: number, b: number): number {
  return a === b ? 0 : Math.abs(a - b) / Math.max(Math.abs(b), 1e-30);
}

/** Checks the engine's rows against the reference's, value by value, within TOLERANCE. */
function expectClose(got: StepLog[], want: StepLog[], label: string): void {
  expect(got.map((r) => r.step), label).toEqual(want.map((r) => r.step));
  for (let k = 0; k < want.length; k++) {
    for (const name of Object.keys(want[k].losses) as (keyof StepLog['losses'])[]) {
      const where = `${label} step ${k} ${name}`;
      expect(rel(got[k].losses[name]!, want[k].losses[name]!), `${where} loss ${got[k].losses[name]} vs ${want[k].losses[name]}`).toBeLessThanOrEqual(TOLERANCE);
      expect(rel(got[k].gradNorms[name]!, want[k].gradNorms[name]!), `${where} norm ${got[k].gradNorms[name]} vs ${want[k].gradNorms[name]}`).toBeLessThanOrEqual(TOLERANCE);
    }
    expect(got[k].eval == null, `${label} step ${k} has an evaluation`).toBe(want[k].eval == null);
    if (want[k].eval) {
      // argmax of logits that agree to ~1e-6: a pixel within that of a tie may flip (none does in practice).
      expect(Math.abs(got[k].eval!.accuracy - want[k].eval!.accuracy), `${label} step ${k} accuracy`).toBeLessThanOrEqual(1e-4);
    }
  }
}

describe('the lane engine agrees with trainRun on tfjs ops', () => {
  const STEPS = 50;
  const cells = expandPreset(presets.seed, { steps: STEPS, evalEvery: 25, validationImages: 10 }).filter((r) => r.config.seed === 0);

  it('covers the seed preset\'s 36 cells', () => {
    expect(cells).toHaveLength(36);
  });

  // Four runs per group, as the sweep groups them: the cells in plan order, BN off and on apart.
  const groups: RunConfig[][] = [];
  for (const bn of [false, true]) {
    const mine = cells.filter((c) => c.config.batchNorm === bn).map((c) => c.config);
    for (let i = 0; i < mine.length; i += 4) groups.push(mine.slice(i, i + 4));
  }

  it.each(groups.map((g, i) => [i, g] as const))('group %i: 50 steps of losses, gradient norms, weights and moving averages', (_, group) => {
    const lanes = laneRows(group);
    const engine = new LaneGroup(group);
    for (let s = 0; s < STEPS; s++) engine.step();
    group.forEach((config, j) => {
      const label = `${config.optimizer.name} bn${+config.batchNorm} ${config.foreground} ${config.trainLoss}`;
      expectClose(lanes[j], referenceRows(config), label);
      const want = referenceWeights(config, STEPS);
      expect(relativeError(engine.parametersOf(j), want.parameters), `${label} weights`).toBeLessThanOrEqual(TOLERANCE);
      if (config.batchNorm) {
        expect(relativeError(engine.movingAveragesOf(j), want.moving), `${label} moving averages`).toBeLessThanOrEqual(TOLERANCE);
      }
    });
  });

  it.each([
    ['one layer, 3 filters, 7×7 images, batch 3, every logged loss', { nConv: 1, filters: 3, imageSize: 7, batchSize: 3, loggedLosses: ['cce', 'dice', 'dice_square', 'dicefg', 'dicefg_square'], trainLoss: 'dice_square' }],
    ['three layers of 6 filters with batch norm, 9×9, evaluation every 7 steps', { nConv: 3, filters: 6, imageSize: 9, batchNorm: true, evalEvery: 7, trainLoss: 'dicefg_square' }],
    ['one filter, 5 validation images in batches of 2', { filters: 1, imageSize: 8, validationImages: 5, foreground: 0.5, trainLoss: 'dice' }],
    ['SGD with momentum 0.9 and a large learning rate', { optimizer: { name: 'sgd', learningRate: 0.05, momentum: 0.9 }, imageSize: 12, foreground: 0.3 }],
    ['Adam with its own betas and epsilon', { optimizer: { name: 'adam', learningRate: 3e-3, beta1: 0.8, beta2: 0.99, epsilon: 1e-6 }, imageSize: 10, batchNorm: true, trainLoss: 'dicefg' }],
  ] as [string, RunConfigInput][])('%s', (_, input) => {
    const config = parseRunConfig({ steps: 30, evalEvery: 10, validationImages: 6, ...input });
    expectClose(laneRows([config])[0], referenceRows(config), JSON.stringify(input));
    const engine = new LaneGroup([config]);
    for (let s = 0; s < 30; s++) engine.step();
    expect(engine.parameters).toBe(parameterCount(config));
    expect(engine.parameters).toBe(new ConvNet(config, runRandoms(0).weights).parameterCount());
    expect(relativeError(engine.parametersOf(0), referenceWeights(config, 30).parameters)).toBeLessThanOrEqual(TOLERANCE);
  });
});

describe('inverted inputs (invertInput, the puzzle preset)', () => {
  it('trains the puzzle\'s four foreground × inversion cells in one group as trainRun does', () => {
    const group = expandPreset(presets.puzzle, { steps: 40, evalEvery: 20, validationImages: 6 })
      .filter((r) => r.config.seed === 1 && r.config.trainLoss === 'dice').map((r) => r.config);
    expect(group.map((c) => [c.foreground, c.invertInput])).toEqual([[0.05, false], [0.05, true], [0.95, false], [0.95, true]]);
    const lanes = laneRows(group);
    group.forEach((config, j) => expectClose(lanes[j], referenceRows(config), `${config.foreground} invert ${config.invertInput}`));
    // Inverting changes the run: the same seed's losses differ from the first step's update on.
    expect(lanes[1][5].losses.cce).not.toBe(lanes[0][5].losses.cce);
  });
});

describe('lanes are independent', () => {
  const base = { steps: 40, evalEvery: 13, validationImages: 4, imageSize: 16 } satisfies RunConfigInput;
  const configs = [
    parseRunConfig({ ...base, seed: 5, trainLoss: 'dicefg' }),
    parseRunConfig({ ...base, seed: 6, trainLoss: 'cce', foreground: 0.05, optimizer: { name: 'sgd', momentum: 0.5 } }),
    parseRunConfig({ ...base, seed: 7, trainLoss: 'dice', foreground: 0.5, optimizer: { name: 'adam', learningRate: 0.01 } }),
    parseRunConfig({ ...base, seed: 8, trainLoss: 'cce', optimizer: { name: 'sgd', learningRate: 1e30 } }), // diverges
  ];

  it('gives a run the same bits alone, in any group and in any lane', () => {
    const together = laneRows(configs);
    const alone = configs.map((c) => laneRows([c])[0]);
    const reversed = laneRows([...configs].reverse()).reverse();
    const [two, zero] = laneRows([configs[2], configs[0]]);
    const [three, one] = laneRows([configs[3], configs[1]]);
    const pairs = [zero, one, two, three];
    expect(together).toEqual(alone);
    expect(reversed).toEqual(alone);
    expect(pairs).toEqual(alone);
    // And the runs do differ (the comparison is not between copies).
    expect(alone[0]).not.toEqual(alone[2]);
  });

  it('ends a diverged lane at the step trainRun does, logging that step without an evaluation, while the others go on', () => {
    const rows = laneRows(configs);
    const iterator = trainLanes(configs);
    let next = iterator.next();
    while (!next.done) next = iterator.next();
    const outcomes = next.value;
    const reference = referenceRows(configs[3]);
    expect(outcomes[3].status).toBe('diverged');
    expect(outcomes[3].divergedAt).toBe(reference.at(-1)!.step);
    expect(rows[3]).toHaveLength(reference.length);
    expect(rows[3].at(-1)!.eval).toBeUndefined();
    expect(Object.values(rows[3].at(-1)!.losses).some((v) => !Number.isFinite(v))).toBe(true);
    for (const j of [0, 1, 2]) {
      expect(outcomes[j]).toEqual({ status: 'completed', steps: 40, parameters: 198 });
      expect(rows[j]).toHaveLength(40);
    }
  });
});

describe('the study on the lane engine', () => {
  const verdictOf = (rows: StepLog[], config: RunConfig) => judgeRun(config, rows, 'completed').verdict;

  /** Every run of a plan on the lane engine, grouped as the sweep groups them (four of one BN setting). */
  function planRows(configs: RunConfig[]): Map<RunConfig, StepLog[]> {
    const out = new Map<RunConfig, StepLog[]>();
    for (const bn of [false, true]) {
      const mine = configs.filter((c) => c.batchNorm === bn);
      for (let i = 0; i < mine.length; i += 4) {
        const group = mine.slice(i, i + 4);
        laneRows(group).forEach((rows, j) => out.set(group[j], rows));
      }
    }
    return out;
  }

  it('gives the quick preset\'s verdicts of trainRun over 3 seeds (1,001 steps)', () => {
    const plan = expandPreset({ ...presets.quick, runs: 3 }, { steps: 1001, evalEvery: 250, validationImages: 20 }).map((r) => r.config);
    const lanes = planRows(plan);
    const got = plan.map((c) => `${c.batchNorm} ${c.trainLoss} ${c.seed}: ${verdictOf(lanes.get(c)!, c)}`);
    const want = plan.map((c) => `${c.batchNorm} ${c.trainLoss} ${c.seed}: ${verdictOf(referenceRows(c), c)}`);
    expect(got).toEqual(want);
    expect(new Set(got.map((l) => l.split(': ')[1])).size, 'more than one verdict').toBeGreaterThan(1);
  }, 300_000);

  it('reproduces the seed\'s finding over the quick preset: DICEFG without BN at 95% fg is stuck, CCE and Dice converge', () => {
    const plan = expandPreset(presets.quick).map((r) => r.config);
    const lanes = planRows(plan);
    const verdicts = Object.fromEntries(plan.filter((c) => !c.batchNorm).map((c) => [c.trainLoss, verdictOf(lanes.get(c)!, c)]));
    expect(verdicts).toEqual({ cce: 'converged', dicefg: 'stuck', dice: 'converged' });
  }, 300_000);
});

describe('the design benchmark compares like with like', () => {
  it.each([[1, 4], [4, 4], [4, 8]])('design 1\'s convolutions (%i → %i channels) compute the lane engine\'s', (cin, f) => {
    // Same sums, other orders and (for the filter gradient) float32 against float64 accumulation.
    expect(compareDesigns(2, 8, 12, cin, f, { timing: false }).maxRelativeDifference).toBeLessThan(1e-5);
  });
});

describe('resources and bad input', () => {
  it('keeps its memory and tfjs\'s flat over a 10,001-step run, with no tensor', () => {
    const config = parseRunConfig({ steps: 10_001, imageSize: 6, validationImages: 2, batchNorm: true });
    const tensors = tf.memory().numTensors;
    const tfjsBytes = backendMemory(wasmBackend()).buffer.byteLength;
    const group = new LaneGroup([config]);
    const bytes = group.memoryBytes();
    for (let s = 0; s < config.steps; s++) {
      group.step();
      if (s % 250 === 0) group.evaluate();
    }
    expect(group.memoryBytes()).toBe(bytes);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(backendMemory(wasmBackend()).buffer.byteLength).toBe(tfjsBytes);
    expect(Number.isFinite(group.stepLog(0, 10_000).losses.cce!)).toBe(true);
  });

  it('refuses groups it cannot train, naming why', () => {
    const a = parseRunConfig({ steps: 5 });
    expect(() => new LaneGroup([])).toThrow(/a group holds 1 to 4 runs, got 0/);
    expect(() => new LaneGroup([a, a, a, a, a])).toThrow(/got 5/);
    expect(() => new LaneGroup([a, parseRunConfig({ steps: 5, filters: 8 })])).toThrow(/run 1 of the group differs from run 0/);
    const huge = parseRunConfig({ imageSize: 512, batchSize: 256, filters: 64 });
    expect(laneEngineSupports(huge)).toBe(false);
    expect(() => new LaneGroup([huge])).toThrow(/needs \d+ bytes, more than/);
    expect(laneEngineSupports(a)).toBe(true);
  });
});
