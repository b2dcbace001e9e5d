/**
 * A figure's files: the SVG (vega, render.ts) and a PNG of it (resvg, at 2× zoom), written
 * atomically; FigureDrawer draws the SVG on the JS thread and the PNG on one of libuv's.
 *
 * Memory: a figure's vega dataflow (≈ 10 MB) is promoted before it dies, and resvg's pixmaps
 * (≈ 8 MB, outside V8's heap, which does not feel them) are freed only when their wrappers are
 * collected, so a drawer runs a major collection every GC_EVERY figures. Measured on 2 cores
 * (bench/RESULTS.md, 2026-12-06): 360 figures in one process in 38.8 s and 1.14 GB without it,
 * 40.9 s and 650 MB every 16 figures, 47.6 s and 503 MB every 8 (each collection marks ≈ 100 MB
 * and takes ≈ 90 ms). Node 20's `gc({ type: 'major' })` collects nothing unless asked with
 * `execution: 'async'`: the major collections this file asked for every 8 figures before never ran.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { renderAsync, Resvg, type ResvgRenderOptions } from '@resvg/resvg-js';
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

const RESVG_OPTIONS: ResvgRenderOptions = { fitTo: { mode: 'zoom', value: 2 }, background: 'white', font: FONT };

/** A PNG of an SVG, on this thread (FigureDrawer draws a report's figures' on libuv's). */
export function svgToPng(svg: string): Buffer {
  return new Resvg(svg, RESVG_OPTIONS).render().asPng();
}

/** A figure to draw: its file name (without extension) and its vega-lite spec. */
export interface FigureJob {
  key: string;
  spec: Record<string, unknown>;
}

/**
 * Draws figures in this process, to `dir/<key>.svg` and `dir/<key>.png`: a figure's SVG (vega) on
 * the JS thread, then its PNG on one of libuv's threads (resvg's renderAsync: parsing, text and
 * rasterising, ≈ 50 ms a figure) while the next figure's SVG is drawn; only the PNG's encoding
 * (≈ 25 ms) comes back to the JS thread. At most `pngsInFlight` PNGs are drawn at once (one keeps
 * up with vega; two were no faster and no smaller on the seed preset's 36 figures).
 */
export class FigureDrawer {
  private readonly pngs = new Set<Promise<unknown>>();
  private drawn = 0;

  constructor(private readonly dir: string, private readonly pngsInFlight = 1) {}

  /**
   * Draws a figure: resolves when its SVG is written and its PNG has started, with `png`, which
   * resolves when the PNG is written (null) or could not be (the error).
   */
  async draw({ key, spec }: FigureJob): Promise<{ png: Promise<Error | null> }> {
    const svg = await specToSvg(spec);
    writeAtomic(join(this.dir, `${key}.svg`), svg);
    while (this.pngs.size >= this.pngsInFlight) await Promise.race(this.pngs);
    const png = renderAsync(svg, RESVG_OPTIONS)
      .then((image) => { writeAtomic(join(this.dir, `${key}.png`), image.asPng()); return null; }, (error: Error) => error)
      .finally(() => this.pngs.delete(png));
    this.pngs.add(png);
    if (++this.drawn % GC_EVERY === 0) await collectGarbage();
    return { png };
  }

  /** Resolves when every PNG started is written (or failed). */
  async finish(): Promise<void> {
    await Promise.all(this.pngs);
  }
}

/** Figures between major collections (the header says why, and what they cost). */
const GC_EVERY = 16;
let collect: ((options?: { type?: 'minor' | 'major'; execution?: 'sync' | 'async' }) => unknown) | null = null;

/**
 * A major garbage collection (in a task of its own: asked for synchronously, Node 20's collected
 * nothing here), then a turn of the event loop for the finalizers that free native memory.
 */
async function collectGarbage(): Promise<void> {
  if (!collect) {
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as typeof collect;
  }
  await collect!({ type: 'major', execution: 'async' });
  await new Promise((resolve) => setImmediate(resolve));
}
