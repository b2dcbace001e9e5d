/**
 * Training a U-Net (src/models/train.ts, `segloss train`): a checkpoint resumes bit for bit (from
 * the SDK, and from the CLI after Ctrl-C), file:// save and load in plain Node, and bad input: bad
 * options, a resume with no checkpoint or with options, a run already there, a checkpoint whose
 * model is another architecture.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../src/index.js'; // registers file://
import { UNetTrainer, unet2d, type TrainingRow } from '../src/models/index.js';
import { decode as decodePng } from 'fast-png';
import { cli } from './helpers/sweep_dir.js';
import { useWasm } from './helpers/wasm.js';

const scratch = mkdtempSync(join(tmpdir(), 'segloss-train-'));
beforeAll(async () => { await useWasm('simd'); });
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const SMALL = { imageSize: 16, filters: [4, 8], steps: 24, batchSize: 2, trainImages: 6, validationImages: 3, evalEvery: 5, seed: 3 };

function weightsOf(trainer: UNetTrainer): number[][] {
  return trainer.model.getWeights().map((w) => Array.from(w.dataSync()));
}

describe('UNetTrainer', () => {
  it('resumes from a checkpoint bit for bit: the same rows, the same weights, moving averages and moments', async () => {
    const a = UNetTrainer.create(SMALL);
    const rows: TrainingRow[] = [];
    while (a.step < 10) rows.push(a.runStep());
    await a.save(join(scratch, 'ckpt'));
    while (a.step < SMALL.steps) rows.push(a.runStep());
    const b = await UNetTrainer.resume(join(scratch, 'ckpt'));
    expect(b.step).toBe(10);
    const resumed: TrainingRow[] = [];
    while (b.step < SMALL.steps) resumed.push(b.runStep());
    expect(resumed).toEqual(rows.slice(10));
    expect(weightsOf(b)).toEqual(weightsOf(a));
    expect(rows.at(-1)!.eval).toBeDefined(); // the last step evaluates
    expect(rows.filter((r) => r.eval).map((r) => r.step)).toEqual([0, 5, 10, 15, 20, 23]);
    a.dispose();
    b.dispose();
  });

  it('trains with every loss it names', () => {
    for (const loss of ['dice-ce', 'dice-focal', 'dice', 'cce', 'focal', 'generalized-dice', 'tversky', 'lovasz'] as const) {
      const t = UNetTrainer.create({ ...SMALL, loss, steps: 3 });
      const rows = [t.runStep(), t.runStep(), t.runStep()];
      expect(rows.every((r) => Number.isFinite(r.loss)), loss).toBe(true);
      t.dispose();
    }
  });

  it('refuses a checkpoint whose model is another architecture', async () => {
    const t = UNetTrainer.create(SMALL);
    await t.save(join(scratch, 'other'));
    t.dispose();
    const state = JSON.parse(readFileSync(join(scratch, 'other', 'state.json'), 'utf8'));
    state.options.filters = [4, 8, 8];
    writeFileSync(join(scratch, 'other', 'state.json'), JSON.stringify(state));
    await expect(UNetTrainer.resume(join(scratch, 'other'))).rejects.toThrow(/is not the architecture its state.json describes/);
    writeFileSync(join(scratch, 'other', 'state.json'), '{"format": "x"}');
    await expect(UNetTrainer.resume(join(scratch, 'other'))).rejects.toThrow(/not a segloss U-Net checkpoint/);
  });

  it('refuses bad options, naming the field', () => {
    expect(() => UNetTrainer.create({ ...SMALL, imageSize: 18, filters: [4, 8, 16] })).toThrow(/imageSize: 18 is not divisible by 2\^2 = 4/);
    expect(() => UNetTrainer.create({ ...SMALL, loss: 'nope' as never })).toThrow(/loss:/);
    expect(() => UNetTrainer.create({ ...SMALL, batchSize: 0 })).toThrow(/batchSize:/);
    expect(() => UNetTrainer.create({ ...SMALL, extra: 1 } as never)).toThrow(/extra/);
  });
});

describe('file:// in plain Node', () => {
  it('saves a tfjs-layers model with model.save and loads it with tf.loadLayersModel, weights intact', async () => {
    const model = unet2d({ inputShape: [16, 16, 1], classes: 2, filters: [4, 8], seed: 9 });
    const dir = join(scratch, 'saved');
    await model.save(`file://${dir}`);
    expect(existsSync(join(dir, 'model.json')) && existsSync(join(dir, 'weights.bin'))).toBe(true);
    const loaded = await tfl.loadLayersModel(`file://${join(dir, 'model.json')}`);
    expect(loaded.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(model.getWeights().map((w) => Array.from(w.dataSync())));
    const x = tf.randomUniform([1, 16, 16, 1], 0, 1, 'float32', 1);
    expect(Array.from((loaded.predict(x) as tf.Tensor).dataSync())).toEqual(Array.from((model.predict(x) as tf.Tensor).dataSync()));
    await expect(tfl.loadLayersModel(`file://${join(scratch, 'missing', 'model.json')}`)).rejects.toThrow(/cannot read .*missing.*model\.json/);
    model.dispose();
    loaded.dispose();
  });
});

describe('segloss train', () => {
  const args = (out: string, ...more: string[]) => ['train', '--out', out, '--size', '16', '--filters', '4,8', '--steps', '1500', '--batch', '2',
    '--train-images', '6', '--val-images', '2', '--eval-every', '50', '--checkpoint-every', '20', '--seed', '1', ...more];
  const run = (...a: string[]) => spawnSync(process.execPath, [cli, ...a], { cwd: scratch, encoding: 'utf8' });

  it('stops on Ctrl-C with a checkpoint, and --resume finishes the run as if uninterrupted (on another thread count: the same bits)', async () => {
    const reference = run(...args(join(scratch, 'cli-ref')), '--threads', '1');
    expect(reference.status, reference.stderr).toBe(0);
    expect(reference.stderr).toMatch(/1500 steps, 1 thread →/);
    const out = join(scratch, 'cli-int');
    const child = spawn(process.execPath, [cli, ...args(out), '--threads', '2'], { cwd: scratch, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (chunk) => { stderr += chunk; });
    const logPath = join(out, 'log.jsonl');
    const deadline = Date.now() + 60_000;
    while (!(existsSync(logPath) && readFileSync(logPath, 'utf8').split('\n').length > 60) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGINT');
    const code = await new Promise((r) => child.once('exit', r));
    expect(code, stderr).toBe(130);
    expect(stderr).toMatch(/interrupted at step \d+: the checkpoint is saved; rerun with --resume/);
    expect(readFileSync(logPath, 'utf8').trim().split('\n').length).toBeLessThan(1500);
    // The command the run began with, given again with --resume (as `segloss sweep --resume` takes it).
    expect(stderr).toMatch(/1500 steps, 2 threads →/);
    const resumed = run(...args(out), '--resume', '--threads', '1');
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/from step \d+/);
    expect(readFileSync(logPath, 'utf8')).toBe(readFileSync(join(scratch, 'cli-ref', 'log.jsonl'), 'utf8'));
    expect(readFileSync(join(out, 'checkpoint', 'model', 'weights.bin'))).toEqual(readFileSync(join(scratch, 'cli-ref', 'checkpoint', 'model', 'weights.bin')));
    // The report: curves, the prediction picture, the last validation scores.
    for (const f of ['index.html', 'loss.svg', 'validation.svg', 'predictions.png']) expect(existsSync(join(out, 'report', f)), f).toBe(true);
    expect(readFileSync(join(out, 'report', 'loss.svg'), 'utf8')).toMatch(/^<svg/);
    expect(readFileSync(join(out, 'report', 'index.html'), 'utf8')).toMatch(/last validation.*step 1499/s);
    // Validation images, labels and predictions side by side (three columns of equal width, 4-px gaps), in RGB.
    const png = decodePng(readFileSync(join(out, 'report', 'predictions.png')));
    expect(png.channels).toBe(3);
    expect((png.width - 8) % 3).toBe(0);
    expect(png.height).toBeGreaterThanOrEqual((png.width - 8) / 3);
  }, 180_000);

  it('trains a 3D U-Net on synthetic volumes (--dims 3) on 2 threads; --dims goes with the synthetic data only', () => {
    const out = join(scratch, 'cli-3d');
    const result = run('train', '--out', out, '--dims', '3', '--size', '8', '--filters', '4,8', '--steps', '3', '--batch', '2',
      '--train-images', '4', '--val-images', '1', '--eval-every', '2', '--threads', '2');
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/unet3d 8³ filters \[4, 8\] BN, dice-ce, batch 2, 3 steps, 2 threads →/);
    const rows = readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.map((r) => r.step)).toEqual([0, 1, 2]);
    expect(JSON.parse(readFileSync(join(out, 'checkpoint', 'state.json'), 'utf8')).options).toMatchObject({ dims: 3, imageSize: 8 });
    expect(JSON.parse(readFileSync(join(out, 'checkpoint', 'state.json'), 'utf8')).options.threads).toBeUndefined();
    const withData = run('train', '--out', join(scratch, 'cli-3d-data'), '--dims', '3', '--data', scratch);
    expect(withData.status).toBe(2);
    expect(withData.stderr).toMatch(/--dims is for the synthetic data, not --data/);
    const tooMany = run('train', '--out', join(scratch, 'cli-3d-many'), '--size', '16', '--filters', '4,8', '--steps', '1', '--batch', '2',
      '--train-images', '2', '--val-images', '1', '--threads', '5');
    expect(tooMany.status, tooMany.stderr).toBe(0);
    expect(tooMany.stderr).toMatch(/5 threads for a batch of 2: each thread takes at least one image, so 2 threads/);
    expect(tooMany.stderr).toMatch(/1 steps, 2 threads →/);
  }, 60_000);

  it.each([
    [['--size', '30', '--filters', '8,16,32'], /imageSize: 30 is not divisible by 2\^2 = 4/],
    [['--loss', 'nope'], /loss:/],
    [['--foreground', '0.999'], /foreground:/],
  ])('exits 2 on bad options %j, naming the field', (extra, message) => {
    const out = run('train', '--out', join(scratch, 'bad'), '--steps', '2', ...extra);
    expect(out.status).toBe(2);
    expect(out.stderr).toMatch(message);
    expect(existsSync(join(scratch, 'bad'))).toBe(false);
  });

  it('exits 2 on a resume with nothing to resume or with options that differ from the run\'s (naming each), and on a run already there', () => {
    const none = run('train', '--out', join(scratch, 'nothing'), '--resume');
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/holds no checkpoint/);
    const withOptions = run(...args(join(scratch, 'cli-ref')), '--resume', '--steps', '9', '--lr', '0.01');
    expect(withOptions.status).toBe(2);
    expect(withOptions.stderr).toContain('--resume continues the run as it began: --steps 9 (the run\'s: 1500); --lr 0.01 (the run\'s: 0.001). Drop them, or train a new run in another --out');
    const onData = run('train', '--out', join(scratch, 'cli-ref'), '--resume', '--data', scratch);
    expect(onData.status).toBe(2);
    expect(onData.stderr).toContain('--data: the run trained on the synthetic data');
    const again = run(...args(join(scratch, 'cli-ref')));
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/already holds a training run: resume it \(--resume\)/);
  });
});
