/**
 * Training on your own data (`segloss train --data`, `segloss data check`, UNetTrainer.open): a
 * short 2D training whose validation Dice rises, a 3D one on NIfTI patches, a resume bit for bit,
 * a changed folder refused on resume, and the CLI's exit codes and messages.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../src/index.js'; // registers file://
import { UNetTrainer, type TrainingRow } from '../src/models/index.js';
import { checkData } from '../src/data/index.js';
import { maskBytes, put, writeImageSet } from './helpers/image_data.js';
import { writeSphereCases } from './helpers/nifti.js';
import { cli } from './helpers/sweep_dir.js';
import { useWasm } from './helpers/wasm.js';

const scratch = mkdtempSync(join(tmpdir(), 'segloss-train-data-'));
beforeAll(async () => { await useWasm('simd'); });
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { cwd: scratch, encoding: 'utf8' });

const folder2d = join(scratch, 'tiles');
writeImageSet(folder2d, { count: 16, size: 40, masks: 'binary255', images: 'rgb' });
writeImageSet(folder2d, { count: 4, size: 40, masks: 'binary255', images: 'rgb', split: 'val' });

describe('UNetTrainer on a folder', () => {
  it('trains a 2D U-Net on images and 0/255 masks: the validation Dice of the foreground rises', async () => {
    const trainer = await UNetTrainer.open({ data: { path: folder2d }, imageSize: 32, filters: [8, 16], batchNorm: false, steps: 160, evalEvery: 159, learningRate: 0.003, seed: 1 });
    expect([trainer.dims, trainer.classes, trainer.inputShape]).toEqual([2, 2, [32, 32, 3]]);
    expect(() => trainer.runStep()).toThrow(/use `await trainer.nextStep\(\)`/);
    const rows: TrainingRow[] = [];
    while (trainer.step < trainer.options.steps) rows.push(await trainer.nextStep());
    const [first, last] = rows.filter((r) => r.eval).map((r) => r.eval!);
    expect(last.dice[1]).toBeGreaterThan(first.dice[1] + 0.1);
    expect(last.dice[1]).toBeGreaterThan(0.7);
    trainer.dispose();
  });

  it('resumes bit for bit, and refuses a folder that changed since the run began', async () => {
    const options = { data: { path: folder2d, augment: { flip: true, rotate90: true, intensity: 0.1 } }, imageSize: 16, filters: [4, 8], steps: 12, evalEvery: 4, seed: 2 };
    const a = await UNetTrainer.open(options);
    const rows: TrainingRow[] = [];
    while (a.step < 5) rows.push(await a.nextStep());
    const checkpoint = join(scratch, 'ckpt');
    await a.save(checkpoint);
    while (a.step < options.steps) rows.push(await a.nextStep());
    const b = await UNetTrainer.resume(checkpoint);
    const resumed: TrainingRow[] = [];
    while (b.step < options.steps) resumed.push(await b.nextStep());
    expect(resumed).toEqual(rows.slice(5));
    a.dispose();
    b.dispose();
    put(join(folder2d, 'masks', 'extra.png'), maskBytes(new Uint8Array(1600), 40, 'indices'));
    put(join(folder2d, 'images', 'extra.png'), readFileSync(join(folder2d, 'images', 'img-000.png')));
    try {
      await expect(UNetTrainer.resume(checkpoint)).rejects.toThrow(/the data in .*tiles changed since this run began/);
    } finally {
      rmSync(join(folder2d, 'masks', 'extra.png'));
      rmSync(join(folder2d, 'images', 'extra.png'));
    }
  });

  it('trusts a data check already made (OpenHooks.checked): the same rows, and the same refusal of problems', async () => {
    const options = { data: { path: folder2d }, imageSize: 16, filters: [4, 8], steps: 4, evalEvery: 3, seed: 5 };
    const rowsOf = async (t: UNetTrainer) => {
      const rows: TrainingRow[] = [];
      while (t.step < options.steps) rows.push(await t.nextStep());
      t.dispose();
      return rows;
    };
    const checked = await checkData(folder2d);
    const reads: string[] = [];
    const trusted = await UNetTrainer.open(options, undefined, { checked, onCheckProgress: (_d, _t, file) => reads.push(file) });
    expect(reads).toEqual([]); // not checked again
    expect(await rowsOf(trusted)).toEqual(await rowsOf(await UNetTrainer.open(options)));
    const withProblem = { ...checked, problems: [{ code: 'missing-mask' as const, file: 'images/x.png', message: 'no mask for this image' }] };
    await expect(UNetTrainer.open(options, undefined, { checked: withProblem })).rejects.toThrow(/images\/x.png: no mask for this image/);
  });

  it('trains a 3D U-Net on NIfTI patches (Decathlon layout, nnU-Net channel suffix, three classes)', async () => {
    const dir = join(scratch, 'volumes');
    writeSphereCases(dir);
    const trainer = await UNetTrainer.open({ data: { path: dir, valPatches: 2 }, imageSize: 8, filters: [4, 8], batchSize: 2, steps: 6, evalEvery: 5 });
    expect([trainer.dims, trainer.classes, trainer.inputShape]).toEqual([3, 3, [8, 8, 8, 1]]);
    const rows: TrainingRow[] = [];
    while (trainer.step < 6) rows.push(await trainer.nextStep());
    expect(rows.every((r) => Number.isFinite(r.loss))).toBe(true);
    expect(rows[0].eval!.dice).toHaveLength(3);
    const pictures = trainer.predictions(2);
    expect([pictures.count, pictures.size, pictures.images.length]).toEqual([2, 8, 2 * 64]);
    trainer.dispose();
  });
});

describe('the CLI', () => {
  it('segloss data check: exit 0 and the summary when clean, exit 1 naming each problem, --json', () => {
    const clean = run('data', 'check', folder2d);
    expect(clean.status, clean.stderr).toBe(0);
    expect(clean.stdout).toMatch(/16 training pairs, 4 validation/);
    expect(clean.stdout).toMatch(/images: png 8-bit rgb \(20\); 3 channels/);
    expect(clean.stdout).toMatch(/no problems found/);
    const bad = join(scratch, 'bad');
    writeImageSet(bad, { count: 2, size: 16, masks: 'indices' });
    put(join(bad, 'masks', 'no-image.png'), maskBytes(new Uint8Array(256), 16, 'indices'));
    put(join(bad, 'images', 'img-001.png'), 'this is text');
    const found = run('data', 'check', bad);
    expect(found.status).toBe(1);
    expect(found.stdout).toContain('masks/no-image.png: no image for this mask in images/');
    expect(found.stdout).toContain('images/img-001.png: it is not a PNG or JPEG image (it holds text)');
    const json = run('data', 'check', bad, '--json');
    expect(json.status).toBe(1);
    expect(JSON.parse(json.stdout).problems.map((p: { file: string }) => p.file)).toEqual(['masks/no-image.png', 'images/img-001.png']);
  });

  it('segloss train --data refuses data with problems (exit 2, the same messages) and options that do not go together', () => {
    const bad = join(scratch, 'bad2');
    writeImageSet(bad, { count: 2, size: 16, masks: 'indices' });
    put(join(bad, 'masks', 'no-image.png'), maskBytes(new Uint8Array(256), 16, 'indices'));
    const refused = run('train', '--data', bad, '--out', join(scratch, 'refused'), '--steps', '2');
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('masks/no-image.png: no image for this mask in images/');
    expect(run('train', '--data', bad, '--foreground', '0.2').stderr).toMatch(/--foreground is for the synthetic data, not --data/);
    expect(run('train', '--classes', '3').stderr).toMatch(/--classes goes with --data DIR/);
    expect(run('train', '--data', bad, '--normalize', 'window:5,1').stderr).toMatch(/--normalize must be minmax, zscore, none or window:LO,HI/);
    expect(run('train', '--data', join(scratch, 'nowhere')).stderr).toMatch(/nowhere: no such folder/);
  });

  it('segloss train --data trains and writes the log, the checkpoint and the report', () => {
    const out = join(scratch, 'cli-run');
    const result = run('train', '--data', folder2d, '--size', '16', '--filters', '4,8', '--steps', '6', '--eval-every', '3', '--augment', '--out', out);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/tiles: 2D, 2 classes, input 16×16×3/);
    const rows = readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.map((r) => r.step)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(rows[3].eval.dice).toHaveLength(2);
    expect(readFileSync(join(out, 'report', 'index.html'), 'utf8')).toContain('your data:');
  });

  it('segloss train --data after a SIGKILL: --resume finishes the run as if uninterrupted, decode worker and augmentation on', async () => {
    const args = (out: string) => ['train', '--data', folder2d, '--out', out, '--size', '16', '--filters', '4,8', '--steps', '600', '--batch', '2',
      '--eval-every', '50', '--checkpoint-every', '20', '--augment', '--cache-mb', '0', '--seed', '4'];
    const reference = run(...args(join(scratch, 'kill-ref')));
    expect(reference.status, reference.stderr).toBe(0);
    const out = join(scratch, 'kill');
    const child = spawn(process.execPath, [cli, ...args(out)], { cwd: scratch, stdio: ['ignore', 'ignore', 'pipe'] });
    const logPath = join(out, 'log.jsonl');
    const deadline = Date.now() + 60_000;
    while (!(existsSync(logPath) && readFileSync(logPath, 'utf8').split('\n').length > 90) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const rows = readFileSync(logPath, 'utf8').trim().split('\n').length;
    expect(rows).toBeLessThan(600);
    // The command the run began with, --data's options included, given again with --resume.
    const resumed = run(...args(out), '--resume');
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(readFileSync(logPath, 'utf8')).toBe(readFileSync(join(scratch, 'kill-ref', 'log.jsonl'), 'utf8'));
    const other = run(...args(out), '--resume', '--cache-mb', '5', '--val-fraction', '0.5');
    expect(other.status).toBe(2);
    expect(other.stderr).toContain('--val-fraction 0.5 (the run\'s: 0.2); --cache-mb 5 (the run\'s: 0)');
    expect(readFileSync(join(out, 'checkpoint', 'model', 'weights.bin'))).toEqual(readFileSync(join(scratch, 'kill-ref', 'checkpoint', 'model', 'weights.bin')));
  }, 180_000);
});
