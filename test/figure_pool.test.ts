/**
 * The report's figure drawers (src/report/figure_pool.ts, figure_files.ts): in the report's own
 * process (SVGs on the JS thread, PNGs on libuv's) and in processes (the built
 * dist/report-figure-worker.js), the same files byte for byte, and a figure that cannot be drawn
 * named by either.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { plausibleRow } from '../src/bench/report.js';
import { expandPreset, presets } from '../src/experiment/presets.js';
import { figurePool } from '../src/report/figure_pool.js';
import { figureSpec, groupFigures } from '../src/report/figures.js';
import { reduceRun } from '../src/report/reduce.js';

const scratch = mkdtempSync(join(tmpdir(), 'segloss-figures-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const STEPS = 600;
const jobs = groupFigures(expandPreset({ ...presets.seed, runs: 1 }, { steps: STEPS })
  .map((run) => reduceRun({ id: run.id, config: run.config, status: 'completed', rows: Array.from({ length: STEPS }, (_, s) => plausibleRow(run, s, STEPS)) })))
  .slice(0, 5).map((group) => ({ key: group.key, spec: figureSpec(group) }));

const builtWorker = existsSync(fileURLToPath(new URL('../dist/report-figure-worker.js', import.meta.url)));

/** Draws `jobs` with a pool sized for `figures` figures on `cores` cores; the files drawn, name → bytes. */
async function drawAll(name: string, figures: number, cores: number, expectProcesses: number, drawn = jobs) {
  const dir = join(scratch, name);
  mkdirSync(dir);
  const pool = figurePool(dir, figures, cores);
  expect(pool.processes).toBe(expectProcesses);
  try {
    for (const job of drawn) await pool.draw(job);
  } finally {
    await pool.finish();
  }
  return Object.fromEntries(readdirSync(dir).sort().map((f) => [f, readFileSync(join(dir, f))]));
}

describe('a report\'s figures', () => {
  it('are drawn in the report\'s process, an SVG and a PNG each', async () => {
    const files = await drawAll('here', jobs.length, 2, 0);
    expect(Object.keys(files)).toEqual(jobs.flatMap((j) => [`${j.key}.png`, `${j.key}.svg`]).sort());
    for (const job of jobs) {
      expect(files[`${job.key}.svg`].toString()).toMatch(/^<svg[^]*<\/svg>$/);
      expect(files[`${job.key}.png`].subarray(1, 4).toString()).toBe('PNG');
    }
  });

  it.skipIf(!builtWorker)('are the same, byte for byte, drawn in two processes (needs the build: dist/report-figure-worker.js)', async () => {
    const here = await drawAll('here-again', jobs.length, 2, 0);
    // 100 figures on 4 cores: a process per two cores (the pool is told of 100; 5 are drawn).
    const there = await drawAll('processes', 100, 4, 2);
    expect(Object.keys(there)).toEqual(Object.keys(here));
    for (const [name, bytes] of Object.entries(here)) expect(there[name].equals(bytes), name).toBe(true);
  });

  it.each([['in the report\'s process', 2, 0], ['in processes', 4, 2]] as const)('name a figure that cannot be drawn, %s', async (_where, cores, processes) => {
    if (processes > 0 && !builtWorker) return; // needs the build, as above
    const broken = { key: 'broken', spec: { ...jobs[0].spec, hconcat: undefined, mark: 'no-such-mark' } };
    await expect(drawAll(`broken-${cores}`, 100, cores, processes, [jobs[0], broken, jobs[1]])).rejects.toThrow(/^report: figure broken: /);
  });
});
