/**
 * Sweep throughput (issue #5): run-steps per second of the `seed` preset (all 108 runs, a few
 * hundred steps each) with 1 and with 2 workers, the scaling between them, and the projected wall
 * time of the full preset (108 × 10,001 steps) on this machine. Runs Node's runSweep, so it needs
 * the built worker (dist/worker.js): `segloss bench sweep`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSweep } from '../sdk/sweep.js';
import type { BenchContext } from './suite.js';

export interface SweepBenchResult {
  steps: number;
  runStepsPerSecond: Record<number, number>;
  scaling: number;
  projectedMinutes: Record<number, number>;
}

export async function benchSweep({ print, quick, steps: stepsOption }: BenchContext): Promise<SweepBenchResult> {
  const steps = stepsOption ?? (quick ? 20 : 200);
  const scratch = mkdtempSync(join(tmpdir(), 'segloss-bench-'));
  print(`seed preset, 108 runs × ${steps} steps\n`);
  const rates: Record<number, number> = {};
  try {
    for (const workers of [1, 2]) {
      const started = performance.now();
      const result = await runSweep({ preset: 'seed', steps }, { outDir: join(scratch, `w${workers}`), workers });
      const seconds = (performance.now() - started) / 1000;
      const runSteps = result.runs.reduce((n, r) => n + r.steps, 0);
      rates[workers] = runSteps / seconds;
      print(`${workers} worker${workers > 1 ? 's' : ' '}: ${runSteps} run-steps in ${seconds.toFixed(1)} s = ${rates[workers].toFixed(0)} run-steps/s`
        + (result.failed.length ? ` (${result.failed.length} failed)` : ''));
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  const fullSteps = 108 * 10_001;
  const projected = { 1: fullSteps / rates[1] / 60, 2: fullSteps / rates[2] / 60 };
  print(`\nscaling 1 → 2 workers: ${(rates[2] / rates[1]).toFixed(2)}×`);
  print(`projected full seed preset (${fullSteps} run-steps): ${projected[2].toFixed(1)} min with 2 workers, `
    + `${projected[1].toFixed(1)} min with 1`);
  return { steps, runStepsPerSecond: rates, scaling: rates[2] / rates[1], projectedMinutes: projected };
}
