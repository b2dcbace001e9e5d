#!/usr/bin/env node
// The benchmarks in headless Chromium (scripts/chromium.mjs): the fused losses vs tfjs ops in a
// module Web Worker (src/bench/losses.ts, the demo's benchmark button; the lines `segloss bench
// losses` prints in Node), the seed preset's sweep throughput with 1 and 2 Web Workers, and the
// U-Net training step (`segloss bench unet`'s 2D rows) in a Web Worker of the cross-origin
// isolated page, on tfjs's threaded build with all cores and on its single-threaded build.
// Needs `npm run build` (build/web).
//
//   node scripts/bench-browser.mjs [--steps N] [--quick] [--sweep-only | --unet-only]
import { parseArgs } from 'node:util';
import { launchChromium } from './chromium.mjs';
import { serveDemo } from './serve-web.mjs';

const { values: args } = parseArgs({
  options: { steps: { type: 'string' }, quick: { type: 'boolean' }, 'sweep-only': { type: 'boolean' }, 'unet-only': { type: 'boolean' } },
});
const only = args['sweep-only'] ? 'sweep' : args['unet-only'] ? 'unet' : null;
const steps = args.steps != null ? Number(args.steps) : args.quick ? 20 : 200;
const shapes = args.quick ? [[8, 128, 128, 2]] : [[8, 128, 128, 2], [4, 256, 256, 4], [2, 512, 512, 8]];

const server = await serveDemo({ port: 0 });
const browser = await launchChromium();
try {
  const page = await browser.newPage();
  await page.goto(server.url);
  await page.waitForSelector('body[data-ready=true]');
  console.log(`segloss browser bench — ${new Date().toISOString()} — ${browser.version()} headless, `
    + `${await page.evaluate(() => navigator.hardwareConcurrency)} logical cores`);

  if (only == null) {
    const lines = await page.evaluate(async (shapes) => {
      const printed = [];
      await globalThis.seglossDemo.benchmark(shapes, (line) => printed.push(line));
      return printed;
    }, shapes);
    for (const line of lines) console.log(line);
    console.log('');
  }

  if (only == null || only === 'unet') await benchUNet(page);
  if (only === 'unet') process.exit(0);

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

/**
 * unet2d at batch 4 of 128² (64² with --quick): tfjs's single-threaded build against its threaded
 * build on all logical cores, alternated twice in fresh workers (the machine's noise shows as the
 * spread between the two rounds).
 */
async function benchUNet(page) {
  const cores = await page.evaluate(() => navigator.hardwareConcurrency);
  const size = args.quick ? 64 : 128;
  const medians = { 1: [], [cores]: [] };
  for (const round of [1, 2]) {
    for (const threads of [1, cores]) {
      const { info, lines, rows } = await page.evaluate(async ([threads, size, steps]) => {
        const lines = [];
        const { info, rows } = await globalThis.seglossDemo.unetBench({ threads, size, steps }, (line) => lines.push(line));
        return { info, lines, rows: rows.map((r) => r.medianMs) };
      }, [threads, size, args.quick ? 2 : 5]);
      console.log(`round ${round}, tfjs ${info.shared ? 'threaded' : 'single-threaded'} build, ${info.threads} thread${info.threads > 1 ? 's' : ''}:`);
      for (const line of lines) console.log(`  ${line}`);
      medians[threads].push(rows[1]);
    }
  }
  const range = (xs) => `${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)} ms`;
  console.log(`unet2d step with segloss, batch 4 of ${size}²: 1 thread ${range(medians[1])}, ${cores} threads ${range(medians[cores])}\n`);
}
