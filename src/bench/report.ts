/**
 * Report speed for a full-size sweep (issue #6): a synthetic `seed` preset (108 runs × 10,001
 * logged steps, or 1,001 with --quick) written through the real SweepStore, then rendered by
 * writeReport (read, verdicts, 36 figures as SVG and PNG, index.html). Also: what checking every
 * completion marker against its log (SHA-256) costs, as `--resume`, `report` and `merge` do.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expandPreset, presets } from '../experiment/presets.js';
import type { StepLog } from '../experiment/train.js';
import { writeReport } from '../report/write.js';
import { recordRun } from '../sdk/pool.js';
import { SweepStore } from '../sdk/store.js';
import type { BenchContext } from './suite.js';

export async function benchReport({ print, quick }: BenchContext):
  Promise<{ runs: number; steps: number; seconds: number; verifySeconds: number; logBytes: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'segloss-report-bench-'));
  try {
    const runs = expandPreset(presets.seed, quick ? { steps: 1001 } : {});
    const store = new SweepStore(dir);
    store.create();
    store.writeSweep({ spec: { preset: 'seed' }, runs });
    for (const { id, config } of runs) {
      const rows: StepLog[] = Array.from({ length: config.steps }, (_, step) => ({
        step,
        losses: { cce: 1 / (1 + step), dicefg: 0.5 / (1 + step), dice: 0.7 / (1 + step) },
        gradNorms: { cce: 1 + Math.sin(step), dicefg: 0.5 + Math.cos(step) / 4, dice: 0.25 },
        ...(step % 250 === 0 || step === config.steps - 1 ? { eval: { accuracy: 0.95 + step / 4e5, dice: [0.5, 0.97], iou: [0.4, 0.95] } } : {}),
      }));
      recordRun(store, { id, config }, rows, { status: 'completed', steps: config.steps, parameters: 198 });
    }
    const verifyStarted = performance.now();
    const complete = runs.filter(({ id }) => store.inspect(id).kind === 'complete').length;
    const verifySeconds = (performance.now() - verifyStarted) / 1000;
    const logBytes = runs.reduce((n, { id }) => n + statSync(store.path(id, '.jsonl')).size, 0);
    const started = performance.now();
    const { report } = await writeReport(dir);
    const seconds = (performance.now() - started) / 1000;
    const steps = runs[0].config.steps;
    print(`checking ${complete} completion markers against their logs (${(logBytes / 1e6).toFixed(0)} MB, SHA-256): ${verifySeconds.toFixed(2)} s`);
    print(`report of ${report.runs.length} runs × ${steps} steps, ${report.figures.length} figures (SVG + PNG): ${seconds.toFixed(1)} s`);
    return { runs: report.runs.length, steps, seconds, verifySeconds, logBytes };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
