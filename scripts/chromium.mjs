// Headless Chromium for the browser tests and `npm run bench:browser`: Debian's /usr/bin/chromium
// (or CHROMIUM_PATH) driven by playwright-core, which downloads no browser of its own.
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** The flags of DESIGN.md §5: no sandbox (root), no GPU, no background traffic on a closed network. */
const FLAGS = [
  '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--no-first-run', '--disable-quic', '--disable-sync',
];

/** Launches the browser, or says how to get it. */
export function launchChromium() {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found: install Debian's chromium (apt-get install chromium; .ci/run does) or set CHROMIUM_PATH`);
  }
  return chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
}
