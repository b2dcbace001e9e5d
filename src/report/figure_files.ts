/**
 * A figure's files: the SVG (vega, render.ts) and a PNG of it (resvg, at 2× zoom), written
 * atomically. resvg's pixmaps live outside V8's heap, which does not feel them: a process that
 * renders hundreds of PNGs and collects garbage only as its small JS heap asks would grow by ~10 MB
 * a figure. So a collection runs after every figure (`v8`'s --expose-gc, set at run time): a minor
 * one, which frees the figure's renderer while it is young, and every MAJOR_EVERY figures a major
 * one, for what grew old. Measured on 360 figures in one process: 150 ms a figure and 700 MB at
 * most; the bare `gc()` (a major collection that also gives memory back) every 8 figures instead:
 * 178 ms and 476 MB; no collection at all: 4.2 GB.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Resvg } from '@resvg/resvg-js';
import { writeAtomic } from '../sdk/fsio.js';
import { specToSvg } from './render.js';

/** Where Debian, Fedora and Arch put DejaVu Sans (the figures' font: vega's config names it). */
const DEJAVU_DIRS = ['/usr/share/fonts/truetype/dejavu', '/usr/share/fonts/dejavu-sans-fonts', '/usr/share/fonts/TTF', '/usr/share/fonts/dejavu'];

/**
 * The fonts resvg loads for each PNG: DejaVu Sans's files when they are where a Linux keeps them
 * (the same pixels as all the system's fonts, 10 % faster here, and much faster on a desktop with
 * hundreds of fonts, which resvg would load for every figure), else the system's fonts.
 */
const FONT = ((): { loadSystemFonts: boolean; fontFiles?: string[]; defaultFontFamily: string } => {
  for (const dir of DEJAVU_DIRS) {
    try {
      const files = readdirSync(dir).filter((f) => /^DejaVuSans(-Bold|-Oblique|-BoldOblique)?\.ttf$/.test(f));
      if (files.includes('DejaVuSans.ttf')) return { loadSystemFonts: false, fontFiles: files.map((f) => join(dir, f)), defaultFontFamily: 'DejaVu Sans' };
    } catch { /* not here */ }
  }
  return { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' };
})();

/** How the PNGs are drawn (a figure drawn otherwise is drawn again: write.ts's figure index). */
export const PNG_SETTINGS = `resvg 2× zoom, white, ${FONT.fontFiles ? 'DejaVu Sans files' : 'system fonts'}`;

export function svgToPng(svg: string): Buffer {
  return new Resvg(svg, { fitTo: { mode: 'zoom', value: 2 }, background: 'white', font: FONT }).render().asPng();
}

/** A figure to draw: its file name (without extension) and its vega-lite spec. */
export interface FigureJob {
  key: string;
  spec: Record<string, unknown>;
}

const MAJOR_EVERY = 8;
let collect: ((options?: { type: 'minor' | 'major' }) => void) | null = null;
let drawn = 0;

/** A garbage collection, which frees the PNG renderers' native memory (their finalizers run at the next turn). */
async function collectGarbage(): Promise<void> {
  if (!collect) {
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as typeof collect;
  }
  collect!({ type: drawn % MAJOR_EVERY === 0 ? 'major' : 'minor' });
  await new Promise((resolve) => setImmediate(resolve));
}

/** Writes `dir/<key>.svg` and `dir/<key>.png`. */
export async function writeFigure(dir: string, { key, spec }: FigureJob): Promise<void> {
  const svg = await specToSvg(spec);
  writeAtomic(join(dir, `${key}.svg`), svg);
  writeAtomic(join(dir, `${key}.png`), svgToPng(svg));
  drawn++;
  await collectGarbage();
}
