/**
 * The demo's "Train a U-Net in this tab" in real headless Chromium (a cross-origin isolated page):
 * a U-Net trained from the form in a Web Worker logs the same losses, bit for bit, as
 * UNetTrainer in this Node process (tfjs's single-threaded build in the worker, as in Node), on one
 * thread and on three (Web Workers, src/parallel/web.ts); a page that is not cross-origin isolated
 * trains on one thread and says why; curves and the prediction overlay draw
 * live, tensors stay flat, Stop stops, bad options get a clear error, and the U-Net benchmark
 * runs in a worker. A screenshot goes to test-output/browser/.
 */
import { mkdirSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UNetTrainer, type UNetTrainingOptions } from '../../src/models/index.js';
import { useWasm } from '../helpers/wasm.js';
import { launchChromium, openDemo, serve, type Served } from './chromium.js';

const SCREENSHOTS = 'test-output/browser';

let browser: Browser;
let server: Served;
let page: Page;
let errors: string[];

beforeAll(async () => {
  browser = await launchChromium();
  server = await serve(true);
  ({ page, errors } = await openDemo(browser, server.url));
  mkdirSync(SCREENSHOTS, { recursive: true });
});

afterAll(async () => {
  await page?.close();
  await server?.close();
  await browser?.close();
});

/**
 * Fills the U-Net form of `on` (default: the isolated page; the fields not given keep the page's
 * defaults) and trains; resolves when the page is idle again.
 */
async function trainFromForm(fields: Record<string, string>, { waitDone = true, on = page } = {}): Promise<void> {
  for (const [id, value] of Object.entries(fields)) {
    if (id === 'unet-size' || id === 'unet-loss') await on.selectOption(`#${id}`, value);
    else await on.fill(`#${id}`, value);
  }
  const ended = await on.evaluate(() => (globalThis as any).seglossDemo.unet.ended);
  await on.click('#unet-run');
  if (waitDone) await on.waitForFunction((n) => (globalThis as any).seglossDemo.unet.ended > n, ended, { timeout: 120_000 });
}

/** The losses of the same run in this Node process, on one thread (tfjs-backend-wasm's SIMD build, segloss's kernels). */
async function nodeLosses(options: UNetTrainingOptions): Promise<number[]> {
  await useWasm('simd');
  const { threads: _threads, ...run } = options;
  const trainer = UNetTrainer.create(run);
  const losses: number[] = [];
  try {
    while (trainer.step < run.steps) losses.push(trainer.runStep().loss);
  } finally {
    trainer.dispose();
  }
  return losses;
}

const state = () => page.evaluate(() => {
  const u = (globalThis as any).seglossDemo.unet;
  return {
    options: u.options as UNetTrainingOptions, losses: u.losses as { step: number; loss: number }[],
    evals: u.evals as { step: number; dice: number; accuracy: number }[], result: u.result,
  };
});

