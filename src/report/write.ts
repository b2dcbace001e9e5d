/**
 * `segloss report DIR`: reads a sweep directory and writes DIR/report/index.html with every
 * figure as SVG and PNG (PNG through @resvg/resvg-js, fonts from the system).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { version as vegaVersion } from 'vega';
import { version as vegaLiteVersion } from 'vega-lite';
import { join } from 'node:path';
import { io, writeAtomic } from '../sdk/fsio.js';
import { SweepStore, type RunSummary } from '../sdk/store.js';
import { groupFigures, type RunLog } from './figures.js';
import { figurePool } from './figure_pool.js';
import { PNG_SETTINGS, svgToPng } from './figure_files.js';
import { reportHtml } from './html.js';
import { validSamples } from './overlays.js';
import { renderRuns, type Report, type RunHandle } from './render.js';

/** How readSweepRuns, sweepRunHandles and writeReport read a sweep directory and draw its figures. */
export interface ReadOptions {
  /** Told about every run left out because its log does not match its completion marker. */
  onWarning?: (message: string) => void;
  /**
   * Cores writeReport draws the figures on (default: all there are). A drawer keeps two busy, so
   * with four or more it draws in processes, one per two cores (and per dozen figures).
   */
  threads?: number;
  /**
   * writeReport: after each figure is drawn (or found unchanged), the figures done of the total.
   * (A figure counts as done when it is handed to a drawing process.)
   */
  onProgress?: (figures: number, total: number) => void;
}

/**
 * The summaries of a sweep directory's complete runs, in plan order (with a U-Net's pictures only
 * when they are whole); a damaged run is left out and `onWarning` names it.
 */
function completeRuns(dir: string, options: ReadOptions, check: 'log' | 'report'): { store: SweepStore; runs: RunSummary[] } {
  const store = new SweepStore(dir);
  const summaries = store.completeRuns((problem) => options.onWarning?.(`${problem}; left out of the report`), check);
  if (!summaries) throw new Error(`report: ${dir} holds no sweep.json`);
  const runs = summaries.map(({ samples, ...summary }) => ({ ...summary, ...(validSamples(samples) ? { samples } : {}) }));
  return { store, runs };
}

/**
 * The complete runs of a sweep directory, with their logs. A run whose log does not match its
 * completion marker is left out, and `onWarning` says which file and how it is damaged. (Every
 * row of every run at once: `writeReport` reads a directory in bounded memory instead.)
 */
export async function readSweepRuns(dir: string, options: ReadOptions = {}): Promise<RunLog[]> {
  const { store, runs } = completeRuns(dir, options, 'log');
  const logs: RunLog[] = [];
  for (const { id, config, status, samples } of runs) logs.push({ id, config, rows: await store.readRows(id), status, ...(samples ? { samples } : {}) });
  return logs;
}

/**
 * The complete runs of a sweep directory as the report loads them: each run's reduction
 * (runs/<id>.reduced.json, checked against its completion marker), or for a run completed before
 * reductions, its log reduced as it is read. A damaged run is left out, and `onWarning` names it.
 */
export function sweepRunHandles(dir: string, options: ReadOptions = {}): RunHandle[] {
  const { store, runs } = completeRuns(dir, options, 'report');
  return runs.map((run) => ({ id: run.id, config: run.config, load: () => store.readReduction(run.id, run) }));
}

/**
 * Renders the report of the sweep in `dir` into `dir/report/`; returns the report and the page's
 * path. Every file is replaced atomically, so processes that finish one sweep together can all
 * write it. The runs are loaded one figure at a time and each figure is written as it is drawn:
 * the memory holds the runs' reductions without their curves, never their rows.
 */
export async function writeReport(dir: string, title = `segloss sweep: ${dir}`, options: ReadOptions = {}):
  Promise<{ report: Report; index: string; figures: { drawn: number; unchanged: number } }> {
  const out = join(dir, 'report');
  const figuresDir = join(out, 'figures');
  io('create the directory', figuresDir, () => mkdirSync(figuresDir, { recursive: true }));
  const runs = sweepRunHandles(dir, options);
  const drawn = readFigureIndex(out);
  const now: Record<string, string> = {};
  let unchanged = 0;
  const total = groupFigures(runs).length;
  const pool = figurePool(figuresDir, total, options.threads);
  let report: Report;
  let done = 0;
  try {
    report = await renderRuns(runs, {
      drawFigure: async (figure) => {
        const hash = figureHash(figure.spec);
        now[figure.key] = hash;
        if (drawn[figure.key] === hash && existsSync(join(figuresDir, `${figure.key}.svg`)) && existsSync(join(figuresDir, `${figure.key}.png`))) {
          unchanged++;
        } else {
          await pool.draw(figure);
        }
        options.onProgress?.(++done, total);
      },
    });
  } finally {
    await pool.finish();
  }
  writeAtomic(join(out, FIGURE_INDEX), JSON.stringify({ format: 1, figures: now }) + '\n');
  if (report.overlays.length > 0) io('create the directory', join(out, 'overlays'), () => mkdirSync(join(out, 'overlays'), { recursive: true }));
  for (const overlay of report.overlays) writeAtomic(join(out, 'overlays', `${overlay.runId}.png`), overlay.png);
  if (report.puzzle) {
    writeAtomic(join(out, 'figures', 'puzzle.svg'), report.puzzle.svg);
    writeAtomic(join(out, 'figures', 'puzzle.png'), svgToPng(report.puzzle.svg));
  }
  const index = join(out, 'index.html');
  writeAtomic(index, reportHtml(report, title));
  writeAtomic(join(out, 'report.json'), JSON.stringify({ runs: report.runs, cells: report.cells, ranking: report.ranking, observations: report.observations, modelObservations: report.modelObservations, puzzle: report.puzzle?.analysis ?? null }, null, 2) + '\n');
  return { report, index, figures: { drawn: report.figures.length - unchanged, unchanged } };
}

/**
 * report/figures.json: each figure's hash (its vega-lite spec, which holds its data, and
 * the renderers' versions) when it was drawn. A figure whose hash is unchanged and whose files are
 * there is not drawn again: a report after a resumed or merged sweep draws only the figures whose
 * runs changed.
 */
const FIGURE_INDEX = 'figures.json';

function readFigureIndex(dir: string): Record<string, string> {
  try {
    const index = JSON.parse(readFileSync(join(dir, FIGURE_INDEX), 'utf8')) as { format?: number; figures?: Record<string, string> };
    return index.format === 1 && typeof index.figures === 'object' && index.figures !== null ? index.figures : {};
  } catch {
    return {}; // none yet, or unreadable: every figure is drawn
  }
}

function figureHash(spec: Record<string, unknown>): string {
  return createHash('sha256').update(`vega ${vegaVersion}, vega-lite ${vegaLiteVersion}, ${PNG_SETTINGS}\n`).update(JSON.stringify(spec)).digest('hex');
}
