/**
 * A figure's files: the SVG (vega, render.ts) and a PNG of it (resvg, at 2× zoom), written
 * atomically. resvg's pixmaps live outside V8's heap, which does not feel them: a process that
 * renders hundreds of PNGs and collects garbage only as its small JS heap asks would grow by ~10 MB
 * a figure. So a major collection runs every few figures (`v8`'s --expose-gc, set at run time).
 */
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Resvg } from '@resvg/resvg-js';
import { writeAtomic } from '../sdk/fsio.js';
import { specToSvg } from './render.js';

/** How the PNGs are drawn (a figure drawn otherwise is drawn again: write.ts's figure index). */
export const PNG_SETTINGS = 'resvg 2× zoom, white, DejaVu Sans';

export function svgToPng(svg: string): Buffer {
  return new Resvg(svg, {
    fitTo: { mode: 'zoom', value: 2 },
    background: 'white',
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
  }).render().asPng();
}

/** A figure to draw: its file name (without extension) and its vega-lite spec. */
export interface FigureJob {
  key: string;
  spec: Record<string, unknown>;
}

const COLLECT_EVERY = 8;
let collect: (() => void) | null = null;
let drawn = 0;

/** A major garbage collection, which frees the PNG renderer's native memory (its finalizers run at the next turn). */
async function collectGarbage(): Promise<void> {
  if (!collect) {
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as () => void;
  }
  collect();
  await new Promise((resolve) => setImmediate(resolve));
}

/** Writes `dir/<key>.svg` and `dir/<key>.png`. */
export async function writeFigure(dir: string, { key, spec }: FigureJob): Promise<void> {
  const svg = await specToSvg(spec);
  writeAtomic(join(dir, `${key}.svg`), svg);
  writeAtomic(join(dir, `${key}.png`), svgToPng(svg));
  if (++drawn % COLLECT_EVERY === 0) await collectGarbage();
}
