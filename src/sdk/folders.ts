/**
 * Your own data in a sweep (Node): every folder a sweep's runs train on (`data: { name: 'folder',
 * path, … }`), checked once when the sweep starts, before any worker reads it:
 * - the data check (segloss/data's checkData, two classes): a folder with problems stops the sweep
 *   with every problem named, instead of failing each run alike;
 * - its foreground fraction, which a run's verdict and the ranking need, is measured there and
 *   written into the spec's data (so the plan, its ids and a merge see it);
 * - its fingerprint (every file's path and size) is recorded in sweep.json: resuming on a folder
 *   that changed since is refused, naming the folder, rather than mixing runs on other data.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from '../experiment/config.js';
import type { PlannedRun } from '../experiment/presets.js';
import type { SweepSpec } from './plan.js';

/** What sweep.json records of a folder. */
export interface FolderRecord {
  path: string;
  /** FNV-1a of every file's path and size under the folder. */
  fingerprint: string;
  /** Class 1's fraction of the labelled pixels (voxels), over every pair. */
  foreground: number;
  pairs: number;
  dims: 2 | 3;
}

type FolderValue = { name: 'folder'; path: string; foreground?: number; masks?: unknown; manifest?: string };

const isFolder = (v: unknown): v is FolderValue => typeof v === 'object' && v != null && (v as { name?: unknown }).name === 'folder';

/**
 * The spec with each folder's foreground filled in (where not given), and the folders' records.
 * A spec without folder data comes back as it is, with no records.
 */
export async function measureFolders(spec: SweepSpec, onNotice?: (line: string) => void): Promise<{ spec: SweepSpec; folders: FolderRecord[] }> {
  const parameter = spec.parameters?.data;
  if (!parameter) return { spec, folders: [] };
  const values = 'values' in parameter ? parameter.values : [parameter.value];
  if (!values.some(isFolder)) return { spec, folders: [] };
  const { checkData, dataFiles, fingerprintOf, formatDataReport } = await import('../data/index.js');
  const records = new Map<string, FolderRecord>();
  const measured = new Map<string, number>();
  const filled: unknown[] = [];
  for (const [k, value] of values.entries()) {
    if (!isFolder(value)) {
      filled.push(value);
      continue;
    }
    const field = `parameters.data${'values' in parameter ? `.values.${k}` : '.value'}`;
    if (typeof value.path !== 'string' || value.path === '') throw new ConfigError([{ path: `${field}.path`, message: 'give the data set\'s folder' }]);
    if (!existsSync(value.path)) throw new ConfigError([{ path: `${field}.path`, message: `${value.path}: no such folder (relative paths are from ${process.cwd()})` }]);
    const key = JSON.stringify([value.path, value.manifest, value.masks ?? 'auto']);
    if (!measured.has(key)) {
      onNotice?.(`checking the data in ${value.path} …`);
      const report = await checkData(value.path, { classes: 2, masks: value.masks as never, manifest: value.manifest });
      if (report.problems.length > 0) {
        throw new Error(`data: ${value.path} cannot train a sweep's two-class runs (sweeps log two classes: background and foreground):\n${formatDataReport(report, value.path)}`);
      }
      measured.set(key, report.frequencies[1] ?? 0);
      if (!records.has(value.path)) {
        const files = (await dataFiles(value.path)).map((f) => `${f.path}:${f.size ?? '?'}`).sort().join('\n');
        records.set(value.path, {
          path: value.path, fingerprint: fingerprintOf(files), foreground: report.frequencies[1] ?? 0,
          pairs: report.pairs.train + report.pairs.val, dims: report.dims,
        });
      }
    }
    const foreground = measured.get(key)!;
    if (!(foreground > 0 && foreground < 1)) {
      throw new ConfigError([{ path: `${field}.path`, message: `${value.path}: its masks hold ${foreground === 0 ? 'no foreground' : 'only foreground'}; a segmentation needs both classes` }]);
    }
    filled.push(value.foreground != null ? value : { ...value, foreground: +foreground.toPrecision(4) });
  }
  const data = 'values' in parameter ? { values: filled } : { value: filled[0] };
  return { spec: { ...spec, parameters: { ...spec.parameters, data } }, folders: [...records.values()] };
}

/** Refuses a run whose model's dimensions are not its folder's (a unet2d on volumes, a unet3d on images), naming both. */
export function checkFolderModels(runs: readonly PlannedRun[], folders: readonly FolderRecord[]): void {
  for (const run of runs) {
    const { model, data } = run.config;
    if (data?.name !== 'folder' || !model) continue;
    const dims = folders.find((f) => f.path === data.path)?.dims;
    const wants = model.name === 'unet3d' ? 3 : 2;
    if (dims != null && dims !== wants) {
      throw new ConfigError([{ path: 'parameters.model', message: `${run.id}: a ${model.name} trains on ${wants}D data, and ${data.path} holds ${dims}D ${dims === 3 ? 'volumes' : 'images'}` }]);
    }
  }
}

/**
 * The folders (as absolute paths) of `now` whose fingerprint is not the one recorded (sweep.json's
 * `folders`, or another shard's): files added, removed or resized since. Empty when none changed.
 */
export function changedFolders(recorded: unknown, now: readonly FolderRecord[]): string[] {
  const before = new Map((Array.isArray(recorded) ? recorded as FolderRecord[] : []).map((f) => [f.path, f]));
  return now.filter((f) => before.has(f.path) && before.get(f.path)!.fingerprint !== f.fingerprint).map((f) => resolve(f.path));
}
