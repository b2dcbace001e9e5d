/**
 * Sweep throughput (issues #5, #13): run-steps per second of the `seed` preset (all 108 runs, a few
 * hundred steps each) with 1 and with 2 workers, on the lockstep engine and on tfjs ops (the
 * baseline, in the same process), the scaling between worker counts, and the projected wall time
 * of the full preset (108 × 10,001 steps) on this machine. Runs Node's runSweep, so it needs the
 * built worker (dist/worker.js): `segloss bench sweep`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSweep, type SweepEngine } from '../sdk/sweep.js';
import type { BenchContext } from './suite.js';

export interface SweepBenchResult {
  steps: number;
  /** Per engine, per worker count. */
  runStepsPerSecond: Record<SweepEngine, Record<number, number>>;
  scaling: Record<SweepEngine, number>;
  projectedMinutes: Record<SweepEngine, Record<number, number>>;
}

export async function benchSweep({ print, quick, steps: stepsOption }: BenchContext): Promise<SweepBenchResult> {
  const steps = stepsOption ?? (quick ? 20 : 200);
  const scratch = mkdtempSync(join(tmpdir(), 'segloss-bench-'));
  print(`seed preset, 108 runs × ${steps} steps, end to end (workers' start-up included)\n`);
  const engines: SweepEngine[] = ['lanes', 'tfjs'];
  const rates = { lanes: {}, tfjs: {} } as Record<SweepEngine, Record<number, number>>;
  try {
    for (const engine of engines) {
      for (const workers of [1, 2]) {
        const started = performance.now();
        const result = await runSweep({ preset: 'seed', steps }, { outDir: join(scratch, `${engine}-w${workers}`), workers, engine });
        const seconds = (performance.now() - started) / 1000;
        const runSteps = result.runs.reduce((n, r) => n + r.steps, 0);
        rates[engine][workers] = runSteps / seconds;
        print(`${engine.padEnd(5)} ${workers} worker${workers > 1 ? 's' : ' '}: ${runSteps} run-steps in ${seconds.toFixed(1)} s `
          + `= ${rates[engine][workers].toFixed(0)} run-steps/s` + (result.failed.length ? ` (${result.failed.length} failed)` : ''));
      }
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  const fullSteps = 108 * 10_001;
  const projected = { lanes: {}, tfjs: {} } as Record<SweepEngine, Record<number, number>>;
  const scaling = {} as Record<SweepEngine, number>;
  print('');
  for (const engine of engines) {
    projected[engine] = { 1: fullSteps / rates[engine][1] / 60, 2: fullSteps / rates[engine][2] / 60 };
    scaling[engine] = rates[engine][2] / rates[engine][1];
    print(`${engine}: scaling 1 → 2 workers ${scaling[engine].toFixed(2)}×; projected full seed preset (${fullSteps} run-steps): `
      + `${projected[engine][2].toFixed(1)} min with 2 workers, ${projected[engine][1].toFixed(1)} min with 1`);
  }
  print(`lanes vs tfjs: ${(rates.lanes[1] / rates.tfjs[1]).toFixed(2)}× with 1 worker, ${(rates.lanes[2] / rates.tfjs[2]).toFixed(2)}× with 2`);
  return { steps, runStepsPerSecond: rates, scaling, projectedMinutes: projected };
}
