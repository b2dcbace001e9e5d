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
import { decode as decodePng } from 'fast-png';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, parseRunConfig, runId } from '../src/experiment/config.js';
import { SyntheticSet } from '../src/models/train.js';
import { planSweep } from '../src/sdk/plan.js';
import { maskBytes, put, writeImageSet } from './helpers/image_data.js';
import { writeNifti } from './helpers/nifti.js';
import { cli, logRows, snapshot } from './helpers/sweep_dir.js';

const scratch = mkdtempSync(join(tmpdir(), 'segloss-unet-sweep-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const ids = (out: string) => readdirSync(join(out, 'runs')).filter((f) => f.endsWith('.done.json')).map((f) => f.replace('.done.json', '')).sort();
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
    // A folder without a size takes the default side (128 in 2D, 64 for a unet3d's patches), in its id too.
    const folder = { name: 'folder', path: 'data/lesions/', foreground: 0.2 };
    expect(runId(parseRunConfig({ model: UNET, data: folder }), 0)).toBe('unet2d-f4.8-bn1-lesions128-adam-20fg-cce-run0');
    expect(runId(parseRunConfig({ model: { ...UNET, name: 'unet3d' }, data: folder }), 1)).toBe('unet3d-f4.8-bn1-lesions64-adam-20fg-cce-run1');
  });

  it('makes 95% foreground from the 5% shapes with the labels swapped (the shapes are then the background)', () => {
    const options = { imageSize: 32, trainImages: 4, validationImages: 2, seed: 3 };
    const five = new SyntheticSet({ ...options, foreground: 0.05 });
    const ninetyFive = new SyntheticSet({ ...options, foreground: 0.95 });
    const b5 = five.batch(7, 4);
    const b95 = ninetyFive.batch(7, 4);
    expect(b95.images).toEqual(b5.images);
    expect(Array.from(b95.labels)).toEqual(Array.from(b5.labels, (v) => 1 - v));
    const fraction = b95.labels.reduce((a, v) => a + v, 0) / b95.labels.length;
    expect(fraction).toBeGreaterThan(0.93);
    expect(fraction).toBeLessThan(0.97);
    expect(Array.from(ninetyFive.validation.labels)).toEqual(Array.from(five.validation.labels, (v) => 1 - v));
  });

  it.each([
    [{ model: { name: 'unet9' }, data: DATA }, /model\.name: Invalid discriminator value/],
    [{ model: UNET, data: { name: 'toy' } }, /data: a unet2d run needs data \{ name: 'synthetic'/],
    [{ data: DATA }, /model: synthetic data trains a U-Net/],
    [{ model: { name: 'unet2d', filters: [4, 8, 16] }, data: { ...DATA, size: 18 } }, /data\.size: 18 is not divisible by 2\^2 = 4 for the 3 levels of model\.filters/],
    [{ model: UNET, data: DATA, foreground: 0.3 }, /foreground: is the seed net's; a U-Net run's is data\.foreground/],
    [{ model: UNET, data: DATA, imageSize: 64 }, /imageSize: is the seed net's; a U-Net run's is data\.size/],
    [{ model: UNET, data: { ...DATA, path: 'x' } }, /data: Unrecognized key/],
    [{ model: { name: 'unet3d', filters: [4, 8, 16, 32, 64, 128] }, data: { name: 'folder', path: 'x', size: 48 } }, /data\.size: 48 is not divisible by 2\^5 = 32/],
    [{ model: UNET, data: { name: 'folder' } }, /data\.path: Invalid input: expected string/],
    [{ gradNormEvery: 5 }, /gradNormEvery: is a U-Net run's: the seed net logs every gradient norm every step/],
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

  it('trains U-Net runs beside seed-net runs: the same files for 1 and 2 workers; the report keeps them apart', async () => {
    const one = run('sweep', '--config', config('grid', 20), '--workers', '1', '--out', dir('one'));
    expect(one.status, one.stderr).toBe(0);
    const two = run('sweep', '--config', config('grid', 20), '--workers', '2', '--out', dir('two'));
    expect(two.status, two.stderr).toBe(0);
    expect(snapshot(dir('two'))).toEqual(snapshot(dir('one')));
    expect(ids(dir('one'))).toHaveLength(8);
    const rows = await logRows(dir('one'), 'unet2d-f4.8-bn1-syn64-adam-5fg-dice-run1');
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
    // Per-class Dice columns for every run; prediction overlays per U-Net cell, from its lowest seed's run.
    expect(html).toContain('<th>final Dice, background</th><th>final Dice, foreground</th>');
    expect(html).toContain('<h2>Predictions</h2>');
    expect(readdirSync(join(dir('one'), 'report', 'overlays')).sort()).toEqual(['unet2d-f4.8-bn1-syn64-adam-5fg-cce-run0.png', 'unet2d-f4.8-bn1-syn64-adam-5fg-dice-run0.png']);
    const png = decodePng(readFileSync(join(dir('one'), 'report', 'overlays', 'unet2d-f4.8-bn1-syn64-adam-5fg-dice-run0.png')));
    expect([png.width, png.height]).toEqual([3 * (2 * 128 + 4) + 2 * 8, 128]); // three 64² pictures, doubled
    const marker = JSON.parse(readFileSync(join(dir('one'), 'runs', 'unet2d-f4.8-bn1-syn64-adam-5fg-dice-run0.done.json'), 'utf8'));
    expect([marker.samples.size, marker.samples.count]).toEqual([64, 3]);
    expect(report.runs.find((r: { id: string }) => r.id === 'unet2d-f4.8-bn1-syn64-adam-5fg-dice-run0').finalDice).toEqual(marker.finalDice);
    // U-Net rows log the training loss's gradient norm every step, the other logged loss's every evalEvery steps.
    expect(rows.map((r) => r.gradNorms.dice > 0)).toEqual(Array(20).fill(true));
    expect(rows.flatMap((r) => (r.gradNorms.cce != null ? [r.step] : []))).toEqual([0, 10]);
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

  it('runs the unet-seed preset (54 runs) at a few steps: the seed\'s observations checked on the U-Net, SGD\'s not covered', async () => {
    expect(run('presets').stdout).toMatch(/^unet-seed +54 runs {2}The seed's grid on a U-Net/m);
    const out = run('sweep', '--preset', 'unet-seed', '--steps', '12', '--workers', '2', '--out', dir('preset-unet-seed'));
    expect(out.status, out.stderr).toBe(0);
    const report = JSON.parse(readFileSync(join(dir('preset-unet-seed'), 'report', 'report.json'), 'utf8'));
    expect(report.observations.map((o: { status: string }) => o.status)).toEqual(Array(5).fill('not covered')); // no run in the seed's setting
    const [unet, ...others] = report.modelObservations;
    expect(others).toEqual([]);
    expect(unet.model).toBe('unet2d [8, 16, 32], synthetic 64²');
    // Observation 1 needs SGD cells; 4 needs steps 0–1,000 (the full preset has them).
    expect(unet.checks.map((c: { status: string }) => c.status !== 'not covered')).toEqual([false, true, true, false, true]);
    expect(unet.checks[3].summary).toBe('no run of adam-bn0-50fg-dicefg logs steps 0–1000');
    expect(unet.checks[4].comparisons).toHaveLength(9); // observation 5: 3 training × 3 logged losses, 95% against 5% fg
    expect(out.stderr).toContain("\nthe seed's observations on unet2d [8, 16, 32], synthetic 64²:\n  2. ");
    expect(readFileSync(join(dir('preset-unet-seed'), 'report', 'index.html'), 'utf8')).toContain("<h2>The seed's observations on unet2d [8, 16, 32], synthetic 64²</h2>");
    // At 95% fg the shapes are the background: its runs' rows are the 5% runs' labels swapped, so the trivial solutions swap too.
    const rows = await logRows(dir('preset-unet-seed'), 'unet2d-f8.16.32-bn1-syn64-adam-95fg-cce-run0');
    expect(rows[0].gradNorms.dice).toBeGreaterThan(0); // gradNormEvery 10: every logged loss's norm at step 0
    expect(rows[1].gradNorms.dice).toBeNull();
  }, 300_000);
});

describe('U-Nets in 3D, gradient norms, and your own data in a sweep', () => {
  const dir = (name: string) => join(scratch, name);
  const write = (name: string, body: unknown) => {
    const path = join(scratch, `${name}.json`);
    writeFileSync(path, JSON.stringify(body));
    return path;
  };
  const rowsOf = (out: string, id: string) => logRows(out, id);

  it('trains a unet3d on synthetic volumes, with every logged loss\'s gradient norm every gradNormEvery steps and the same weights as without them', async () => {
    const path = write('volumes', {
      parameters: {
        model: { value: { name: 'unet3d', filters: [2, 4], batchNorm: true } },
        data: { value: { name: 'synthetic', size: 8, foreground: 0.2, trainImages: 3, valImages: 2 } },
        trainLoss: { values: ['cce', 'dice'] },
        loggedLosses: { value: ['cce', 'dice'] },
        gradNormEvery: { values: [0, 2] },
        batchSize: { value: 2 }, steps: { value: 6 }, evalEvery: { value: 3 }, seed: { value: 0 },
      },
    });
    const out = run('sweep', '--config', path, '--workers', '2', '--out', dir('volumes'));
    expect(out.status, out.stderr).toBe(0);
    const id = (loss: string, every: number) => `unet3d-f2.4-bn1-syn8-adam-20fg-${loss}-run0-gradNormEvery${every}`;
    const sparse = await rowsOf(dir('volumes'), id('dice', 2));
    const none = await rowsOf(dir('volumes'), id('dice', 0));
    // The training loss's norm every step; the other logged loss's at steps 0, 2, 4 only.
    expect(sparse.map((r) => r.gradNorms.dice > 0)).toEqual(Array(6).fill(true));
    expect(sparse.map((r) => r.gradNorms.cce != null)).toEqual([true, false, true, false, true, false]);
    expect(none.map((r) => r.gradNorms.cce)).toEqual(Array(6).fill(null));
    // The extra passes leave batch norm's averages as they were: the same losses, evaluations and training-loss norms.
    const trained = (rows: { losses: unknown; gradNorms: { dice: number }; dice?: number[]; accuracy?: number }[]) => rows.map((r) => [r.losses, r.gradNorms.dice, r.dice, r.accuracy]);
    expect(trained(sparse)).toEqual(trained(none));
    expect(sparse[3].dice).toHaveLength(2);
    // At step 0 both runs have the same weights and batch: the CCE norm of the Dice run's own pass is the CCE run's update norm.
    expect(sparse[0].gradNorms.cce).toBe((await rowsOf(dir('volumes'), id('cce', 2)))[0].gradNorms.cce);
    const html = readFileSync(join(dir('volumes'), 'report', 'index.html'), 'utf8');
    expect(html).toContain('unet3d [2, 4], synthetic 8³: ADAM, Batch Norm: True, 20% fg');
  }, 120_000);

  it('sweeps a folder of your own images: checked and measured once, its fingerprint kept, a changed folder refused on resume', async () => {
    const data = dir('own-images');
    writeImageSet(data, { count: 6, size: 16, foreground: 0.2, masks: 'binary255' });
    const spec = (path: string) => ({
      parameters: {
        model: { value: { name: 'unet2d', filters: [4, 8], batchNorm: true } },
        data: { value: { name: 'folder', path, size: 16, valFraction: 0.34 } },
        trainLoss: { values: ['cce', 'dice'] },
        batchSize: { value: 2 }, steps: { value: 4 }, evalEvery: { value: 2 }, seed: { value: 0 },
      },
    });
    const path = write('own', spec(data));
    const out = run('sweep', '--config', path, '--workers', '2', '--out', dir('own'));
    expect(out.status, out.stderr).toBe(0);
    const sweep = JSON.parse(readFileSync(join(dir('own'), 'sweep.json'), 'utf8'));
    expect(sweep.folders).toEqual([{ path: data, fingerprint: expect.stringMatching(/^[0-9a-f]{16}$/), foreground: expect.any(Number), pairs: 6, dims: 2 }]);
    const fg = sweep.folders[0].foreground;
    expect(fg).toBeGreaterThan(0.1);
    expect(fg).toBeLessThan(0.3);
    const id = `unet2d-f4.8-bn1-own-images16-adam-${+(+fg.toPrecision(4) * 100).toFixed(2)}fg-dice-run0`;
    expect(ids(dir('own'))).toContain(id);
    const rows = await rowsOf(dir('own'), id);
    expect(rows.map((r) => r.step)).toEqual([0, 1, 2, 3]);
    expect(rows[3].dice).toHaveLength(2);
    // Resuming the finished sweep is a no-op; after the folder changed it is refused, naming it.
    expect(run('sweep', '--config', path, '--workers', '1', '--out', dir('own'), '--resume').status).toBe(0);
    writeImageSet(data, { count: 7, size: 16, foreground: 0.2, masks: 'binary255' });
    const changed = run('sweep', '--config', path, '--workers', '1', '--out', dir('own'), '--resume');
    expect(changed.status).not.toBe(0);
    expect(changed.stderr).toContain(`the data changed since this sweep began (files added, removed or resized) in ${data}`);
  }, 120_000);

  it('refuses to merge shards trained on a folder that changed between them, naming it', () => {
    const data = dir('shard-images');
    writeImageSet(data, { count: 4, size: 16, foreground: 0.2, masks: 'binary255' });
    const path = write('shards', {
      parameters: {
        model: { value: { name: 'unet2d', filters: [4, 8], batchNorm: true } },
        data: { value: { name: 'folder', path: data, size: 16, valFraction: 0.25 } },
        trainLoss: { values: ['cce', 'dice'] }, batchSize: { value: 2 }, steps: { value: 2 }, evalEvery: { value: 1 }, seed: { value: 0 },
      },
    });
    expect(run('sweep', '--config', path, '--workers', '1', '--shard', '1/2', '--out', dir('fshard1')).status).toBe(0);
    // A file that changes the folder's fingerprint but not its pairs or foreground (so the plans agree).
    writeFileSync(join(data, 'notes.txt'), 'scanned on another day');
    expect(run('sweep', '--config', path, '--workers', '1', '--shard', '2/2', '--out', dir('fshard2')).status).toBe(0);
    const merged = run('merge', '--out', dir('fmerged'), dir('fshard1'), dir('fshard2'));
    expect(merged.status).not.toBe(0);
    expect(merged.stderr).toContain(`trained on different data: the data changed between the shards (files added, removed or resized) in ${data}`);
  }, 120_000);

  it('sweeps a unet3d on a folder of NIfTI volumes (the Decathlon layout), and refuses a unet2d on it, naming why', async () => {
    const data = dir('own-volumes');
    const shape = [12, 12, 12];
    for (const id of ['a', 'b', 'c']) {
      const labels = Array.from({ length: 12 ** 3 }, (_, i) => {
        const [z, y, x] = [Math.floor(i / 144), Math.floor(i / 12) % 12, i % 12];
        return (z - 6) ** 2 + (y - 6) ** 2 + (x - 5) ** 2 < 9 ? 1 : 0;
      });
      put(join(data, 'imagesTr', `${id}_0000.nii.gz`), writeNifti({ shape, data: labels.map((v, i) => 100 * v + (i % 7)), datatype: 'int16', gzip: true }));
      put(join(data, 'labelsTr', `${id}.nii.gz`), writeNifti({ shape, data: labels, datatype: 'uint8', gzip: true }));
    }
    const spec = (model: string) => ({
      parameters: {
        model: { value: { name: model, filters: [2, 4], batchNorm: true } },
        data: { value: { name: 'folder', path: data, size: 8, valPatches: 2, valFraction: 0.34 } },
        trainLoss: { value: 'dice-ce' }, batchSize: { value: 2 }, steps: { value: 3 }, evalEvery: { value: 2 }, seed: { value: 0 },
      },
    });
    const out = run('sweep', '--config', write('volumes3d', spec('unet3d')), '--workers', '1', '--out', dir('own3d'));
    expect(out.status, out.stderr).toBe(0);
    const [id] = ids(dir('own3d'));
    expect(id).toMatch(/^unet3d-f2\.4-bn1-own-volumes8-adam-[\d.]+fg-dice-ce-run0$/);
    const rows = await rowsOf(dir('own3d'), id);
    expect(rows.map((r) => r.step)).toEqual([0, 1, 2]);
    expect(rows[2].dice).toHaveLength(2);
    const marker = JSON.parse(readFileSync(join(dir('own3d'), 'runs', `${id}.done.json`), 'utf8'));
    expect([marker.samples.size, marker.samples.count]).toEqual([8, 2]); // the validation case's two fixed patches, each's middle slice
    const flat = run('sweep', '--config', write('volumes2d', spec('unet2d')), '--workers', '1', '--out', dir('own2d'));
    expect(flat.status).not.toBe(0);
    expect(flat.stderr).toContain(`parameters.model: ${id.replace('unet3d', 'unet2d')}: a unet2d trains on 2D data, and ${data} holds 3D volumes`);
    expect(existsSync(join(dir('own2d'), 'runs'))).toBe(false); // refused before any run
  }, 120_000);

  it('refuses folder data in a browser sweep (its workers read no paths), naming the run', async () => {
    const { runSweep } = await import('../src/sdk/sweep.browser.js');
    const spec = { parameters: { model: { value: UNET }, data: { value: { name: 'folder', path: 'x', size: 16, foreground: 0.2 } } } };
    await expect(runSweep(spec as never, { workerUrl: new URL('file:///nowhere.js') } as never)).rejects.toThrow(/parameters\.data: unet2d-f4\.8-bn1-x16-adam-20fg-cce-run0 trains on a folder \(x\): a browser sweep's workers read no paths/);
  });

  it('names a folder that does not exist, and a folder the data check refuses, before any run trains', () => {
    const missing = run('sweep', '--config', write('missing', { parameters: { model: { value: UNET }, data: { value: { name: 'folder', path: join(scratch, 'nowhere') } } } }), '--out', dir('missing'));
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toContain(`parameters.data.value.path: ${join(scratch, 'nowhere')}: no such folder`);
    const three = dir('three-classes');
    writeImageSet(three, { count: 2, size: 16, foreground: 0.2, masks: 'indices' });
    writeFileSync(join(three, 'masks', 'img-000.png'), maskBytes(new Uint8Array(256).fill(2), 16, 'indices'));
    const refused = run('sweep', '--config', write('three', { parameters: { model: { value: UNET }, data: { value: { name: 'folder', path: three, size: 16 } } } }), '--out', dir('three'));
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain(`data: ${three} cannot train a sweep's two-class runs`);
    expect(refused.stderr).toContain('img-000.png');
    expect(existsSync(join(dir('three'), 'runs'))).toBe(false);
  });
});
