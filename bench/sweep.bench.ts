/**
 * Sweep throughput (issue #5): run-steps per second of the `seed` preset (all 108 runs, a few
 * hundred steps each) with 1 and with 2 workers, the scaling between them, and the projected wall
 * time of the full preset (108 × 10,001 steps) on this machine.
 *
 *   npm run build && npx tsx bench/sweep.bench.ts [--steps N]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSweep } from 'segloss';

const stepsArg = process.argv.indexOf('--steps');
const steps = stepsArg >= 0 ? Number(process.argv[stepsArg + 1]) : 200;
const scratch = mkdtempSync(join(tmpdir(), 'segloss-bench-'));
console.log(`seed preset, 108 runs × ${steps} steps — ${new Date().toISOString()} — Node ${process.version}\n`);

const rates: Record<number, number> = {};
try {
  for (const workers of [1, 2]) {
    const started = performance.now();
    const result = await runSweep({ preset: 'seed', steps }, { outDir: join(scratch, `w${workers}`), workers });
    const seconds = (performance.now() - started) / 1000;
    const runSteps = result.runs.reduce((n, r) => n + r.steps, 0);
    rates[workers] = runSteps / seconds;
    console.log(`${workers} worker${workers > 1 ? 's' : ' '}: ${runSteps} run-steps in ${seconds.toFixed(1)} s = ${rates[workers].toFixed(0)} run-steps/s`
      + (result.failed.length ? ` (${result.failed.length} failed)` : ''));
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
const fullSteps = 108 * 10_001;
console.log(`\nscaling 1 → 2 workers: ${(rates[2] / rates[1]).toFixed(2)}×`);
console.log(`projected full seed preset (${fullSteps} run-steps): ${(fullSteps / rates[2] / 60).toFixed(1)} min with 2 workers, `
  + `${(fullSteps / rates[1] / 60).toFixed(1)} min with 1`);
