#!/usr/bin/env node
// The benchmarks in headless Chromium (scripts/chromium.mjs): the fused losses vs tfjs ops in a
// module Web Worker (src/bench/losses.ts, the demo's benchmark button; the lines `segloss bench
// losses` prints in Node), the seed preset's sweep throughput with 1 and 2 Web Workers, and the
// U-Net training step in a Web Worker of the cross-origin
// isolated page: with and without segloss's kernel replacements, and UNetTrainer on 1 thread and on every core.
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
 * unet2d at batch 4 of 128² (64² with --quick): the U-Net step with and without segloss's kernel
 * replacements, then UNetTrainer's step on one thread and on every core (data parallel: Web
 * Workers, src/parallel/web.ts), in one worker; twice, in fresh workers (the machine's noise
 * shows as the spread between the rounds).
 */
async function benchUNet(page) {
  const cores = await page.evaluate(() => navigator.hardwareConcurrency);
  const size = args.quick ? 64 : 128;
  const ratios = [];
  for (const round of [1, 2]) {
    const { lines, rows } = await page.evaluate(async ([threads, size, steps]) => {
      const lines = [];
      const { rows } = await globalThis.seglossDemo.unetBench({ threads, size, steps }, (line) => lines.push(line));
      return { lines, rows: rows.map((r) => r.medianMs) };
    }, [cores, size, args.quick ? 2 : 5]);
    console.log(`round ${round}:`);
    for (const line of lines) console.log(`  ${line}`);
    if (rows.length === 4) ratios.push(rows[3] / rows[2]);
  }
  if (ratios.length > 0) {
    console.log(`UNetTrainer step, batch 4 of ${size}², ${cores} threads over 1: ${ratios.map((r) => `${r.toFixed(2)}×`).join(', ')}\n`);
  }
}
