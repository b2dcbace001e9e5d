#!/usr/bin/env node
// The benchmarks in headless Chromium (Debian's /usr/bin/chromium, or CHROMIUM_PATH): the fused
// losses vs tfjs ops in a module Web Worker (src/bench/losses.ts, the demo's benchmark button), and
// the seed preset's sweep throughput with 1 and 2 Web Workers. Needs `npm run build` (build/web).
//
//   node scripts/bench-browser.mjs [--steps N] [--quick] [--sweep-only]
import { chromium } from 'playwright-core';
import { serveDemo } from './serve-web.mjs';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const steps = args.includes('--steps') ? Number(args[args.indexOf('--steps') + 1]) : quick ? 20 : 200;
const shapes = quick ? [[8, 128, 128, 2]] : [[8, 128, 128, 2], [4, 256, 256, 4], [2, 512, 512, 8]];

const server = await serveDemo({ port: 0 });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--no-first-run', '--disable-quic', '--disable-sync'],
});
try {
  const page = await browser.newPage();
  await page.goto(server.url);
  await page.waitForSelector('body[data-ready=true]');
  console.log(`segloss browser bench — ${new Date().toISOString()} — ${browser.version()} headless, `
    + `${await page.evaluate(() => navigator.hardwareConcurrency)} logical cores\n`);

  const rows = args.includes('--sweep-only') ? [] : await page.evaluate((shapes) => globalThis.seglossDemo.benchmark(shapes), shapes);
  let group = '';
  for (const r of rows) {
    if (r.group !== group) console.log(`\n${(group = r.group)}`);
    console.log([r.name.padEnd(44), `${r.medianMs.toFixed(3).padStart(9)} ms`,
      `[${r.p25Ms.toFixed(3)}–${r.p75Ms.toFixed(3)}]`.padStart(20), `${r.melemPerS.toFixed(1).padStart(8)} Melem/s`,
      (r.speedup == null ? '' : `${r.speedup.toFixed(1)}×`).padStart(8)].join('  '));
  }
  if (rows.length) console.log('\nspeed-up column: the baseline is the first row of its block (for scalar rows: the SIMD row).\n');

  const rates = {};
  for (const workers of [1, 2]) {
    const { seconds, runSteps, failed } = await page.evaluate(async ([workers, steps]) => {
      const started = performance.now();
      const result = await globalThis.segloss.runSweep({ preset: 'seed', steps },
        { workerUrl: new URL('./worker.js', location.href), workers });
      return { seconds: (performance.now() - started) / 1000, runSteps: result.runs.reduce((n, r) => n + r.steps, 0), failed: result.failed.length };
    }, [workers, steps]);
    rates[workers] = runSteps / seconds;
    console.log(`seed preset, 108 runs × ${steps} steps, ${workers} Web Worker${workers > 1 ? 's' : ' '}: ${runSteps} run-steps in `
      + `${seconds.toFixed(1)} s = ${rates[workers].toFixed(0)} run-steps/s${failed ? ` (${failed} failed)` : ''}`);
  }
  console.log(`scaling 1 → 2 workers: ${(rates[2] / rates[1]).toFixed(2)}×; projected full seed preset: `
    + `${(108 * 10_001 / rates[2] / 60).toFixed(1)} min with 2 workers`);
} finally {
  await browser.close();
  await server.close();
}
