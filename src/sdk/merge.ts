/**
 * `segloss merge`: shard directories of one sweep combined into one directory that is, file for
 * file, what the unsharded sweep would have written (sweep.json with every run in plan order,
 * runs/, summary.csv). Refuses shards of different sweeps and incomplete sets.
 */
import { copyFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseSweepSpec, planSweep } from './plan.js';
import { SweepStore } from './store.js';

export interface MergeResult {
  outDir: string;
  runs: number;
  /** Planned runs no shard has complete. */
  missing: string[];
}

export function mergeSweeps(shardDirs: readonly string[], outDir: string): MergeResult {
  if (shardDirs.length === 0) throw new Error('merge: give at least one shard directory');
  const shards = shardDirs.map((dir) => {
    const store = new SweepStore(dir);
    const sweep = store.readSweep();
    if (!sweep) throw new Error(`merge: ${dir} holds no sweep.json`);
    return { dir, store, sweep };
  });
  const first = shards[0].sweep;
  for (const { dir, sweep } of shards) {
    if (JSON.stringify(sweep.spec) !== JSON.stringify(first.spec) || sweep.segloss !== first.segloss || sweep.tfjs !== first.tfjs) {
      throw new Error(`merge: ${dir} is a shard of another sweep (spec or versions differ from ${shards[0].dir})`);
    }
  }
  const plan = planSweep(parseSweepSpec(first.spec));
  const out = new SweepStore(outDir);
  out.writeSweep({ segloss: first.segloss, tfjs: first.tfjs, spec: first.spec, shard: null, runs: plan });
  const missing: string[] = [];
  const summaries = [];
  for (const run of plan) {
    const source = shards.find((s) => s.store.isComplete(run.id));
    if (!source) {
      missing.push(run.id);
      continue;
    }
    for (const file of readdirSync(source.store.runsDir).filter((f) => f === `${run.id}.jsonl` || f === `${run.id}.done.json`)) {
      copyFileSync(join(source.store.runsDir, file), join(out.runsDir, file));
    }
    summaries.push(out.readSummary(run.id));
  }
  out.writeSummaryCsv(summaries);
  return { outDir, runs: summaries.length, missing };
}
