/**
 * Sweeps of U-Nets (issue #22, first part): a run config names its model and data; U-Net runs
 * train on tfjs ops in the same pool beside the lockstep engine's seed-net runs, with the same
 * files, ids, resume, shards and merge; the report keeps them in cells and figures of their own;
 * config errors name the field.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, parseRunConfig, runId } from '../src/experiment/config.js';
import { planSweep } from '../src/sdk/plan.js';
import { cli, snapshot } from './helpers/sweep_dir.js';

const scratch = mkdtempSync(join(tmpdir(), 'segloss-unet-sweep-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { cwd: scratch, encoding: 'utf8' });

const UNET = { name: 'unet2d', filters: [4, 8], batchNorm: true };
const DATA = { name: 'synthetic', size: 16, foreground: 0.1, trainImages: 8, valImages: 4 };
/** Two U-Net runs per loss beside two seed-net runs: one sweep, both engines. */
const spec = (steps: number) => ({
  parameters: {
    model: { values: [UNET, { name: 'seed' }] },
    trainLoss: { values: ['cce', 'dice'] },
    loggedLosses: { value: ['cce', 'dice'] },
    batchSize: { value: 2 },
    steps: { value: steps },
    evalEvery: { value: 10 },
    seed: { values: [0, 1] },
  },
});

