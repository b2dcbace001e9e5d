/**
 * Report speed for a full-size sweep (issue #6): a synthetic `seed` preset — 108 runs × 10,001
 * logged steps written through the real SweepStore — rendered by writeReport (read, verdicts,
 * 36 figures as SVG and PNG, index.html).
 *
 *   npx tsx bench/report.bench.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expandPreset, presets } from '../src/experiment/presets.js';
import type { StepLog } from '../src/experiment/train.js';
import { writeReport } from '../src/report/write.js';
import { SummaryTracker, SweepStore } from '../src/sdk/store.js';

const dir = mkdtempSync(join(tmpdir(), 'segloss-report-bench-'));
try {
  const runs = expandPreset(presets.seed);
  const store = new SweepStore(dir);
  store.writeSweep({ spec: { preset: 'seed' }, runs });
  for (const { id, config } of runs) {
    const rows: StepLog[] = Array.from({ length: config.steps }, (_, step) => ({
      step,
      losses: { cce: 1 / (1 + step), dicefg: 0.5 / (1 + step), dice: 0.7 / (1 + step) },
      gradNorms: { cce: 1 + Math.sin(step), dicefg: 0.5 + Math.cos(step) / 4, dice: 0.25 },
      ...(step % 250 === 0 || step === config.steps - 1 ? { eval: { accuracy: 0.95 + step / 4e5, dice: [0.5, 0.97], iou: [0.4, 0.95] } } : {}),
    }));
    store.beginRun(id);
    store.appendRows(id, rows);
    const tracker = new SummaryTracker();
    tracker.add(rows);
    store.completeRun(tracker.summary(id, config, { status: 'completed', steps: config.steps, parameters: 198 }));
  }
  const started = performance.now();
  const { report } = await writeReport(dir);
  const seconds = (performance.now() - started) / 1000;
  console.log(`report of ${report.runs.length} runs × 10,001 steps, ${report.figures.length} figures (SVG + PNG): ${seconds.toFixed(1)} s`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
