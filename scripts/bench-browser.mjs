#!/usr/bin/env node
// The benchmarks in headless Chromium (scripts/chromium.mjs): the fused losses vs tfjs ops in a
// module Web Worker (src/bench/losses.ts, the demo's benchmark button; the lines `segloss bench
// losses` prints in Node), and the seed preset's sweep throughput with 1 and 2 Web Workers.
// Needs `npm run build` (build/web).
//
//   node scripts/bench-browser.mjs [--steps N] [--quick] [--sweep-only]
import { parseArgs } from 'node:util';
import { launchChromium } from './chromium.mjs';
import { serveDemo } from './serve-web.mjs';

const { values: args } = parseArgs({
  options: { steps: { type: 'string' }, quick: { type: 'boolean' }, 'sweep-only': { type: 'boolean' } },
});
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

  if (!args['sweep-only']) {
    const lines = await page.evaluate(async (shapes) => {
      const printed = [];
      await globalThis.seglossDemo.benchmark(shapes, (line) => printed.push(line));
      return printed;
    }, shapes);
    for (const line of lines) console.log(line);
    console.log('');
  }

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
