/**
 * A sweep's plan: which runs, with which configs and ids. A sweep is a preset (optionally with
 * steps / runs overridden) or a W&B/Ray-style spec, `parameters: { name: { value } | { values } }`,
 * where `seed` is a parameter like any other. The plan is stable: same spec → same runs in the
 * same order, which sharding and resuming rely on.
 */
import { z } from 'zod';
import { ConfigError, parseRunConfig, runId } from '../experiment/config.js';
import { expandPreset, presets, type PlannedRun } from '../experiment/presets.js';

const parameter = z.union([
  z.object({ value: z.unknown() }).strict(),
  z.object({ values: z.array(z.unknown()).min(1) }).strict(),
]);

export const sweepSpecSchema = z.object({
  /** A preset to start from (`segloss presets` lists them). */
  preset: z.enum(Object.keys(presets) as [keyof typeof presets, ...(keyof typeof presets)[]]).optional(),
  /** Parameters of the run config, each a fixed `value` or a list of `values` to sweep. */
  parameters: z.record(z.string(), parameter).optional(),
  /** Overrides applied to every run (CLI --steps). */
  steps: z.number().int().positive().optional(),
  /** Runs (seeds 0 … runs−1) per grid cell (CLI --runs); for presets, or when `seed` is not a parameter. */
  runs: z.number().int().positive().optional(),
}).strict().refine((s) => s.preset != null || s.parameters != null, { message: 'give a preset or parameters' });

/** A sweep as given: a preset and/or parameters to sweep, with optional steps and runs per cell. */
export type SweepSpec = z.infer<typeof sweepSpecSchema>;

/** Validates a sweep spec; errors name the field (ConfigError). */
export function parseSweepSpec(input: unknown): SweepSpec {
  const result = sweepSpecSchema.safeParse(input);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })));
  }
  return result.data;
}

/** Every run of a sweep spec, validated, with unique ids. */
export function planSweep(spec: SweepSpec): PlannedRun[] {
  if (spec.preset) {
    const preset = presets[spec.preset];
    const base = { ...spec.parameters ? fixedValues(spec.parameters) : {}, ...(spec.steps ? { steps: spec.steps } : {}) };
    return expandPreset({ ...preset, runs: spec.runs ?? preset.runs }, base);
  }
  const parameters = spec.parameters!;
  let cells: Record<string, unknown>[] = [{}];
  const varied: string[] = [];
  for (const [name, p] of Object.entries(parameters)) {
    const values = 'values' in p ? p.values : [p.value];
    if (values.length > 1) varied.push(name);
    cells = cells.flatMap((cell) => values.map((value) => ({ ...cell, [name]: value })));
  }
  if (!('seed' in parameters)) {
    const runs = spec.runs ?? 1;
    cells = cells.flatMap((cell) => Array.from({ length: runs }, (_, seed) => ({ ...cell, seed })));
  }
  if (spec.steps) cells = cells.map((cell) => ({ ...cell, steps: spec.steps }));
  const runs = cells.map((cell, k) => {
    try {
      const config = parseRunConfig(cell);
      return { id: runId(config, config.seed), config };
    } catch (e) {
      if (e instanceof ConfigError) {
        throw new ConfigError(e.issues.map((i) => ({ path: `parameters.${i.path}`, message: `${i.message} (run ${k})` })));
      }
      throw e;
    }
  });
  return uniqueIds(runs, varied);
}

function fixedValues(parameters: Record<string, z.infer<typeof parameter>>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(parameters).map(([k, p]) => {
    if ('values' in p) throw new ConfigError([{ path: `parameters.${k}`, message: 'a preset takes fixed values only' }]);
    return [k, p.value];
  }));
}

/** The seed's id names optimizer, BN, fg, loss and seed (a U-Net's, its model and data too); other varied parameters are appended. */
function uniqueIds(runs: PlannedRun[], varied: string[]): PlannedRun[] {
  const named = new Set(['optimizer', 'batchNorm', 'foreground', 'trainLoss', 'seed', 'model', 'data']);
  const extra = varied.filter((k) => !named.has(k));
  const withExtras = runs.map((r) => ({
    ...r,
    id: r.id + extra.map((k) => `-${k}${String((r.config as Record<string, unknown>)[k]).replace(/[^A-Za-z0-9.]+/g, '_')}`).join(''),
  }));
  const seen = new Set<string>();
  for (const r of withExtras) {
    if (seen.has(r.id)) throw new ConfigError([{ path: 'parameters', message: `two runs would share the id ${r.id}` }]);
    seen.add(r.id);
  }
  return withExtras;
}

/** Shard `current` of `total`, counted from 1 as in Vitest, Jest and Playwright (`--shard 1/3`). */
export interface Shard {
  current: number;
  total: number;
}

/** Throws a ConfigError naming the problem unless `shard` is a valid 1-based shard. */
export function checkShard(shard: Shard): void {
  const { current, total } = (shard ?? {}) as Partial<Shard>;
  if ('index' in (shard ?? {}) || 'count' in (shard ?? {})) {
    throw new ConfigError([{ path: 'shard', message: 'shards are { current, total }, counted from 1 (1/N … N/N), '
      + 'as in Vitest, Jest and Playwright; { index, count } (from 0) is gone' }]);
  }
  if (!Number.isInteger(total) || total! < 1 || !Number.isInteger(current) || current! < 1 || current! > total!) {
    const hint = current === 0 ? ': shards count from 1, so the first of N is 1/N' : '';
    throw new ConfigError([{ path: 'shard', message: `expected i/N with 1 ≤ i ≤ N, got ${current}/${total}${hint}` }]);
  }
}

/** Run k (from 0) of a plan belongs to shard (k mod total) + 1: deterministic, balanced, stable. */
export function shardOf(runs: PlannedRun[], shard: Shard): PlannedRun[] {
  checkShard(shard);
  return runs.filter((_, k) => k % shard.total === shard.current - 1);
}

/** A spec (or a preset's name) validated, planned and sharded: what both runSweeps start from. */
export function resolveSweep(spec: SweepSpec | string, shard?: Shard): { spec: SweepSpec; runs: PlannedRun[] } {
  const parsed = parseSweepSpec(typeof spec === 'string' ? { preset: spec } : spec);
  const plan = planSweep(parsed);
  return { spec: parsed, runs: shard ? shardOf(plan, shard) : plan };
}

/**
 * Whether a stored plan (sweep.json's, a MemorySweepStore's) is `runs`: the same ids in the same
 * order with the same configs, compared after parsing, so that a config field added since (with
 * its default, as `invertInput`) keeps older sweeps resumable.
 */
export function samePlan(stored: unknown, runs: readonly PlannedRun[]): boolean {
  if (!Array.isArray(stored) || stored.length !== runs.length) return false;
  return stored.every((run, i) => {
    if (run?.id !== runs[i].id) return false;
    try {
      return JSON.stringify(parseRunConfig(run.config)) === JSON.stringify(runs[i].config);
    } catch {
      return false;
    }
  });
}