describe('Train a U-Net in this tab', () => {
  it('trains in a worker on tfjs\'s single-threaded build, with the losses Node computes, bit for bit', async () => {
    await trainFromForm({ 'unet-size': '32', 'unet-filters': '4, 8', 'unet-steps': '40', 'unet-batch': '2', 'unet-lr': '0.01', 'unet-threads': '1' });
    expect(await page.textContent('#unet-error')).toBe('');
    const { options, losses, evals, result } = await state();
    expect(result).toMatchObject({ steps: 40, stopped: false });
    expect(await page.textContent('#unet-status')).toMatch(/^done after 40 steps in [\d.]+ s, \d+ ms a step \(1 thread, segloss simd\)/);
    expect(await page.getAttribute('#unet-threads', 'placeholder')).toBe(String(await page.evaluate(() => navigator.hardwareConcurrency)));
    expect(options).toMatchObject({ imageSize: 32, filters: [4, 8], steps: 40, batchSize: 2, learningRate: 0.01, loss: 'dice-ce' });

    // The same trainer in Node (tfjs-backend-wasm's SIMD build, segloss's kernels): the same bits.
    const node = await nodeLosses(options);
    expect(losses.map((l) => l.loss)).toEqual(node);
    // It learns: the loss falls, and the validation scores were recorded at each evaluation.
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(node.slice(-10))).toBeLessThan(0.8 * mean(node.slice(0, 10)));
    expect(evals.map((e) => e.step)).toEqual(Array.from({ length: 20 }, (_, i) => 2 * i).concat(39));
    // No tensor leaks in the worker: the count after every step is the same.
    expect(new Set(result.numTensors).size).toBe(1);
  });

  it('draws the curves and the predictions over the labels, one canvas per validation image', async () => {
    const drawn = await page.evaluate(() => {
      const canvases = Array.from(document.querySelectorAll<HTMLCanvasElement>('#unet-images canvas'));
      return {
        curves: document.querySelectorAll('#unet-curves svg path').length,
        legend: Array.from(document.querySelectorAll('#unet-curves svg text')).map((t) => t.textContent),
        canvases: canvases.map((c) => {
          const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
          let red = 0;
          let green = 0;
          for (let i = 0; i < data.length; i += 4) {
            if (data[i] > 150 && data[i + 1] < 130) red++;
            if (data[i] === 40 && data[i + 1] === 210 && data[i + 2] === 70) green++;
          }
          return { width: c.width, red, green };
        }),
        caption: document.getElementById('unet-caption')!.textContent,
      };
    });
    expect(drawn.curves).toBeGreaterThan(2);
    expect(drawn.legend).toEqual(expect.arrayContaining(['training loss', 'validation Dice (foreground)', 'validation accuracy']));
    expect(drawn.canvases).toHaveLength(4);
    for (const c of drawn.canvases) expect(c.width).toBe(32);
    // Label outlines on every image (each has foreground); predicted foreground somewhere.
    for (const c of drawn.canvases) expect(c.green).toBeGreaterThan(0);
    expect(drawn.canvases.some((c) => c.red > 0)).toBe(true);
    expect(drawn.caption).toMatch(/^validation images at step 39: foreground Dice [\d.]+, IoU [\d.]+, accuracy [\d.]+$/);
  });

  it('trains one model on 3 threads (Web Workers), with the losses Node computes on one, bit for bit', async () => {
    await trainFromForm({ 'unet-size': '32', 'unet-filters': '4, 8', 'unet-steps': '12', 'unet-batch': '4', 'unet-lr': '0.01', 'unet-threads': '3' });
    expect(await page.textContent('#unet-error')).toBe('');
    const { options, losses, result } = await state();
    expect(result).toMatchObject({ steps: 12, stopped: false });
    expect(options.threads).toBe(3);
    expect(await page.textContent('#unet-status')).toContain('(3 threads, segloss simd)');
    // Parts of 1, 1 and 2 images; on a machine of fewer than 3 cores the page says they share them.
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    if (cores < 3) expect(await page.textContent('#unet-notice')).toMatch(/3 threads on \d cores?: they share the cores/);
    else expect(await page.isHidden('#unet-notice')).toBe(true);

    expect(losses.map((l) => l.loss)).toEqual(await nodeLosses(options));
    // The threads' workers are the trainer's: flat tensors in it after every step, as on one thread.
    expect(new Set(result.numTensors).size).toBe(1);
    await page.screenshot({ path: `${SCREENSHOTS}/demo-unet.png`, fullPage: true });
  });

  it('stops from its Stop button after the current step, and trains again after', async () => {
    await trainFromForm({ 'unet-steps': '100000', 'unet-threads': '1' }, { waitDone: false });
    await page.waitForFunction(() => (globalThis as any).seglossDemo.unet.losses.length >= 3, null, { timeout: 60_000 });
    expect(await page.isDisabled('#unet-run')).toBe(true);
    await page.click('#unet-stop');
    await page.waitForFunction(() => !(globalThis as any).seglossDemo.unet.running, null, { timeout: 60_000 });
    const { result, losses } = await state();
    expect(result.stopped).toBe(true);
    expect(result.steps).toBe(losses.length);
    expect(result.steps).toBeLessThan(100_000);
    expect(await page.textContent('#unet-status')).toMatch(new RegExp(`^stopped after ${result.steps} steps`));
    expect(await page.isEnabled('#unet-run')).toBe(true);
    expect(await page.isDisabled('#unet-stop')).toBe(true);
    await trainFromForm({ 'unet-steps': '3' });
    expect((await state()).result).toMatchObject({ steps: 3, stopped: false });
  });

  it('says what is wrong with bad options, and trains again once they are fixed', async () => {
    await page.fill('#unet-filters', '8, sixteen');
    await page.click('#unet-run');
    await page.waitForSelector('#unet-error:not([hidden])');
    expect(await page.textContent('#unet-error')).toMatch(/Filters per level: .*"8, sixteen"/);
    // The worker's own check (parseTrainingOptions): at most six levels.
    await trainFromForm({ 'unet-filters': '2, 2, 2, 2, 2, 2, 2', 'unet-steps': '3' });
    expect(await page.textContent('#unet-error')).toMatch(/^segloss train: invalid options: filters: .*6/);
    await trainFromForm({ 'unet-filters': '4, 8', 'unet-steps': '3' });
    expect(await page.isHidden('#unet-error')).toBe(true);
    expect((await state()).result).toMatchObject({ steps: 3, stopped: false });
  });

  it('benchmarks a U-Net step in a worker, with and without segloss\'s kernel replacements, and on 2 threads', async () => {
    const { info, rows, lines } = await page.evaluate(async () => {
      const lines: string[] = [];
      const out = await (globalThis as any).seglossDemo.unetBench({ steps: 1, size: 32, batch: 2, threads: 2 }, (l: string) => lines.push(l));
      return { ...out, lines };
    });
    expect(info).toMatchObject({ threads: await page.evaluate(() => navigator.hardwareConcurrency), single: null, variant: 'simd' });
    expect(rows.map((r: { name: string }) => r.name)).toEqual([
      'wasm (1 thread), segloss without its tfjs-kernel replacements, batch 2', 'wasm (1 thread) with segloss, batch 2',
      'UNetTrainer, 1 thread', 'UNetTrainer, 2 threads',
    ]);
    for (const r of rows) expect(r.medianMs).toBeGreaterThan(0);
    // Without the replacements, tfjs-wasm's own Tile runs; with them, segloss's copies leave none in the profile's top kernels.
    expect(rows[0].kernels.map((k: { name: string }) => k.name)).toContain('Tile');
    expect(lines).toContainEqual(expect.stringMatching(/^segloss's replacements: [\d.]+× on the step$/));
    expect(lines.at(-1)).toMatch(/^UNetTrainer: \d+ ms a step on 1 thread, \d+ on 2 \([\d.]+×\)$/);
  });

  it('raised no page, console or worker error', () => {
    expect(errors).toEqual([]);
  });
});

describe('Train a U-Net on a page that is not cross-origin isolated', () => {
  let plain: Served;
  let plainPage: Page;
  let plainErrors: string[];
  beforeAll(async () => {
    plain = await serve(false);
    ({ page: plainPage, errors: plainErrors } = await openDemo(browser, plain.url));
  });
  afterAll(async () => {
    await plainPage?.close();
    await plain?.close();
  });

  it('trains on one thread when threads are asked for, and says why', async () => {
    expect(await plainPage.getAttribute('#unet-threads', 'placeholder')).toBe('1');
    await trainFromForm({ 'unet-size': '32', 'unet-filters': '4, 8', 'unet-steps': '3', 'unet-batch': '2', 'unet-threads': '2' }, { on: plainPage });
    expect(await plainPage.isHidden('#unet-error')).toBe(true);
    expect(await plainPage.evaluate(() => (globalThis as any).seglossDemo.unet.result)).toMatchObject({ steps: 3, stopped: false });
    expect(await plainPage.textContent('#unet-status')).toContain('(1 thread, segloss simd)');
    expect(await plainPage.textContent('#unet-notice')).toMatch(/2 threads asked for, but threads need a cross-origin isolated page .*: training on one thread/);
    expect(plainErrors).toEqual([]);
  });
});
