/**
 * `segloss report DIR`: reads a sweep directory and writes DIR/report/index.html with every
 * figure as SVG and PNG (PNG through @resvg/resvg-js, fonts from the system).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import type { RunConfig } from '../experiment/config.js';
import type { StepLog } from '../experiment/train.js';
import type { RunSummary } from '../sdk/store.js';
import type { RunLog } from './figures.js';
import { reportHtml } from './html.js';
import { renderReport, type Report } from './render.js';

interface JsonRow {
  step: number;
  losses: StepLog['losses'];
  gradNorms: StepLog['gradNorms'];
  accuracy?: number;
  dice?: number[];
  iou?: number[];
}

/** The complete runs of a sweep directory, with their logs. */
export function readSweepRuns(dir: string): RunLog[] {
  const sweepPath = join(dir, 'sweep.json');
  if (!existsSync(sweepPath)) throw new Error(`report: ${dir} holds no sweep.json`);
  const sweep = JSON.parse(readFileSync(sweepPath, 'utf8')) as { runs: { id: string; config: RunConfig }[] };
  return sweep.runs.flatMap(({ id }) => {
    const done = join(dir, 'runs', `${id}.done.json`);
    if (!existsSync(done)) return [];
    const summary = JSON.parse(readFileSync(done, 'utf8')) as RunSummary;
    const rows = readFileSync(join(dir, 'runs', `${id}.jsonl`), 'utf8').split('\n').filter(Boolean).map((line): StepLog => {
      const r = JSON.parse(line) as JsonRow;
      const row: StepLog = { step: r.step, losses: r.losses, gradNorms: r.gradNorms };
      if (r.accuracy !== undefined) row.eval = { accuracy: r.accuracy, dice: r.dice!, iou: r.iou! };
      return row;
    });
    return [{ id, config: summary.config, rows, status: summary.status }];
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
export async function writeReport(dir: string, title = `segloss sweep: ${dir}`): Promise<{ report: Report; index: string }> {
  const report = await renderReport(readSweepRuns(dir));
  const out = join(dir, 'report');
  mkdirSync(join(out, 'figures'), { recursive: true });
  for (const figure of report.figures) {
    writeFileSync(join(out, 'figures', `${figure.key}.svg`), figure.svg);
    writeFileSync(join(out, 'figures', `${figure.key}.png`), svgToPng(figure.svg));
  }
  const index = join(out, 'index.html');
  writeFileSync(index, reportHtml(report, title));
  writeFileSync(join(out, 'report.json'), JSON.stringify({ runs: report.runs, cells: report.cells }, null, 2) + '\n');
  return { report, index };
}