describe('run configs with a model and data', () => {
  it('names a U-Net run by its model and data, and leaves seed-net configs as they were', () => {
    const config = parseRunConfig({ model: UNET, data: DATA, trainLoss: 'dice-ce' });
    expect(runId(config, 0)).toBe('unet2d-f4.8-bn1-syn16-adam-10fg-dice-ce-run0');
    expect([config.batchNorm, config.foreground]).toEqual([true, 0.1]); // the report's axes, from the model and data
    // The defaults spelled out name the same run as the defaults left out: old sweep directories resume.
    expect(JSON.stringify(parseRunConfig({ model: { name: 'seed' }, data: { name: 'toy' } }))).toBe(JSON.stringify(parseRunConfig({})));
    expect(JSON.stringify(parseRunConfig(JSON.parse(JSON.stringify(config))))).toBe(JSON.stringify(config));
  });

  it.each([
    [{ model: { name: 'unet9' }, data: DATA }, /model\.name: Invalid discriminator value/],
    [{ model: UNET, data: { name: 'toy' } }, /data: a unet2d run needs data \{ name: 'synthetic'/],
    [{ data: DATA }, /model: synthetic data trains a U-Net/],
    [{ model: { name: 'unet2d', filters: [4, 8, 16] }, data: { ...DATA, size: 18 } }, /data\.size: 18 is not divisible by 2\^2 = 4 for the 3 levels of model\.filters/],
    [{ model: UNET, data: DATA, foreground: 0.3 }, /foreground: is the seed net's; a unet2d run's is data\.foreground/],
    [{ model: UNET, data: DATA, imageSize: 64 }, /imageSize: is the seed net's; a unet2d run's is data\.size/],
    [{ model: UNET, data: { ...DATA, path: 'x' } }, /data: Unrecognized key/],
  ])('refuses %j, naming the field', (input, message) => {
    expect(() => parseRunConfig(input)).toThrow(ConfigError);
    expect(() => parseRunConfig(input)).toThrow(message);
  });

  it('plans a grid over models with readable, unique ids (a U-Net on synthetic data by default)', () => {
    const plan = planSweep(spec(5) as never);
    expect(plan.map((r) => r.id)).toEqual([
      'unet2d-f4.8-bn1-syn64-adam-5fg-cce-run0', 'unet2d-f4.8-bn1-syn64-adam-5fg-cce-run1',
      'unet2d-f4.8-bn1-syn64-adam-5fg-dice-run0', 'unet2d-f4.8-bn1-syn64-adam-5fg-dice-run1',
      'adam-bn0-95fg-cce-run0', 'adam-bn0-95fg-cce-run1', 'adam-bn0-95fg-dice-run0', 'adam-bn0-95fg-dice-run1',
    ]);
    expect(plan[0].config.data).toEqual({ name: 'synthetic', size: 64, foreground: 0.05, trainImages: 64, valImages: 8 });
  });
});

describe('segloss sweep with U-Nets', () => {
  const config = (name: string, steps: number) => {
    const path = join(scratch, `${name}.json`);
    writeFileSync(path, JSON.stringify(spec(steps)));
    return path;
  };
  const dir = (name: string) => join(scratch, name);
  const ids = (out: string) => readdirSync(join(out, 'runs')).filter((f) => f.endsWith('.done.json')).map((f) => f.replace('.done.json', '')).sort();

  it('trains U-Net runs beside seed-net runs: the same files for 1 and 2 workers; the report keeps them apart', () => {
    const one = run('sweep', '--config', config('grid', 20), '--workers', '1', '--out', dir('one'));
    expect(one.status, one.stderr).toBe(0);
    const two = run('sweep', '--config', config('grid', 20), '--workers', '2', '--out', dir('two'));
    expect(two.status, two.stderr).toBe(0);
    expect(snapshot(dir('two'))).toEqual(snapshot(dir('one')));
    expect(ids(dir('one'))).toHaveLength(8);
    const rows = readFileSync(join(dir('one'), 'runs', 'unet2d-f4.8-bn1-syn64-adam-5fg-dice-run1.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.map((r) => r.step)).toEqual(Array.from({ length: 20 }, (_, k) => k));
    expect(Object.keys(rows[0].losses)).toEqual(['cce', 'dice']);
    expect(rows[10].dice).toHaveLength(2); // evaluation rows: per-class Dice
    const csv = readFileSync(join(dir('one'), 'summary.csv'), 'utf8').split('\n');
    expect(csv[0]).toMatch(/^id,model,data,optimizer,batchNorm,foreground,/);
    expect(csv.find((l) => l.startsWith('unet2d-f4.8-bn1-syn64-adam-5fg-cce-run0,'))).toMatch(/,adam,true,0.05,false,cce,0,completed,20,/);
    const figures = readdirSync(join(dir('one'), 'report', 'figures'));
    expect(figures).toContain('unet2d-f4.8-syn64-adam-bn1-5fg-run0.svg');
    expect(figures).toContain('adam-bn0-95fg-run0.svg');
    const html = readFileSync(join(dir('one'), 'report', 'index.html'), 'utf8');
    expect(html).toContain('unet2d [4, 8], synthetic 64²: ADAM, Batch Norm: True, 5% fg');
    expect(html).toContain('ADAM, Batch Norm: False, 95% fg');
    // Which loss: per setting, the training losses by the final Dice of the minority class, in the report and on the command line.
    expect(html).toContain('<h2>Which loss?</h2>');
    expect(one.stderr).toContain('training losses by the final Dice of the minority class (mean ± sd over seeds):\n  ADAM, Batch Norm: False, 95% fg: ');
    expect(one.stderr).toMatch(/\n  unet2d \[4, 8\], synthetic 64²: ADAM, Batch Norm: True, 5% fg: (CCE|DICE) [\d.]+ ± [\d.]+.* > (CCE|DICE) /);
    const report = JSON.parse(readFileSync(join(dir('one'), 'report', 'report.json'), 'utf8'));
    const unetCells = report.cells.filter((c: { model: string }) => c.model === 'unet2d [4, 8], synthetic 64²');
    expect(unetCells.map((c: { trainLoss: string; runs: number }) => [c.trainLoss, c.runs])).toEqual([['cce', 2], ['dice', 2]]);
    const finals = csv.filter((l) => l.startsWith('unet2d-f4.8-bn1-syn64-adam-5fg-cce-')).map((l) => Number(l.split(',').at(-3))); // finalDiceForeground
    expect(finals).toHaveLength(2);
    expect(unetCells[0].meanDiceMinority).toBeCloseTo((finals[0] + finals[1]) / 2, 12); // 5% fg: the foreground is the minority
  });

  it('loses no finished U-Net run to a SIGKILL; --resume, and shards merged, give the uninterrupted sweep\'s files', async () => {
    const path = config('long', 150);
    const out = dir('killed');
    const child = spawn(process.execPath, [cli, 'sweep', '--config', path, '--workers', '2', '--out', out], { cwd: scratch, stdio: 'ignore' });
    const done = () => (existsSync(join(out, 'runs')) ? ids(out) : []);
    const deadline = Date.now() + 60_000;
    while (!done().some((id) => id.startsWith('unet2d')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(done().length).toBeLessThan(8);
    expect(run('sweep', '--config', path, '--workers', '2', '--out', out, '--resume').status).toBe(0);
    expect(run('sweep', '--config', path, '--workers', '2', '--out', dir('clean')).status).toBe(0);
    expect(snapshot(out)).toEqual(snapshot(dir('clean')));
    for (const k of [1, 2]) expect(run('sweep', '--config', path, '--workers', '1', '--shard', `${k}/2`, '--out', dir(`shard${k}`)).status).toBe(0);
    const merged = run('merge', '--out', dir('merged'), dir('shard1'), dir('shard2'));
    expect(merged.status, merged.stderr).toBe(0);
    expect(snapshot(dir('merged'))).toEqual(snapshot(dir('clean')));
  }, 180_000);

  it('runs the unet preset (72 U-Net runs) at a few steps through the CLI, every run complete and ranked', () => {
    expect(run('presets').stdout).toMatch(/^unet +72 runs {2}The study on a U-Net/m);
    const out = run('sweep', '--preset', 'unet', '--steps', '3', '--workers', '2', '--out', dir('preset-unet'));
    expect(out.stderr).toContain('72 runs complete: 72 trained here');
    expect(out.status, out.stderr).toBe(0);
    const csv = readFileSync(join(dir('preset-unet'), 'summary.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(73);
    expect(csv.map((l) => l.split(',')[0]).slice(1, 4)).toEqual([
      'unet2d-f8.16.32-bn1-syn64-adam-50fg-cce-run0', 'unet2d-f8.16.32-bn1-syn64-adam-50fg-cce-run1', 'unet2d-f8.16.32-bn1-syn64-adam-50fg-cce-run2']);
    for (const fg of ['50', '5', '1']) expect(out.stderr).toMatch(new RegExp(`\\n  unet2d \\[8, 16, 32\\], synthetic 64²: ADAM, Batch Norm: True, ${fg}% fg: (.* > ){7}`));
  }, 300_000);
});
