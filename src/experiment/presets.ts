/**
 * The study's grids as presets: each is a base config, the axes it varies, and the number of runs
 * (seeds) per cell. `expandPreset` turns one into runs with stable ids (`adam-bn0-95fg-dicefg-run0`).
 */
import { LOSS_NAMES } from '../losses/types.js';
import { parseRunConfig, runId, type RunConfig, type RunConfigInput } from './config.js';

/** A grid of runs: a base config, the axes it varies, and the runs (seeds) per cell. */
export interface Preset {
  name: string;
  description: string;
  base: RunConfigInput;
  /** Axis name → values; every combination is one grid cell. */
  grid: Partial<{ [K in keyof RunConfigInput]: RunConfigInput[K][] }>;
  /** Runs per cell; run r uses seed r. */
  runs: number;
}

/** One run of an expanded preset: its run id and its validated config. */
export interface PlannedRun {
  id: string;
  config: RunConfig;
}

const ADAM = { name: 'adam' as const };
const SGD = { name: 'sgd' as const };

/** The `unet` preset's data at a foreground fraction: 64² synthetic shapes, 64 training and 8 validation images. */
const unetData = (foreground: number) => ({ name: 'synthetic' as const, size: 64, foreground, trainImages: 64, valImages: 8 });

/** The study's grids by name: the seed's grid and draft, quick, puzzle, losses, and two U-Net grids. */
export const presets: Record<'seed' | 'seed-draft' | 'quick' | 'puzzle' | 'losses' | 'unet' | 'unet-seed', Preset> = {
  seed: {
    name: 'seed',
    description: 'The published grid: {Adam, SGD} × BN {off, on} × {5, 50, 95}% fg × train loss {cce, dicefg, dice} × 3 runs = 108 trainings of 10,001 steps.',
    base: { loggedLosses: ['cce', 'dicefg', 'dice'] },
    grid: {
      optimizer: [ADAM, SGD],
      batchNorm: [false, true],
      foreground: [0.05, 0.5, 0.95],
      trainLoss: ['cce', 'dicefg', 'dice'],
    },
    runs: 3,
  },
  'seed-draft': {
    name: 'seed-draft',
    description: 'The earlier draft: five losses, batch 5, Adam, no BN, 5/10/50/90/95% fg, 5 runs = 125 trainings.',
    base: { batchSize: 5, optimizer: ADAM, batchNorm: false, loggedLosses: [...LOSS_NAMES] },
    grid: { foreground: [0.05, 0.1, 0.5, 0.9, 0.95], trainLoss: [...LOSS_NAMES] },
    runs: 5,
  },
  quick: {
    name: 'quick',
    description: 'The headline effect in well under a minute on 2 cores: 95% fg, Adam, BN off and on, the three losses, one run of 4,001 steps each (≈ 1.2–1.4 ms a step).',
    base: { foreground: 0.95, optimizer: ADAM, steps: 4001, evalEvery: 250, loggedLosses: ['cce', 'dicefg', 'dice'] },
    grid: { batchNorm: [false, true], trainLoss: ['cce', 'dicefg', 'dice'] },
    runs: 1,
  },
  puzzle: {
    name: 'puzzle',
    description: 'The seed\'s open puzzle (issue #15): are gradient norms smaller at 95% fg than at 5% because the minority class sits at low intensities? {5, 95}% fg × inputs {as drawn, inverted} × train loss {cce, dice} × 3 runs, Adam, no BN, 10,001 steps (the gap forms after ~2,000) = 24 trainings.',
    base: { optimizer: ADAM, batchNorm: false, steps: 10_001, evalEvery: 250, loggedLosses: ['cce', 'dicefg', 'dice'] },
    grid: { foreground: [0.05, 0.95], invertInput: [false, true], trainLoss: ['cce', 'dice'] },
    runs: 3,
  },
  losses: {
    name: 'losses',
    description: 'Which losses escape the trivial solution (issue #15)? 95% fg, Adam, BN off and on, train loss {cce, dice, dicefg, generalized Dice, Tversky α 0.3 β 0.7, focal γ 2, Dice + CE, Lovász-softmax} × 3 runs of 10,001 steps = 48 trainings; each logs the seed\'s three losses and its own.',
    base: { foreground: 0.95, optimizer: ADAM, steps: 10_001, evalEvery: 250, loggedLosses: ['cce', 'dicefg', 'dice'] },
    grid: {
      batchNorm: [false, true],
      trainLoss: ['cce', 'dice', 'dicefg', 'generalized-dice', { name: 'tversky', alpha: 0.3, beta: 0.7 }, { name: 'focal', gamma: 2 }, 'dice-ce', 'lovasz'],
    },
    runs: 3,
  },
  unet: {
    name: 'unet',
    description: 'The study on a U-Net (issue #22): unet2d [8, 16, 32] with BN on 64² synthetic shapes at {50, 5, 1}% fg × train loss {cce, dice, dicefg, Dice + CE, focal γ 2, '
      + 'Tversky α 0.3 β 0.7, generalized Dice, Lovász-softmax} × 3 runs of 1,200 steps, batch 4, Adam = 72 trainings, ~30 min on 2 cores '
      + '(36.6 ms a step measured on one core, 2026-12-05); each logs cce, dice, dicefg and its own loss.',
    base: {
      model: { name: 'unet2d', filters: [8, 16, 32], batchNorm: true }, optimizer: ADAM, batchSize: 4, steps: 1200, evalEvery: 200,
      loggedLosses: ['cce', 'dice', 'dicefg'],
    },
    grid: {
      data: [unetData(0.5), unetData(0.05), unetData(0.01)],
      trainLoss: ['cce', 'dice', 'dicefg', 'dice-ce', { name: 'focal', gamma: 2 }, { name: 'tversky', alpha: 0.3, beta: 0.7 }, 'generalized-dice', 'lovasz'],
    },
    runs: 3,
  },
  'unet-seed': {
    name: 'unet-seed',
    description: 'The seed\'s grid on a U-Net (issue #22): unet2d [8, 16, 32] on 64² synthetic shapes, Adam, BN off and on × {5, 50, 95}% fg '
      + '(at 95% the shapes are the background) × train loss {cce, dicefg, dice} × 3 runs of 1,200 steps, batch 4 = 54 trainings, '
      + 'every logged loss\'s gradient norm every 10 steps: the seed\'s observations checked on a U-Net.',
    base: {
      optimizer: ADAM, batchSize: 4, steps: 1200, evalEvery: 100, gradNormEvery: 10, loggedLosses: ['cce', 'dicefg', 'dice'],
    },
    grid: {
      model: [{ name: 'unet2d', filters: [8, 16, 32], batchNorm: false }, { name: 'unet2d', filters: [8, 16, 32], batchNorm: true }],
      data: [unetData(0.05), unetData(0.5), unetData(0.95)],
      trainLoss: ['cce', 'dicefg', 'dice'],
    },
    runs: 3,
  },
};

/** Every run of a preset, in a stable order (grid axes in declaration order, then run). */
export function expandPreset(preset: Preset, overrides: RunConfigInput = {}): PlannedRun[] {
  let cells: RunConfigInput[] = [{ ...preset.base, ...overrides }];
  for (const [axis, values] of Object.entries(preset.grid)) {
    cells = cells.flatMap((cell) => (values as unknown[]).map((value) => ({ ...cell, [axis]: value })));
  }
  return cells.flatMap((cell) => Array.from({ length: preset.runs }, (_, run) => {
    const config = parseRunConfig({ ...cell, seed: run });
    return { id: runId(config, run), config };
  }));
}
