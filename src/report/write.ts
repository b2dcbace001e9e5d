/**
 * `segloss report DIR`: reads a sweep directory and writes DIR/report/index.html with every
 * figure as SVG and PNG (PNG through @resvg/resvg-js, fonts from the system).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import { io, writeAtomic } from '../sdk/fsio.js';
import { SweepStore } from '../sdk/store.js';
import type { RunLog } from './figures.js';
import { reportHtml } from './html.js';
import { validSamples } from './overlays.js';
import { renderReport, type Report } from './render.js';

export interface ReadOptions {
  /** Told about every run left out because its log does not match its completion marker. */
  onWarning?: (message: string) => void;
}

/**
 * The complete runs of a sweep directory, with their logs. A run whose log does not match its
 * completion marker is left out, and `onWarning` says which file and how it is damaged.
 */
export function readSweepRuns(dir: string, options: ReadOptions = {}): RunLog[] {
  const store = new SweepStore(dir);
  const sweep = store.readSweep();
  if (!sweep) throw new Error(`report: ${dir} holds no sweep.json`);
  return (sweep.runs as { id: string }[]).flatMap(({ id }) => {
    const state = store.inspect(id);
    if (state.kind === 'damaged') options.onWarning?.(`${state.problem}; left out of the report`);
    if (state.kind !== 'complete') return [];
    const { config, status, samples } = state.summary;
    return [{ id, config, rows: store.readRows(id), status, ...(validSamples(samples) ? { samples } : {}) }];
  });
}

export function svgToPng(svg: string): Buffer {
  return new Resvg(svg, {
    fitTo: { mode: 'zoom', value: 2 },
    background: 'white',
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
  }).render().asPng();
}

/** Renders the report of the sweep in `dir` into `dir/report/`; returns the report and the page's path. */
/**
 * Renders the report of the sweep in `dir` into `dir/report/`; returns the report and the page's
 * path. Every file is replaced atomically, so processes that finish one sweep together can all
 * write it.
 */
export async function writeReport(dir: string, title = `segloss sweep: ${dir}`, options: ReadOptions = {}):
  Promise<{ report: Report; index: string }> {
  const report = await renderReport(readSweepRuns(dir, options));
  const out = join(dir, 'report');
  io('create the directory', join(out, 'figures'), () => mkdirSync(join(out, 'figures'), { recursive: true }));
  for (const figure of report.figures) {
    writeAtomic(join(out, 'figures', `${figure.key}.svg`), figure.svg);
    writeAtomic(join(out, 'figures', `${figure.key}.png`), svgToPng(figure.svg));
  }
  if (report.overlays.length > 0) io('create the directory', join(out, 'overlays'), () => mkdirSync(join(out, 'overlays'), { recursive: true }));
  for (const overlay of report.overlays) writeAtomic(join(out, 'overlays', `${overlay.runId}.png`), overlay.png);
  if (report.puzzle) {
    writeAtomic(join(out, 'figures', 'puzzle.svg'), report.puzzle.svg);
    writeAtomic(join(out, 'figures', 'puzzle.png'), svgToPng(report.puzzle.svg));
  }
  const index = join(out, 'index.html');
  writeAtomic(index, reportHtml(report, title));
  writeAtomic(join(out, 'report.json'), JSON.stringify({ runs: report.runs, cells: report.cells, ranking: report.ranking, observations: report.observations, modelObservations: report.modelObservations, puzzle: report.puzzle?.analysis ?? null }, null, 2) + '\n');
  return { report, index };
}
