/**
 * How your own data is read, as options (zod): `segloss train --data`'s (UNetTrainer's
 * `options.data`) and a sweep's `data: { name: 'folder', … }` share these fields. Zod only: the
 * run config imports it without the data loaders.
 */
import { z } from 'zod';

export const folderReadingFields = {
  /** The data set's folder (Node); in a browser, the files are given to UNetTrainer.open. */
  path: z.string().min(1),
  /** A manifest inside it (default: manifest.csv or manifest.json at its root, when there). */
  manifest: z.string().optional(),
  masks: z.union([z.enum(['auto', 'indices', 'binary', 'palette']), z.object({ colors: z.record(z.string(), z.number().int().min(0).max(255)) }).strict()]).default('auto'),
  /** 2D input channels (default: 3 when any image is RGB, else 1). */
  channels: z.union([z.literal(1), z.literal(3)]).optional(),
  /** Default: 'minmax' in 2D, 'zscore' in 3D. */
  normalize: z.union([z.enum(['minmax', 'zscore', 'none']), z.object({ window: z.tuple([z.number(), z.number()]) }).strict()]).optional(),
  augment: z.object({ flip: z.boolean().default(false), rotate90: z.boolean().default(false), intensity: z.number().min(0).max(1).default(0) }).strict().optional(),
  valFraction: z.number().min(0).max(0.9).default(0.2),
  positiveRatio: z.number().min(0).max(1).default(0.5),
  valPatches: z.number().int().min(1).max(256).default(4),
  /** The decoded-image cache's budget. */
  cacheMB: z.number().min(0).default(1024),
};
