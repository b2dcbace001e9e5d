/**
 * The sweep SDK and CLI on the built package (dist/): a pool of real workers, determinism across
 * worker counts, shard + merge = unsharded bit for bit, resume after an abort and after a SIGKILLed
 * process, a worker that dies or throws (with a stand-in worker), and bad configs.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mergeSweeps, parseRunConfig, runSweep, trainLanes, type StepLog, type SweepSpec } from '../dist/index.js';
import { cli, cli as cliPath, logLines, logRows, snapshot } from './helpers/sweep_dir.js';

const scratch = mkdtempSync(join(tmpdir(), 'segloss-sweep-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const dir = (name: string) => join(scratch, name);

const QUICK: SweepSpec = { preset: 'quick', steps: 40 };

describe('runSweep with real workers', () => {
  it('trains every run in 2 workers and writes the documented files', async () => {
    const progress: string[] = [];
    const result = await runSweep(QUICK, { outDir: dir('two'), workers: 2, onProgress: (p) => progress.push(p.runId) });
    expect(result.runs.map((r) => r.id)).toEqual([
      'adam-bn0-95fg-cce-run0', 'adam-bn0-95fg-dicefg-run0', 'adam-bn0-95fg-dice-run0',
      'adam-bn1-95fg-cce-run0', 'adam-bn1-95fg-dicefg-run0', 'adam-bn1-95fg-dice-run0',
    ]);
    expect(result.failed).toEqual([]);
    for (const run of result.runs) {
      const lines = await logLines(dir('two'), run.id);
      expect(lines).toHaveLength(40);
      const first = JSON.parse(lines[0]);
      expect(Object.keys(first.losses).sort()).toEqual(['cce', 'dice', 'dicefg']);
      expect(first.accuracy).toBeGreaterThan(0);
      expect(run.status).toBe('completed');
    }
    expect(readFileSync(join(dir('two'), 'summary.csv'), 'utf8').trim().split('\n')).toHaveLength(7);
    expect(new Set(progress).size).toBe(6);
  });

  it('writes bit-identical files with 1 worker', async () => {
    await runSweep(QUICK, { outDir: dir('one'), workers: 1 });
    expect(snapshot(dir('one'))).toEqual(snapshot(dir('two')));
  });

  it('shards merge into exactly the unsharded sweep', async () => {
    await runSweep(QUICK, { outDir: dir('shard1'), workers: 1, shard: { current: 1, total: 2 } });
    await runSweep(QUICK, { outDir: dir('shard2'), workers: 1, shard: { current: 2, total: 2 } });
    const done = (d: string) => readdirSync(join(d, 'runs')).filter((f) => f.endsWith('.done.json')).sort();
    // Shard 1/2 has runs 0, 2, 4 of the plan (counted from 0), shard 2/2 runs 1, 3, 5.
    expect(done(dir('shard1'))).toEqual(['adam-bn0-95fg-cce-run0', 'adam-bn0-95fg-dice-run0', 'adam-bn1-95fg-dicefg-run0']
      .map((id) => `${id}.done.json`));
    expect(done(dir('shard2'))).toHaveLength(3);
    const merged = mergeSweeps([dir('shard1'), dir('shard2')], dir('merged'));
    expect(merged.missing).toEqual([]);
    expect(snapshot(dir('merged'))).toEqual(snapshot(dir('two')));
  });

  it.each([
    [{ current: 0, total: 2 }, /1 ≤ i ≤ N, got 0\/2: shards count from 1/],
    [{ current: 3, total: 2 }, /1 ≤ i ≤ N, got 3\/2/],
    [{ current: 1.5, total: 2 }, /1 ≤ i ≤ N/],
    [{ index: 0, count: 2 }, /counted from 1 .*\{ index, count \} \(from 0\) is gone/],
  ])('refuses the shard %j before writing anything', async (shard, message) => {
    const out = dir(`bad-shard-${JSON.stringify(shard).replace(/\W+/g, '')}`);
    await expect(runSweep(QUICK, { outDir: out, workers: 1, shard: shard as never })).rejects.toThrow(message);
    expect(existsSync(out)).toBe(false);
  });

  it('refuses a bad worker count before writing anything', async () => {
    await expect(runSweep(QUICK, { outDir: dir('bad-workers'), workers: 0 })).rejects.toThrow(/workers must be a positive integer, got 0/);
    expect(existsSync(dir('bad-workers'))).toBe(false);
  });

  it('refuses to overwrite a sweep without resume, and resumes an aborted one', async () => {
    await expect(runSweep(QUICK, { outDir: dir('two'), workers: 1 })).rejects.toThrow(/already holds a sweep/);
    const controller = new AbortController();
    const aborted = await runSweep({ preset: 'quick', steps: 400 }, {
      outDir: dir('aborted'), workers: 2, signal: controller.signal,
      onProgress: (p) => { if (p.completedRuns >= 1) controller.abort(); },
    });
    expect(aborted.aborted).toBe(true);
    expect(aborted.runs.length).toBeGreaterThanOrEqual(1);
    expect(aborted.runs.length).toBeLessThan(6);
    const kept = aborted.runs.map((r) => r.id);
    const before = Object.fromEntries(kept.map((id) => [id, readFileSync(join(dir('aborted'), 'runs', `${id}.parquet`), 'base64')]));
    const trained = new Set<string>();
    const resumed = await runSweep({ preset: 'quick', steps: 400 }, {
      outDir: dir('aborted'), workers: 2, resume: true, onProgress: (p) => trained.add(p.runId),
    });
    expect(resumed.resumed).toBe(kept.length);
    expect(resumed.runs).toHaveLength(6);
    for (const id of kept) {
      expect(trained.has(id), `${id} was complete and must not be trained again`).toBe(false);
      expect(readFileSync(join(dir('aborted'), 'runs', `${id}.parquet`), 'base64')).toBe(before[id]);
    }
  });
});

describe('engines', () => {
  const rowsOf = async (out: string, id: string) => (await logRows(out, id)) as unknown as StepLog[];

  it('logs in the workers what trainLanes logs in this process, bit for bit', async () => {
    const sweep = JSON.parse(readFileSync(join(dir('two'), 'sweep.json'), 'utf8'));
    expect(sweep.engine).toBe('lanes');
    const run = sweep.runs[4]; // adam-bn1-95fg-dicefg-run0: trained in a group of three
    const here: StepLog[] = [];
    for (const rows of trainLanes([parseRunConfig(run.config)])) here.push(rows[0]!);
    const json = (r: StepLog) => JSON.parse(JSON.stringify({ step: r.step, losses: r.losses, gradNorms: r.gradNorms,
      ...(r.eval ? { accuracy: r.eval.accuracy, dice: r.eval.dice, iou: r.eval.iou } : {}) }));
    expect(await rowsOf(dir('two'), run.id)).toEqual(here.map(json));
  });

  it('trains on tfjs ops with engine \'tfjs\', agreeing with the lane engine to float32 summation order', async () => {
    const result = await runSweep(QUICK, { outDir: dir('tfjs'), workers: 2, engine: 'tfjs' });
    expect(result.failed).toEqual([]);
    expect(JSON.parse(readFileSync(join(dir('tfjs'), 'sweep.json'), 'utf8')).engine).toBe('tfjs');
    for (const run of result.runs) {
      const a = await rowsOf(dir('tfjs'), run.id);
      const b = await rowsOf(dir('two'), run.id);
      expect(a).toHaveLength(40);
      a.forEach((row, k) => {
        for (const name of Object.keys(row.losses) as (keyof StepLog['losses'])[]) {
          expect(Math.abs(row.losses[name]! - b[k].losses[name]!), `${run.id} ${k} ${name}`).toBeLessThanOrEqual(1e-4 * Math.abs(b[k].losses[name]!));
        }
      });
      expect(a).not.toEqual(b); // different arithmetic: not bit for bit
    }
  });

  it('refuses an unknown engine, and a resume naming another engine or a merge across engines, before writing anything', async () => {
    await expect(runSweep(QUICK, { outDir: dir('bad-engine'), workers: 1, engine: 'gpu' as never })).rejects.toThrow(/engine must be 'lanes' or 'tfjs', got "gpu"/);
    expect(existsSync(dir('bad-engine'))).toBe(false);
    const kept = snapshot(dir('tfjs'));
    await expect(runSweep(QUICK, { outDir: dir('tfjs'), workers: 1, resume: true, engine: 'lanes' }))
      .rejects.toThrow(/was trained with engine 'tfjs': resume it with that engine \(--engine tfjs\)/);
    expect(() => mergeSweeps([dir('tfjs'), dir('two')], dir('mixed'))).toThrow(/trained with engine 'lanes', .* with 'tfjs'/);
    expect(snapshot(dir('tfjs'))).toEqual(kept);
    const again = await runSweep(QUICK, { outDir: dir('tfjs'), workers: 1, resume: true, engine: 'tfjs' });
    expect(again.resumed).toBe(6);
  });

  it('resumes with the sweep\'s own engine when none is named (npm start on a directory from before the lockstep engine)', async () => {
    const again = await runSweep(QUICK, { outDir: dir('tfjs'), workers: 1, resume: true });
    expect(again.resumed).toBe(6);
    expect(JSON.parse(readFileSync(join(dir('tfjs'), 'sweep.json'), 'utf8')).engine).toBe('tfjs');
    const cli = spawnSync(process.execPath, [cliPath, 'sweep', '--preset', 'quick', '--steps', '40', '--out', dir('tfjs'), '--resume'], { encoding: 'utf8' });
    expect(cli.status).toBe(0);
    expect(cli.stderr).toContain('6 runs complete: 0 trained here, 6 kept from before');
  });

  it('resumes a sweep written before a config field existed (invertInput), and still refuses another plan', async () => {
    const path = join(dir('two'), 'sweep.json');
    const sweep = JSON.parse(readFileSync(path, 'utf8'));
    // As an older segloss wrote it: no invertInput in any config.
    for (const run of sweep.runs) delete run.config.invertInput;
    writeFileSync(path, JSON.stringify(sweep, null, 2));
    const again = await runSweep(QUICK, { outDir: dir('two'), workers: 1, resume: true });
    expect(again.resumed).toBe(6);
    expect(again.trained).toBe(0);
    await expect(runSweep({ ...QUICK, steps: QUICK.steps! + 1 }, { outDir: dir('two'), workers: 1, resume: true }))
      .rejects.toThrow(/holds a different sweep/);
  });
});

describe('a worker that dies or throws', () => {
  it('fails only its run, is replaced, and the sweep goes on', async () => {
    const spec: SweepSpec = { parameters: { seed: { values: [0, 1, 2, 3, 4] }, steps: { value: 10 } } };
    const result = await runSweep(spec, {
      outDir: dir('faulty'), workers: 2, workerUrl: new URL('./fixtures/fake-worker.mjs', import.meta.url),
    });
    expect(result.runs.map((r) => r.config.seed)).toEqual([0, 3, 4]);
    const failures = Object.fromEntries(result.failed.map((f) => [f.id, f.error]));
    expect(failures['adam-bn0-95fg-cce-run1']).toMatch(/exited with code 3/);
    expect(failures['adam-bn0-95fg-cce-run2']).toMatch(/fake failure in run\(\)/);
    expect(JSON.parse(readFileSync(join(dir('faulty'), 'runs', 'adam-bn0-95fg-cce-run1.failed.json'), 'utf8')).error)
      .toMatch(/exited with code 3/);
  });
});

describe('the segloss CLI', () => {
  const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { cwd: scratch, encoding: 'utf8' });

  it('renders the report of a sweep directory, and answers --help', () => {
    const out = run('report', dir('two'));
    expect(out.status).toBe(0);
    const html = readFileSync(join(dir('two'), 'report', 'index.html'), 'utf8');
    expect(html).toContain('adam-bn1-95fg-dice-run0');
    expect(readdirSync(join(dir('two'), 'report', 'figures')).sort()).toEqual([
      'adam-bn0-95fg-run0.png', 'adam-bn0-95fg-run0.svg', 'adam-bn1-95fg-run0.png', 'adam-bn1-95fg-run0.svg',
    ]);
    const help = run('sweep', '--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/--resume/);
  });

  it('lists the presets', () => {
    const out = run('presets');
    expect(out.status).toBe(0);
    expect(out.stdout).toMatch(/^seed +108 runs/m);
    expect(out.stdout).toMatch(/^quick +6 runs/m);
    expect(out.stdout).toMatch(/^puzzle +24 runs/m);
    expect(out.stdout).toMatch(/^losses +48 runs/m);
  });

  it.each([['puzzle', 24], ['losses', 48]] as const)('runs the %s preset at a few steps, every run complete (the zoo\'s on tfjs ops beside the lanes)', (preset, runs) => {
    const out = run('sweep', '--preset', preset, '--steps', '3', '--workers', '2', '--out', dir(`preset-${preset}`));
    expect(out.stderr).toContain(`${runs} runs complete: ${runs} trained here`);
    expect(out.status).toBe(0);
    const csv = readFileSync(join(dir(`preset-${preset}`), 'summary.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(runs + 1);
    expect(csv[0]).toMatch(/^id,optimizer,batchNorm,foreground,invertInput,trainLoss,seed,status,/);
    if (preset === 'losses') {
      expect(csv[0].split(',')).toEqual(expect.arrayContaining(['final_generalized-dice', 'final_tversky', 'final_focal', 'final_dice-ce', 'final_lovasz']));
    } else {
      expect(csv.filter((line) => line.includes('-inv-'))).toHaveLength(12);
      expect(csv.filter((line) => line.includes('-inv-')).every((line) => line.split(',')[4] === 'true')).toBe(true);
    }
  });

  it.each([
    [['sweep'], /exactly one of --preset NAME or --config FILE/],
    [['sweep', '--preset', 'nope'], /preset/],
    [['sweep', '--preset', 'quick', '--shard', '3/2'], /--shard must be i\/N with 1 ≤ i ≤ N \(counted from 1, as in Vitest, Jest and Playwright\), got '3\/2'/],
    [['sweep', '--preset', 'quick', '--shard', '0/2'], /got '0\/2'; shards count from 1, so the first of 2 is 1\/2/],
    [['sweep', '--preset', 'quick', '--shard', 'two'], /--shard must be i\/N/],
    [['sweep', '--preset', 'quick', '--claim-timeout', '0'], /--claim-timeout must be a positive number of seconds/],
    [['sweep', '--preset', 'quick', '--steps', '0'], /--steps must be a positive integer/],
    [['sweep', '--config', 'missing.json'], /cannot read missing\.json/],
    [['sweep', '--preset', 'quick', '--engine', 'gpu'], /--engine.*'gpu' is invalid. Allowed choices are lanes, tfjs/],
  ])('exits 2 naming the problem: %j', (args, message) => {
    const out = run(...(args as string[]));
    expect(out.status).toBe(2);
    expect(out.stderr).toMatch(message as RegExp);
  });

  it('lists the benchmarks, and runs those named, writing their rows as JSON', () => {
    const list = run('bench', '--list');
    expect(list.status).toBe(0);
    expect(list.stdout.split('\n').filter(Boolean).map((l) => l.split(/ +/)[0]))
      .toEqual(['exp', 'kernels', 'losses', 'zoo', 'conv', 'step', 'sweep', 'threads', 'unet', 'report', 'data']);
    const out = run('bench', 'exp', '--quick', '--json', 'bench.json');
    expect(out.status).toBe(0);
    expect(out.stdout).toMatch(/^=== exp: /m);
    expect(out.stdout).not.toMatch(/^=== kernels/m);
    const json = JSON.parse(readFileSync(join(scratch, 'bench.json'), 'utf8'));
    expect(json.quick).toBe(true);
    expect(json.results.exp.map((r: { name: string }) => r.name)).toEqual(['exp simd', 'log simd', 'exp scalar', 'log scalar']);
    for (const r of json.results.exp) expect(r.medianMs).toBeGreaterThan(0);
    const bad = run('bench', 'nope');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/unknown benchmark nope/);
  });

  it('runs bench threads from the build: UNetTrainer\'s 2D and 3D steps on 1 and 2 threads, ratios against one thread', () => {
    const out = run('bench', 'threads', '--quick', '--steps', '1', '--json', 'threads.json');
    expect(out.status, out.stderr).toBe(0);
    const rows = JSON.parse(readFileSync(join(scratch, 'threads.json'), 'utf8')).results.threads;
    expect(rows.map((r: { threads: number; dims: number }) => [r.dims, r.threads])).toEqual([[2, 1], [2, 2], [3, 1], [3, 2]]);
    for (const r of rows) expect(r.medianMs).toBeGreaterThan(0);
    expect(rows[1].ratio).toBeCloseTo(rows[1].medianMs / rows[0].medianMs, 12);
    expect(out.stdout).toMatch(/unet2d 64² batch 4, filters \[16, 32, 64, 128\], 2 threads: +\d+ ms a step/);
  }, 120_000);

  it('exits 2 on a config whose run fields are invalid, naming the field', () => {
    writeFileSync(join(scratch, 'bad.json'), JSON.stringify({ parameters: { batchSize: { value: 0 } } }));
    const out = run('sweep', '--config', 'bad.json');
    expect(out.status).toBe(2);
    expect(out.stderr).toMatch(/parameters\.batchSize/);
  });

  it('stops on Ctrl-C (SIGINT) with exit code 130, leaving the sweep resumable', async () => {
    const out = dir('interrupted');
    const child = spawn(process.execPath, [cli, 'sweep', '--preset', 'quick', '--steps', '2000', '--workers', '2', '--out', out],
      { cwd: scratch, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (chunk) => { stderr += chunk; });
    const deadline = Date.now() + 30_000;
    while (!existsSync(join(out, 'runs', 'adam-bn0-95fg-cce-run0.jsonl')) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGINT');
    const code = await new Promise((r) => child.once('exit', r));
    expect(code).toBe(130);
    expect(stderr).toMatch(/interrupted: rerun with --resume/);
    expect(readdirSync(join(out, 'runs')).filter((f) => f.endsWith('.done.json')).length).toBeLessThan(6);
  });

  it('loses no finished run to a SIGKILL, and --resume finishes the sweep as if uninterrupted', async () => {
    const out = dir('killed');
    const args = ['sweep', '--preset', 'quick', '--steps', '600', '--workers', '2', '--out', out];
    const child = spawn(process.execPath, [cli, ...args], { cwd: scratch, stdio: 'ignore' });
    const doneFiles = () => (existsSync(join(out, 'runs')) ? readdirSync(join(out, 'runs')).filter((f) => f.endsWith('.done.json')) : []);
    const deadline = Date.now() + 60_000;
    while (doneFiles().length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const survivors = doneFiles();
    expect(survivors.length).toBeGreaterThanOrEqual(2);
    for (const f of survivors) {
      const id = f.replace('.done.json', '');
      expect(JSON.parse(readFileSync(join(out, 'runs', f), 'utf8')).status).toBe('completed');
      expect(await logLines(out, id)).toHaveLength(600);
    }
    expect(run(...args, '--resume').status).toBe(0);
    expect(run('sweep', '--preset', 'quick', '--steps', '600', '--workers', '2', '--out', dir('clean')).status).toBe(0);
    expect(snapshot(out)).toEqual(snapshot(dir('clean')));
  });
});
