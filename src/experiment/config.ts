/**
 * One training run of the study: its configuration, validated with zod. Every default is the
 * seed's published setting (DESIGN.md §4), so `parseRunConfig({})` is the seed's first run.
 */
import { z } from 'zod';
import type { LossName } from '../losses/types.js';
import { lossKeySchema, type LossKey } from './losses.js';

const adam = z.object({
  name: z.literal('adam'),
  learningRate: z.number().positive().finite().default(1e-3),
  beta1: z.number().min(0).lt(1).default(0.9),
  beta2: z.number().min(0).lt(1).default(0.999),
  epsilon: z.number().positive().finite().default(1e-8),
});

const sgd = z.object({
  name: z.literal('sgd'),
  learningRate: z.number().positive().finite().default(1e-3),
  /** 0 is the seed's plain SGD; > 0 is classical momentum. */
  momentum: z.number().min(0).lt(1).default(0),
});

export const runConfigSchema = z.object({
  /** Images are imageSize × imageSize × 1, uniform in [0, 1), fresh every step. */
  imageSize: z.number().int().min(4).max(512).default(32),
  batchSize: z.number().int().min(1).max(256).default(2),
  /** 3×3 'same' convolutions before the 1×1 head. */
  nConv: z.number().int().min(1).max(8).default(2),
  filters: z.number().int().min(1).max(64).default(4),
  /** Batch norm after each 3×3 conv (then no conv bias): batch statistics in training, moving averages at evaluation. */
  batchNorm: z.boolean().default(false),
  optimizer: z.discriminatedUnion('name', [adam, sgd]).default({ name: 'adam', learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 }),
  /**
   * The loss the update minimises: a seed loss, or a zoo loss by name or with its options
   * (`{ name: 'tversky', alpha: 0.3, beta: 0.7 }`); stored as its key (src/experiment/losses.ts).
   */
  trainLoss: lossKeySchema.default('cce'),
  /** The losses whose value and gradient norm are logged every step (the training loss is always one). */
  loggedLosses: z.array(lossKeySchema).min(1).default(['cce', 'dicefg', 'dice']),
  /** Fraction of foreground pixels: a pixel is foreground where x > 1 − foreground (the seed's t). */
  foreground: z.number().gt(0).lt(1).default(0.95),
  /**
   * x → 1 − x after labelling (issue #15's puzzle): the labels stay, the foreground now sits at
   * low intensities (x < foreground) and the background at high ones.
   */
  invertInput: z.boolean().default(false),
  /** Training steps; the seed ran 10,001 (steps 0 … 10,000). */
  steps: z.number().int().min(1).max(10_000_000).default(10_001),
  /** Pixel accuracy (and per-class Dice, IoU) on the validation set every this many steps. */
  evalEvery: z.number().int().min(1).default(250),
  validationImages: z.number().int().min(1).max(10_000).default(100),
  /** Seeds the initial weights, the training batches and the validation set. */
  seed: z.number().int().min(0).max(2 ** 32 - 1).default(0),
}).strict().transform((c) => ({
  ...c,
  loggedLosses: c.loggedLosses.includes(c.trainLoss) ? c.loggedLosses : [...c.loggedLosses, c.trainLoss],
}));

export type RunConfigInput = z.input<typeof runConfigSchema>;
export type RunConfig = z.output<typeof runConfigSchema>;

/** A validation failure: the message names every offending field and what was wrong with it. */
export class ConfigError extends Error {
  constructor(readonly issues: { path: string; message: string }[]) {
    super(`invalid run config: ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`);
    this.name = 'ConfigError';
  }
}

/** Validates a run config and fills in the seed's defaults. Throws ConfigError naming the fields. */
export function parseRunConfig(input: unknown): RunConfig {
  const result = runConfigSchema.safeParse(input ?? {});
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })));
  }
  return result.data;
}

/**
 * The seed's run id: `adam-bn0-95fg-dicefg-run0` (run = the seed, counted per grid cell), with
 * `-inv` after the foreground for inverted inputs (`adam-bn0-95fg-inv-dicefg-run0`).
 */
export function runId(config: RunConfig, run: number): string {
  const fg = Math.round(config.foreground * 100);
  return `${config.optimizer.name}-bn${config.batchNorm ? 1 : 0}-${fg}fg${config.invertInput ? '-inv' : ''}-${config.trainLoss}-run${run}`;
}

export type { LossName, LossKey };
