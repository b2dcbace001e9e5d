/**
 * `segloss merge`: shard directories of one sweep combined into one directory that is, file for
 * file, what the unsharded sweep would have written (sweep.json with every run in plan order,
 * runs/, summary.csv). Refuses shards of different sweeps. Every completion marker is checked
 * against its log before the run is copied: a damaged run is taken from another shard that has it
 * intact, or reported (by id and file) among the missing.
 */
import { readFileSync } from 'node:fs';
import { changedFolders, type FolderRecord } from './folders.js';
import { io, writeAtomic } from './fsio.js';
import { parseSweepSpec, planSweep } from './plan.js';
import { SweepStore } from './store.js';
import type { RunSummary } from './summary.js';

/** What mergeSweeps wrote: the merged directory, the runs it holds, and the runs missing or damaged. */
export interface MergeResult {
  outDir: string;
  runs: number;
  /** Planned runs no shard has complete (and intact). */
  missing: string[];
  /** Damaged runs found in the shards, by shard directory: "DIR: runs/….jsonl is damaged: …". */
  damaged: string[];
}

/**
 * Merges the shard directories of one sweep into `outDir` (see the module's header); throws if they
 * are shards of different sweeps, engines or data.
 */
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
    // Sweeps from before the lockstep engine recorded none: they trained on tfjs.
    if ((sweep.engine ?? 'tfjs') !== (first.engine ?? 'tfjs')) {
      throw new Error(`merge: ${dir} was trained with engine '${String(sweep.engine ?? 'tfjs')}', ${shards[0].dir} with '${String(first.engine ?? 'tfjs')}': their runs are not comparable bit for bit`);
    }
  }
  // Shards trained on your own data trained on the same files, or their runs do not belong together.
  for (const { dir, sweep } of shards) {
    const changed = changedFolders(first.folders, (sweep.folders ?? []) as FolderRecord[]);
    if (changed.length > 0) {
      throw new Error(`merge: ${dir} and ${shards[0].dir} trained on different data: the data changed between the shards (files added, removed or resized) in ${changed.join(', ')}`);
    }
  }
  const plan = planSweep(parseSweepSpec(first.spec));
  const out = new SweepStore(outDir);
  out.create();
  out.writeSweep({ segloss: first.segloss, tfjs: first.tfjs, engine: first.engine ?? 'tfjs', spec: first.spec, shard: null, runs: plan, ...(first.folders ? { folders: first.folders } : {}) });
  const missing: string[] = [];
  const damaged: string[] = [];
  const summaries: RunSummary[] = [];
  for (const run of plan) {
    let summary: RunSummary | null = null;
    for (const shard of shards) {
      const state = shard.store.inspect(run.id);
      if (state.kind === 'damaged') damaged.push(`${shard.dir}: ${state.problem}`);
      if (state.kind !== 'complete') continue;
      // The log and the reduction first, the marker last: what was verified, byte for byte.
      for (const suffix of shard.store.completeFiles(run.id)) {
        const from = shard.store.path(run.id, suffix);
        writeAtomic(out.path(run.id, suffix), io('read', from, () => readFileSync(from)));
      }
      summary = state.summary;
      break;
    }
    if (summary) summaries.push(summary);
    else missing.push(run.id);
  }
  out.writeSummaryCsv(summaries);
  return { outDir, runs: summaries.length, missing, damaged };
}
