/**
 * specToSvg compiles and parses a spec's layout once and binds each spec's data and title to a
 * view of it (render.ts). These tests hold it to the SVG a fresh compile of the whole spec draws,
 * byte for byte, for the report's figures and other specs, drawn in an order that reuses layouts.
 */
import { compile } from 'vega-lite';
import { parse, View } from 'vega';
import { describe, expect, it } from 'vitest';
import { plausibleRow } from '../src/bench/report.js';
import { expandPreset, presets } from '../src/experiment/presets.js';
import { figureSpec, groupFigures } from '../src/report/figures.js';
import { puzzleFigureSpec } from '../src/report/puzzle.js';
import { reduceRun } from '../src/report/reduce.js';
import { specToSvg } from '../src/report/render.js';

/** The SVG of a spec compiled and parsed whole, as specToSvg drew it before its layouts were kept. */
async function freshSvg(spec: Record<string, unknown>): Promise<string> {
  const view = new View(parse(compile(structuredClone(spec) as never).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const STEPS = 1200;
const reduced = (preset: typeof presets.seed, seeds: number) => expandPreset({ ...preset, runs: seeds }, { steps: STEPS })
  .map((run) => reduceRun({ id: run.id, config: run.config, status: 'completed', rows: Array.from({ length: STEPS }, (_, s) => plausibleRow(run, s, STEPS)) }));

const line = (title: unknown, values: object[]) => ({
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json', width: 200, height: 100, ...(title === undefined ? {} : { title }),
  data: { values }, mark: { type: 'line', point: true },
  encoding: { x: { field: 'step', type: 'quantitative' }, y: { field: 'value', type: 'quantitative' }, color: { field: 'metric', type: 'nominal' } },
});
const points = (n: number, scale: number) => Array.from({ length: n }, (_, i) => ({ step: i * 10, metric: i % 2 ? 'Dice' : 'accuracy', value: scale * Math.sin(i / 3) }));

describe('specToSvg', () => {
  it('draws each of a report\'s figures as a fresh compile does, byte for byte, its layout reused', async () => {
    const groups = groupFigures(reduced(presets.seed, 2));
    expect(groups.length).toBe(24);
    const specs = groups.map(figureSpec);
    // Every figure has the same layout: the second and later are drawn from the first's compile.
    for (const spec of specs) expect(await specToSvg(spec)).toBe(await freshSvg(spec));
    // Each figure's own data and title are drawn, not a neighbour's.
    const svgs = new Set(await Promise.all(specs.slice(0, 4).map(specToSvg)));
    expect(svgs.size).toBe(4);
    expect([...svgs][1]).toContain(groups[1].title[0]);
  });

  it('draws the puzzle\'s faceted figure and one-chart specs as a fresh compile does', async () => {
    const puzzle = puzzleFigureSpec(reduced(presets.puzzle, 2));
    expect(await specToSvg(puzzle)).toBe(await freshSvg(puzzle));
    const specs = [
      line('training loss', points(30, 1)), line('training loss', points(7, 3)), line(['two', 'lines'], points(12, 2)),
      line({ text: 'validation', subtitle: 'with a subtitle' }, points(20, 1)), line({ text: 'validation', subtitle: 'with a subtitle' }, points(5, 4)),
      line(undefined, points(9, 1)), line(undefined, []),
      // data beside a format is not split off: the whole spec is its layout
      { ...line('csv-like', []), data: { values: points(6, 1), format: { type: 'json' } } },
    ];
    for (const spec of [...specs, ...specs.reverse()]) expect(await specToSvg(spec)).toBe(await freshSvg(spec));
  });

  it('leaves the caller\'s spec as JSON the same', async () => {
    const spec = line({ text: 'kept', subtitle: 's' }, points(10, 1));
    const before = JSON.stringify(spec);
    await specToSvg(spec);
    expect(JSON.stringify(spec)).toBe(before);
  });
});
