/**
 * Sweep reports (src/report): verdicts on crafted logs, the curve smoothing, and a small synthetic
 * sweep rendered to SVG (parsed as XML), PNG (decoded, right size) and an HTML page listing every
 * run, with its strings escaped.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { parseRunConfig, type RunConfig } from '../src/experiment/config.js';
import type { StepLog } from '../src/experiment/train.js';
import { escapeHtml } from '../src/report/html.js';
import { renderReport } from '../src/report/render.js';
import { movingAverage, sampleIndices } from '../src/report/series.js';
import { judgeRun } from '../src/report/verdict.js';
import { writeReport } from '../src/report/write.js';
import { recordRun } from '../src/sdk/pool.js';
import { SweepStore } from '../src/sdk/store.js';

const scratch = mkdtempSync(join(tmpdir(), 'segloss-report-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A log whose accuracy follows `accuracy(step)` (evaluated every 50 steps) and dice per class. */
function craftedRows(steps: number, accuracy: (s: number) => number, dice: (s: number) => number[]): StepLog[] {
  return Array.from({ length: steps }, (_, step) => ({
    step,
    losses: { cce: 1 / (step + 1), dicefg: 0.5 / (step + 1), dice: 0.7 / (step + 1) },
    gradNorms: { cce: 1 + Math.sin(step / 10), dicefg: 0.5, dice: 0.25 },
    ...(step % 50 === 0 || step === steps - 1 ? { eval: { accuracy: accuracy(step), dice: dice(step), iou: dice(step) } } : {}),
  }));
}

const at95 = parseRunConfig({ foreground: 0.95 });

describe('verdicts', () => {
  it('converged: accuracy stays above half-way between trivial and perfect; converged at the first such step', () => {
    const rows = craftedRows(300, (s) => (s < 100 ? 0.95 : 0.99), () => [0.9, 0.99]);
    expect(judgeRun(at95, rows, 'completed')).toEqual({ verdict: 'converged', convergedAt: 100, predictedClass: null });
  });

  it('stuck: one class never predicted, accuracy = the other class\'s fraction', () => {
    const rows = craftedRows(300, () => 0.9502, () => [0, 0.9745]);
    expect(judgeRun(at95, rows, 'completed')).toEqual({ verdict: 'stuck', convergedAt: null, predictedClass: 1 });
    const bgOnly = craftedRows(300, () => 0.05, () => [0.1, 0]);
    expect(judgeRun(at95, bgOnly, 'completed').predictedClass).toBe(0);
  });

  it('diverged comes from the run status; anything else is not converged', () => {
    expect(judgeRun(at95, craftedRows(10, () => 0.99, () => [1, 1]), 'diverged').verdict).toBe('diverged');
    expect(judgeRun(at95, craftedRows(300, () => 0.96, () => [0.3, 0.98]), 'completed').verdict).toBe('not converged');
    // A dip after reaching the bar moves the convergence step to the recovery.
    const dip = craftedRows(300, (s) => (s === 150 ? 0.95 : s >= 50 ? 0.99 : 0.9), () => [0.9, 0.99]);
    expect(judgeRun(at95, dip, 'completed').convergedAt).toBe(200);
  });
});

describe('curves', () => {
  it('moving average is trailing, ignores non-finite values, and sampling keeps both ends', () => {
    expect(movingAverage([1, 2, 3, 4, 5], 2)).toEqual([1, 1.5, 2.5, 3.5, 4.5]);
    expect(movingAverage([1, NaN, 3], 3)).toEqual([1, 1, 2]);
    const idx = sampleIndices(10_001, 400);
    expect(idx).toHaveLength(400);
    expect(idx[0]).toBe(0);
    expect(idx.at(-1)).toBe(10_000);
    expect(sampleIndices(5, 400)).toEqual([0, 1, 2, 3, 4]);
  });
});

describe('a rendered report', () => {
  // Two figures (BN off/on) × three training losses, 600 steps each; BN off + dicefg is stuck.
  const configs: RunConfig[] = [false, true].flatMap((batchNorm) => (['cce', 'dicefg', 'dice'] as const)
    .map((trainLoss) => parseRunConfig({ batchNorm, trainLoss, steps: 600, foreground: 0.95 })));
  const logs = configs.map((config) => {
    const stuck = !config.batchNorm && config.trainLoss === 'dicefg';
    const rows = craftedRows(600, (s) => (stuck ? 0.9504 : Math.min(0.99, 0.9 + s / 1000)), () => (stuck ? [0, 0.97] : [0.9, 0.99]));
    const id = `adam-bn${config.batchNorm ? 1 : 0}-95fg-${config.trainLoss}-run0`;
    return { id, config, rows, status: 'completed' as const };
  });

  it('draws one valid SVG per (optimizer, BN, fg, run) with the seed\'s titles and columns', async () => {
    const report = await renderReport(logs);
    expect(report.figures.map((f) => f.key)).toEqual(['adam-bn0-95fg-run0', 'adam-bn1-95fg-run0']);
    for (const figure of report.figures) {
      expect(XMLValidator.validate(figure.svg), figure.key).toBe(true);
      const text = figure.svg.replace(/<[^>]+>/g, ' ');
      expect(text).toContain('95% Foreground (run 0)');
      for (const column of ['CCE', 'DICEFG', 'DICE']) expect(text).toContain(column);
    }
    expect(report.figures[0].title[1]).toBe('ADAM, Batch Norm: False');
    expect(report.runs.find((r) => r.id === 'adam-bn0-95fg-dicefg-run0')!.verdict).toBe('stuck');
    expect(report.cells).toHaveLength(6);
  });

  it('writes index.html listing every run, and PNGs that decode at twice the SVG size', async () => {
    const dir = join(scratch, 'sweep');
    const store = new SweepStore(dir);
    store.create();
    store.writeSweep({ spec: { preset: 'quick' }, runs: logs.map(({ id, config }) => ({ id, config })) });
    for (const log of logs) recordRun(store, log, log.rows, { status: 'completed', steps: 600, parameters: 198 });
    const { report, index } = await writeReport(dir, 'a <sweep> & "friends"');
    const html = readFileSync(index, 'utf8');
    for (const log of logs) expect(html).toContain(log.id);
    expect(html).toContain('a &lt;sweep&gt; &amp; &quot;friends&quot;');
    expect(html).not.toContain('<sweep>');
    for (const figure of report.figures) {
      const svg = readFileSync(join(dir, 'report', 'figures', `${figure.key}.svg`), 'utf8');
      const root = new XMLParser({ ignoreAttributes: false }).parse(svg).svg;
      const png = PNG.sync.read(readFileSync(join(dir, 'report', 'figures', `${figure.key}.png`)));
      expect(png.width).toBe(2 * Number(root['@_width']));
      expect(png.height).toBe(2 * Number(root['@_height']));
    }
  });

  it('escapes every HTML special character', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });
});
