/**
 * One training run of the study: its configuration, validated with zod. Every default is the
 * seed's published setting (DESIGN.md §4), so `parseRunConfig({})` is the seed's first run.
 */
import { z } from 'zod';
import { folderReadingFields } from '../data/options.js';
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

/** The seed's net (the default): its parameters are the top-level imageSize, nConv, filters, batchNorm. */
const seedModel = z.object({ name: z.literal('seed') }).strict();

/** A U-Net of segloss/models (unet2d on images, unet3d on volumes): channels per level, batch norm after each 3×3 conv. */
const unetFields = {
  filters: z.array(z.number().int().min(1).max(512)).min(1).max(6).default([16, 32, 64, 128]),
  batchNorm: z.boolean().default(true),
};
const unet2dModel = z.object({ name: z.literal('unet2d'), ...unetFields }).strict();
const unet3dModel = z.object({ name: z.literal('unet3d'), ...unetFields }).strict();

/** The seed's data (the default): uniform noise thresholded at 1 − foreground. */
const toyData = z.object({ name: z.literal('toy') }).strict();

/**
 * segloss/models' synthetic shapes (syntheticSegmentation): size² images (size³ volumes for a
 * unet3d), a foreground fraction, fixed training and validation sets. Above 0.5 foreground the
 * shapes cover 1 − foreground and are labelled background (the seed's 95 % fg on shapes).
 */
const syntheticData = z.object({
  name: z.literal('synthetic'),
  size: z.number().int().min(8).max(1024).default(64),
  foreground: z.number().min(0.005).max(0.995).default(0.05),
  trainImages: z.number().int().min(1).max(100_000).default(64),
  valImages: z.number().int().min(1).max(10_000).default(8),
}).strict();

/**
 * Your own two-class data (segloss/data): a folder of images and masks (2D for a unet2d) or
 * volumes (3D for a unet3d), read as `segloss train --data` reads it. `size` is the image side
 * (2D, default 128) or the patch side (3D, default 64). `foreground` is the data's foreground
 * fraction, which the report's verdicts and ranking need: `segloss sweep` measures it when it
 * plans (with the data check) and records it with the folder's fingerprint in sweep.json.
 */
const folderData = z.object({
  name: z.literal('folder'),
  ...folderReadingFields,
  size: z.number().int().min(8).max(1024).optional(),
  foreground: z.number().gt(0).lt(1).optional(),
  /** Per run (two workers hold two caches). */
  cacheMB: z.number().min(0).default(256),
}).strict();

const UNETS = new Set(['unet2d', 'unet3d']);

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
  /**
   * The network: the seed's (default) or `{ name: 'unet2d', filters, batchNorm }`. U-Net runs
   * train on tfjs ops (segloss/models) beside the lockstep engine's seed-net runs.
   */
  model: z.discriminatedUnion('name', [seedModel, unet2dModel, unet3dModel]).optional(),
  /**
   * The data: the seed's toy images (the seed net's default), `{ name: 'synthetic', size,
   * foreground, trainImages, valImages }` (a U-Net's default, each field at its default) or
   * `{ name: 'folder', path, size, … }` (your own, two classes).
   */
  data: z.discriminatedUnion('name', [toyData, syntheticData, folderData]).optional(),
  /**
   * A U-Net run's gradient norms: the training loss's every step (from its update, free); every
   * other logged loss's every this many steps, each a forward and backward pass of its own (default:
   * evalEvery; 0: none). The seed net's engine logs every norm every step from one pass.
   */
  gradNormEvery: z.number().int().min(0).optional(),
}).strict().transform((c) => (UNETS.has(c.model?.name ?? '') && c.data == null ? { ...c, data: syntheticData.parse({ name: 'synthetic' }) } : c)).superRefine((c, context) => {
  const model = c.model?.name ?? 'seed';
  const unet = UNETS.has(model);
  const data = c.data?.name ?? 'toy';
  if (unet && data === 'toy') {
    context.addIssue({ code: 'custom', path: ['data'], message: `a ${model} run needs data { name: 'synthetic', size, foreground, … } or { name: 'folder', path, … } (the toy data is the seed net's)` });
  }
  if (!unet && data !== 'toy') {
    context.addIssue({ code: 'custom', path: ['model'], message: `${data} data trains a U-Net: model { name: 'unet2d' | 'unet3d', filters, batchNorm }` });
  }
  if (!unet && c.gradNormEvery != null) {
    context.addIssue({ code: 'custom', path: ['gradNormEvery'], message: 'is a U-Net run\'s: the seed net logs every gradient norm every step' });
  }
  if (unet && c.model && c.model.name !== 'seed' && c.data && c.data.name !== 'toy') {
    const scale = 2 ** (c.model.filters.length - 1);
    const size = dataSize(c.model.name, c.data);
    if (size % scale !== 0) {
      context.addIssue({ code: 'custom', path: ['data', 'size'], message: `${size} is not divisible by 2^${c.model.filters.length - 1} = ${scale} for the ${c.model.filters.length} levels of model.filters` });
    }
  }
}).transform((c) => ({
  ...c,
  loggedLosses: c.loggedLosses.includes(c.trainLoss) ? c.loggedLosses : [...c.loggedLosses, c.trainLoss],
  // The defaults spelled out are the defaults left out: a config names the same run either way.
  model: c.model?.name === 'seed' ? undefined : c.model,
  data: c.data?.name === 'toy' ? undefined : c.data,
  // A U-Net run's batch norm and foreground are its model's and data's: the report, the verdicts
  // and summary.csv read them where they read the seed net's.
  ...(c.model && c.model.name !== 'seed' ? { batchNorm: c.model.batchNorm } : {}),
  ...(c.data && c.data.name !== 'toy' && c.data.foreground != null ? { foreground: c.data.foreground } : {}),
}));

