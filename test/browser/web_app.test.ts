/**
 * segloss's browser build as a web app gets it: examples/web-app bundled by rollup from
 * `segloss/browser` (the package's exports map, resolved through node_modules with the `browser`
 * condition; tfjs from the app's own node_modules), the worker and tfjs's .wasm files copied to
 * static files, the page run in Chromium: the kernels set up, a loss and its gradient, a small
 * sweep in Web Workers, no tensor left behind.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { launchChromium, type Served } from './chromium.js';
// @ts-expect-error: a plain .mjs script with no types
import { serveDemo } from '../../scripts/serve-web.mjs';

const root = resolve('.');
const app = join(root, 'test-output', 'web-app');
let browser: Browser;
let server: Served;

beforeAll(async () => {
  rmSync(app, { recursive: true, force: true });
  cpSync(join(root, 'examples', 'web-app'), app, { recursive: true });
  // The app's node_modules/segloss is this package (as `npm install segloss` would put it).
  mkdirSync(join(app, 'node_modules'));
  symlinkSync(root, join(app, 'node_modules', 'segloss'), 'dir');
  const bundle = spawnSync(process.execPath, [join(root, 'node_modules', 'rollup', 'dist', 'bin', 'rollup'), '-c', '--silent'],
    { cwd: app, encoding: 'utf8' });
  if (bundle.status !== 0) throw new Error(`rollup failed on the example app:\n${bundle.stderr}`);
  const assets = join(app, 'segloss');
  mkdirSync(assets);
  for (const file of readdirSync(join(root, 'dist', 'browser'))) {
    if (file === 'worker.js' || file.endsWith('.wasm')) cpSync(join(root, 'dist', 'browser', file), join(assets, file));
  }
  server = await serveDemo({ root: app, port: 0, base: '/some/app/', isolation: false });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

it('bundles with segloss/browser, computes losses, and runs a sweep in Web Workers', async () => {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(server.url);
  await page.waitForFunction(() => (globalThis as { appResult?: unknown }).appResult != null, null, { timeout: 90_000 });
  const result = await page.evaluate(() => (globalThis as { appResult?: Record<string, unknown> }).appResult!);
  expect(result.error).toBeUndefined();
  expect(result.variant).toBe('simd');
  expect(result.backend).toBe('wasm');
  // The README's numbers for the same tensors (examples/losses.mjs prints them in Node).
  const loss = result.loss as { cce: number; dicefg: number; grad: number[] };
  expect(loss.cce).toBeCloseTo(0.24303555, 6);
  expect(loss.dicefg).toBeCloseTo(0.22188371, 6);
  expect(loss.grad[0]).toBeCloseTo(-0.01205708, 7);
  expect(loss.grad[1]).toBeCloseTo(0.01205708, 7);
  expect(result.numTensors).toBe(0);
  expect(result.failed).toEqual([]);
  expect(result.runs).toEqual([0, 1].flatMap((bn) => ['cce', 'dicefg', 'dice'].map((l) => [`adam-bn${bn}-95fg-${l}-run0`, 30, 'completed'])));
  expect(result.csvLines).toBe(1 + 6);
  expect(result.progressEvents).toBeGreaterThan(0);
  expect(errors).toEqual([]);
  await page.close();
});
