/**
 * Real headless Chromium (Debian's `chromium`, driven by playwright-core: scripts/chromium.mjs)
 * against the demo page (build/web, from `npm run build`) served on localhost by
 * scripts/serve-web.mjs.
 */
import type { Browser, Page } from 'playwright-core';
// @ts-expect-error: plain .mjs scripts with no types
import { launchChromium as launch } from '../../scripts/chromium.mjs';
// @ts-expect-error: a plain .mjs script with no types
import { serveDemo } from '../../scripts/serve-web.mjs';

/** Debian's Chromium, with DESIGN.md §5's flags (scripts/chromium.mjs). */
export const launchChromium: () => Promise<Browser> = launch;

export interface Served {
  url: string;
  close(): Promise<void>;
}

/** The demo under a sub-path (nothing in it may assume the server's root), with or without COOP/COEP. */
export function serve(isolation: boolean): Promise<Served> {
  return serveDemo({ port: 0, base: '/nested/segloss-demo/', isolation });
}

/** Opens the demo and waits until its tfjs is up; page errors and worker errors fail the test. */
export async function openDemo(browser: Browser, url: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`page: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
  page.on('worker', (w) => w.on('console', (m) => { if (m.type() === 'error') errors.push(`worker: ${m.text()}`); }));
  await page.goto(url);
  await page.waitForSelector('body[data-ready=true]', { timeout: 60_000 });
  return { page, errors };
}