/** The side of a U-Net run's images (2D) or patches (3D): data.size, else 128 for a folder's 2D images and 64 for its 3D patches. */
function dataSize(model: 'unet2d' | 'unet3d', data: { name: 'synthetic' | 'folder'; size?: number }): number {
  return data.size ?? (model === 'unet3d' ? 64 : 128);
}

/** The seed net's fields, with their defaults: a U-Net run leaves them at these (its own are model.*, data.*). */
const SEED_NET_FIELDS: Record<string, unknown> = { imageSize: 32, nConv: 2, filters: 4, validationImages: 100, invertInput: false };

/** The fields of the seed's net or data that a U-Net run was given (other than their defaults, or its own model's and data's values). */
function seedFieldsOfUNet(input: Record<string, unknown>): { path: string; message: string }[] {
  const model = input.model as { name?: unknown; batchNorm?: unknown } | undefined;
  const data = input.data as { name?: unknown; foreground?: unknown } | undefined;
  if (!model || !UNETS.has(String(model.name))) return [];
  const own: Record<string, { value: unknown; instead: string }> = {
    ...Object.fromEntries(Object.entries(SEED_NET_FIELDS).map(([k, v]) => [k, { value: v, instead: k === 'imageSize' ? 'data.size' : k === 'filters' ? 'model.filters' : k === 'validationImages' ? 'data.valImages' : '' }])),
    batchNorm: { value: model.batchNorm ?? true, instead: 'model.batchNorm' },
    foreground: { value: data?.foreground ?? (data?.name === 'folder' ? 0.95 : 0.05), instead: 'data.foreground' },
  };
  return Object.entries(own).filter(([k, { value }]) => k in input && JSON.stringify(input[k]) !== JSON.stringify(value))
    .map(([k, { instead }]) => ({ path: k, message: `is the seed net's${instead ? `; a U-Net run's is ${instead}` : ', not a U-Net\'s'}` }));
}

/** A run config as written: every field optional (parseRunConfig fills in the seed's defaults). */
export type RunConfigInput = z.input<typeof runConfigSchema>;
/** A validated run config, every default filled in (what parseRunConfig returns). */
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
  const stray = input && typeof input === 'object' ? seedFieldsOfUNet(input as Record<string, unknown>) : [];
  if (stray.length > 0) throw new ConfigError(stray);
  const result = runConfigSchema.safeParse(input ?? {});
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })));
  }
  return result.data;
}

/** A U-Net run's model and data, or null for the seed net's. */
function unetOf(config: RunConfig) {
  const { model, data } = config;
  // After parsing, a model is a U-Net's and data a U-Net's (the seed's defaults are left out).
  if (!model || !data) return null;
  const size = dataSize(model.name, data);
  // A folder is named by its last part, in characters a file name keeps (the whole path is in the config).
  const source = data.name === 'synthetic' ? 'syn' : (data.path.replace(/[\\/]+$/, '').split(/[\\/]/).pop() || 'data').replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._-]+/, '') || 'data';
  return { model, data, size, source, power: model.name === 'unet3d' ? '³' : '²' };
}

/**
 * The seed's run id: `adam-bn0-95fg-dicefg-run0` (run = the seed, counted per grid cell), with
 * `-inv` after the foreground for inverted inputs (`adam-bn0-95fg-inv-dicefg-run0`). A U-Net run
 * starts with its model and data — `unet2d-f16.32.64.128-bn1-syn64-adam-5fg-dice-ce-run0` on
 * synthetic data, `unet3d-f8.16.32-bn1-Task02_Heart64-adam-1fg-dice-run0` on a folder (its last
 * path part, then the patch side; the foreground fraction is the one measured when the sweep planned).
 */
export function runId(config: RunConfig, run: number): string {
  const unet = unetOf(config);
  if (unet) {
    const fg = unet.data.foreground == null ? 'x' : +(unet.data.foreground * 100).toFixed(2);
    return `${unet.model.name}-f${unet.model.filters.join('.')}-bn${unet.model.batchNorm ? 1 : 0}-${unet.source}${unet.size}-${config.optimizer.name}-${fg}fg-${config.trainLoss}-run${run}`;
  }
  const fg = Math.round(config.foreground * 100);
  return `${config.optimizer.name}-bn${config.batchNorm ? 1 : 0}-${fg}fg${config.invertInput ? '-inv' : ''}-${config.trainLoss}-run${run}`;
}

/**
 * The network and data a run trains, as a short label: '' for the seed's net on its toy data,
 * `unet2d-f16.32.64.128-syn64` for a U-Net (what report cells and figures keep apart).
 */
export function architectureOf(config: RunConfig): string {
  const unet = unetOf(config);
  if (!unet) return '';
  return `${unet.model.name}-f${unet.model.filters.join('.')}-${unet.source}${unet.size}`;
}

/** The same, as a reader reads it: 'unet2d [16, 32, 64, 128], synthetic 64²' ('' for the seed's net). */
export function architectureTitle(config: RunConfig): string {
  const unet = unetOf(config);
  if (!unet) return '';
  const data = unet.data.name === 'folder' ? `${unet.data.path} at ${unet.size}${unet.power}` : `synthetic ${unet.size}${unet.power}`;
  return `${unet.model.name} [${unet.model.filters.join(', ')}], ${data}`;
}

export type { LossName, LossKey };
