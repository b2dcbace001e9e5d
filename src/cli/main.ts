/**
 * The `segloss` command: sweep, report, merge, presets, bench, train. Exit codes: 0 done, 1 some runs
 * failed or a file could not be written (the message names the path and the cause), 2 bad flags or
 * config (the message names the field), 130 interrupted (Ctrl-C; rerun with --resume to continue).
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../experiment/config.js';
import { presets } from '../experiment/presets.js';
import { mergeSweeps } from '../sdk/merge.js';
import { io as fsio, SweepIOError, writeAtomic } from '../sdk/fsio.js';
import { parseSweepSpec, planSweep, shardOf, type Shard, type SweepSpec } from '../sdk/plan.js';
import { runSweep, seglossVersion, type SweepProgress, type SweepResult } from '../sdk/sweep.js';
import { observationLines } from '../report/observations.js';
import { puzzleLines } from '../report/puzzle.js';
import { writeReport } from '../report/write.js';
import { BENCHMARKS } from '../bench/suite.js';
import type { UNetTrainer as Trainer } from '../models/train.js';

class UsageError extends Error {}

function positiveInt(name: string) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a positive integer, got '${value}'`);
    return n;
  };
}

function shardArg(value: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(value.trim());
  const [current, total] = m ? [Number(m[1]), Number(m[2])] : [NaN, NaN];
  if (!(current >= 1 && current <= total)) {
    const hint = current === 0 ? `; shards count from 1, so the first of ${total} is 1/${total}` : '';
    throw new InvalidArgumentError(`--shard must be i/N with 1 ≤ i ≤ N (counted from 1, as in Vitest, Jest and Playwright), got '${value}'${hint}`);
  }
  return { current, total };
}

function secondsArg(name: string) {
  return (value: string) => {
    const n = Number(value);
    if (!(n > 0) || !Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a positive number of seconds, got '${value}'`);
    return n;
  };
}

function formatSeconds(s: number | null): string {
  if (s == null || !Number.isFinite(s)) return '?';
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.round(s)}s`;
}

/** A message on its own line (clearing a live progress line on a TTY). */
function noticePrinter(stream: NodeJS.WriteStream, prefix: string): (message: string) => void {
  return (message) => stream.write(`${stream.isTTY ? '\r\x1b[K' : ''}${prefix}${message}\n`);
}

/** A live line on a TTY, a plain line every few seconds otherwise. */
function progressPrinter(stream: NodeJS.WriteStream): (p: SweepProgress) => void {
  let last = 0;
  return (p) => {
    const now = Date.now();
    const losses = Object.entries(p.losses).map(([k, v]) => `${k} ${(v as number).toFixed(4)}`).join(' ');
    const line = `[${p.completedRuns}/${p.totalRuns} runs${p.failedRuns ? `, ${p.failedRuns} failed` : ''}] `
      + `${p.runId} step ${p.step + 1}/${p.steps}  ${losses}  eta ${formatSeconds(p.etaSeconds)}`;
    if (stream.isTTY) {
      if (now - last < 100) return;
      stream.write(`\r${line.slice(0, (stream.columns ?? 120) - 1).padEnd((stream.columns ?? 120) - 1)}`);
    } else {
      if (now - last < 5000) return;
      stream.write(`${line}\n`);
    }
    last = now;
  };
}

export async function main(argv: string[]): Promise<number> {
  const program = new Command('segloss')
    .description('segmentation losses on the CPU: the CCE vs Dice study as sweeps')
    .version(seglossVersion(), '-v, --version', 'print segloss\'s version')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  let exitCode = 0;

  program.command('sweep')
    .description('train every run of a preset or sweep config in parallel workers; writes DIR/sweep.json, runs/, summary.csv')
    .option('--preset <name>', `a preset: ${Object.keys(presets).join(', ')}`)
    .option('--config <file>', 'a sweep config (JSON): {"parameters": {"trainLoss": {"values": [...]}, "seed": {"values": [0, 1]}}}')
    .option('--steps <n>', 'training steps of every run', positiveInt('--steps'))
    .option('--runs <r>', 'runs (seeds) per grid cell', positiveInt('--runs'))
    .option('--workers <k>', 'parallel workers (default: available cores)', positiveInt('--workers'))
    .option('--out <dir>', 'output directory (default: sweep-<preset or config name>)')
    .option('--resume', 'continue the sweep in --out: keep complete runs, redo the rest; '
      + 'several processes may resume one directory at once and share its runs')
    .option('--shard <i/N>', 'run only shard i of N, counted from 1: 1/3, 2/3, 3/3 (see segloss merge)', shardArg)
    .option('--claim-timeout <seconds>', 'take over a run whose owner has shown no heartbeat for this long (default 30)',
      secondsArg('--claim-timeout'))
    .addOption(new Option('--engine <name>', 'lanes: the lockstep engine, four runs of one architecture per wasm call; '
      + 'tfjs: every run on tfjs ops (the reference path); default: lanes, and on --resume the sweep\'s own').choices(['lanes', 'tfjs']))
    .action(async (opts) => {
      if ((opts.preset == null) === (opts.config == null)) throw new UsageError('give exactly one of --preset NAME or --config FILE');
      let spec: SweepSpec;
      if (opts.preset) {
        spec = { preset: opts.preset };
      } else {
        let text: string;
        try {
          text = readFileSync(opts.config, 'utf8');
        } catch (e) {
          throw new UsageError(`--config: cannot read ${opts.config}: ${(e as Error).message}`);
        }
        try {
          spec = JSON.parse(text);
        } catch (e) {
          throw new UsageError(`--config: ${opts.config} is not valid JSON: ${(e as Error).message}`);
        }
      }
      if (opts.steps) spec = { ...spec, steps: opts.steps };
      if (opts.runs) spec = { ...spec, runs: opts.runs };
      const parsed = parseSweepSpec(spec);
      const plan = planSweep(parsed);
      const name = opts.preset ?? (opts.config as string).replace(/^.*\//, '').replace(/\.json$/, '');
      const shard = opts.shard as Shard | undefined;
      const outDir = opts.out ?? `sweep-${name}${shard ? `-shard${shard.current}of${shard.total}` : ''}`;
      const controller = new AbortController();
      const interrupt = () => controller.abort();
      process.once('SIGINT', interrupt);
      process.once('SIGTERM', interrupt);
      process.stderr.write(`segloss sweep: ${plan.length} runs${shard ? ` (shard ${shard.current}/${shard.total}: ${shardOf(plan, shard).length} runs)` : ''} → ${outDir}\n`);
      const notice = noticePrinter(process.stderr, 'segloss: ');
      try {
        let result: SweepResult;
        try {
          result = await runSweep(parsed, {
            outDir, workers: opts.workers, resume: opts.resume, shard, signal: controller.signal, engine: opts.engine,
            onProgress: progressPrinter(process.stderr), onNotice: notice,
            claimTimeoutMs: opts.claimTimeout != null ? opts.claimTimeout * 1000 : undefined,
          });
        } catch (error) {
          if (error instanceof SweepIOError) {
            // Exit 1 (below) with the path, the cause and what to do.
            throw new Error(`${error.message}\nsegloss: the sweep stopped: fix the cause, then rerun with --resume to continue`, { cause: error });
          }
          throw error;
        }
        if (process.stderr.isTTY) process.stderr.write('\n');
        const report = result.runs.length > 0 ? await writeReport(outDir, undefined, { onWarning: notice }) : null;
        const others = result.runs.length - result.resumed - result.trained;
        const origin = [
          `${result.trained} trained here`,
          others > 0 ? `${others} by other processes` : '',
          result.resumed ? `${result.resumed} kept from before` : '',
        ].filter(Boolean).join(', ');
        const lines = [
          `${result.runs.length} runs complete: ${origin}`,
          result.failed.length ? `${result.failed.length} failed: ${result.failed.map((f) => `${f.id} (${f.error})`).join('; ')}` : '',
          result.aborted ? 'interrupted: rerun with --resume to finish' : '',
          `results in ${outDir}/summary.csv${report ? `, report in ${report.index}` : ''}`,
          ...(report ? observationLines(report.report.observations) : []),
          ...puzzleLines(report?.report.puzzle?.analysis),
        ].filter(Boolean);
        process.stderr.write(lines.join('\n') + '\n');
        exitCode = result.aborted ? 130 : result.failed.length ? 1 : 0;
      } finally {
        process.off('SIGINT', interrupt);
        process.off('SIGTERM', interrupt);
      }
    });

  program.command('report')
    .description('render DIR/report/index.html: the seed\'s figures (SVG and PNG), a verdict per run and the seed\'s observations checked')
    .argument('<dir>', 'a sweep directory')
    .action(async (dir: string) => {
      const { report, index } = await writeReport(dir, undefined, { onWarning: noticePrinter(process.stderr, 'segloss report: ') });
      process.stderr.write(`${report.runs.length} runs, ${report.figures.length} figures → ${index}\n`
        + [...observationLines(report.observations), ...puzzleLines(report.puzzle?.analysis)].join('\n') + '\n');
    });

  program.command('merge')
    .description('combine the directories of shards of one sweep into one (as if run unsharded)')
    .argument('<dirs...>', 'shard directories')
    .requiredOption('--out <dir>', 'the merged directory')
    .action((dirs: string[], opts) => {
      const result = mergeSweeps(dirs, opts.out);
      for (const problem of result.damaged) process.stderr.write(`segloss merge: ${problem}\n`);
      process.stderr.write(`${result.runs} runs merged into ${opts.out}`
        + (result.missing.length ? `; missing (no shard has them complete): ${result.missing.join(', ')}` : '') + '\n');
      exitCode = result.missing.length ? 1 : 0;
    });

  program.command('bench')
    .description('run the benchmarks (all, or those named): medians, and ratios against baselines measured in the same process')
    .argument('[names...]', `benchmarks to run: ${BENCHMARKS.map((b) => b.name).join(', ')} (default: all)`)
    .option('--list', 'list the benchmarks and exit')
    .option('--quick', 'small shapes and few steps: a smoke run, not numbers to quote')
    .option('--steps <n>', 'steps per run (sweep) or timed steps (step)', positiveInt('--steps'))
    .option('--json <file>', 'also write every benchmark\'s rows as JSON')
    .action(async (names: string[], opts) => {
      if (opts.list) {
        for (const b of BENCHMARKS) process.stdout.write(`${b.name.padEnd(8)} ${b.description}\n`);
        return;
      }
      const unknown = names.filter((n) => !BENCHMARKS.some((b) => b.name === n));
      if (unknown.length) throw new UsageError(`unknown benchmark ${unknown.join(', ')}; segloss bench --list shows them`);
      const chosen = names.length ? BENCHMARKS.filter((b) => names.includes(b.name)) : BENCHMARKS;
      const print = (line: string) => process.stdout.write(`${line}\n`);
      const { version_core } = await import('@tensorflow/tfjs-core');
      print(`segloss bench — ${new Date().toISOString()} — Node ${process.version}, tfjs ${version_core}${opts.quick ? ' — quick (smoke run)' : ''}`);
      const results: Record<string, unknown> = {};
      for (const b of chosen) {
        print(`\n=== ${b.name}: ${b.description}\n`);
        results[b.name] = await b.run({ print, quick: Boolean(opts.quick), steps: opts.steps });
      }
      if (opts.json) {
        writeFileSync(opts.json, JSON.stringify({ date: new Date().toISOString(), node: process.version, quick: Boolean(opts.quick), results }, null, 2));
      }
    });

  program.command('train')
    .description('train a U-Net (segloss/models) on the synthetic segmentation data set on tfjs-wasm; writes DIR/log.jsonl (a row per step, '
      + 'validation scores on evaluation steps), DIR/checkpoint/ (model.json + weights.bin, the optimizer, the step) and DIR/report/')
    .option('--out <dir>', 'output directory', 'unet-train')
    .option('--size <n>', 'images are n×n×1 (default 128)', positiveInt('--size'))
    .option('--filters <list>', 'channels per level, comma-separated (default 16,32,64,128)')
    .option('--no-batch-norm', 'no batch norm (a bias per conv instead)')
    .option('--loss <name>', 'dice-ce (default), dice-focal, dice, cce, focal, generalized-dice, tversky, lovasz')
    .option('--steps <n>', 'training steps (default 1000)', positiveInt('--steps'))
    .option('--batch <n>', 'images per step (default 4)', positiveInt('--batch'))
    .option('--lr <x>', 'Adam\'s learning rate (default 0.001)', Number)
    .option('--foreground <f>', 'the data\'s foreground fraction, 0.005–0.6 (default 0.1)', Number)
    .option('--train-images <n>', 'training images (default 256)', positiveInt('--train-images'))
    .option('--val-images <n>', 'validation images (default 16)', positiveInt('--val-images'))
    .option('--eval-every <n>', 'validation every n steps (default 100)', positiveInt('--eval-every'))
    .option('--checkpoint-every <n>', 'a checkpoint every n steps (default: every evaluation), and at the end', positiveInt('--checkpoint-every'))
    .option('--seed <n>', 'seeds the data, the weights and the batch order (default 0)', Number)
    .option('--resume', 'continue the run in --out from its checkpoint (with the options it was started with), bit for bit')
    .action(async (opts) => {
      const out = opts.out as string;
      const checkpoint = join(out, 'checkpoint');
      const logPath = join(out, 'log.jsonl');
      const given = Object.fromEntries(Object.entries({
        imageSize: opts.size, filters: opts.filters?.split(',').map(Number), batchNorm: opts.batchNorm === false ? false : undefined,
        loss: opts.loss, steps: opts.steps, batchSize: opts.batch, learningRate: opts.lr, foreground: opts.foreground,
        trainImages: opts.trainImages, validationImages: opts.valImages, evalEvery: opts.evalEvery, seed: opts.seed,
      }).filter(([, v]) => v !== undefined));
      const tf = await import('@tensorflow/tfjs-core');
      await import('@tensorflow/tfjs-backend-wasm');
      const { setupWasmKernels } = await import('../setup.js');
      let models: typeof import('../models/train.js');
      try {
        models = await import('../models/train.js');
      } catch (error) {
        throw new UsageError(`segloss train needs @tensorflow/tfjs-layers (npm install @tensorflow/tfjs-layers@4.22.0): ${(error as Error).message}`);
      }
      const { UNetTrainer, parseTrainingOptions } = models;
      await tf.setBackend('wasm');
      await setupWasmKernels();
      let trainer: Trainer;
      if (opts.resume) {
        if (Object.keys(given).length > 0) throw new UsageError(`--resume takes the options the run began with; drop ${Object.keys(given).join(', ')}`);
        if (!existsSync(join(checkpoint, 'state.json'))) throw new UsageError(`--resume: ${out} holds no checkpoint (${join(checkpoint, 'state.json')})`);
        trainer = await UNetTrainer.resume(checkpoint);
        // The log keeps the rows before the checkpoint; the steps after it are trained again, to the same bits.
        const kept = existsSync(logPath) ? fsio('read', logPath, () => readFileSync(logPath, 'utf8')).split('\n').filter(Boolean)
          .filter((line) => (JSON.parse(line) as { step: number }).step < trainer.step) : [];
        writeAtomic(logPath, kept.map((line) => `${line}\n`).join(''));
      } else {
        if (existsSync(join(checkpoint, 'state.json')) || existsSync(logPath)) {
          throw new UsageError(`${out} already holds a training run: resume it (--resume) or choose another --out`);
        }
        try {
          parseTrainingOptions(given);
        } catch (error) {
          throw new UsageError((error as Error).message.replace(/^segloss train: /, ''));
        }
        trainer = UNetTrainer.create(given);
        fsio('create', out, () => mkdirSync(out, { recursive: true }));
      }
      const o = trainer.options;
      const checkpointEvery = opts.checkpointEvery ?? o.evalEvery;
      let interrupted = false;
      const interrupt = () => { interrupted = true; };
      process.once('SIGINT', interrupt);
      process.once('SIGTERM', interrupt);
      process.stderr.write(`segloss train: unet2d ${o.imageSize}² filters [${o.filters.join(', ')}]${o.batchNorm ? ' BN' : ''}, ${o.loss}, `
        + `batch ${o.batchSize}, ${o.steps} steps${trainer.step > 0 ? ` from step ${trainer.step}` : ''} → ${out}\n`);
      const started = Date.now();
      const first = trainer.step;
      try {
        while (trainer.step < o.steps && !interrupted) {
          const row = trainer.runStep();
          fsio('write', logPath, () => appendFileSync(logPath, JSON.stringify(row) + '\n'));
          if (!Number.isFinite(row.loss)) throw new Error(`the loss is not finite at step ${row.step}: lower --lr`);
          const done = trainer.step - first;
          const eta = ((Date.now() - started) / done) * (o.steps - trainer.step) / 1000;
          if (row.eval) {
            process.stderr.write(`step ${row.step + 1}/${o.steps}  loss ${row.loss.toFixed(4)}  validation: accuracy ${row.eval.accuracy.toFixed(4)}, `
              + `Dice bg ${row.eval.dice[0].toFixed(3)} fg ${row.eval.dice[1].toFixed(3)}, IoU fg ${row.eval.iou[1].toFixed(3)}  eta ${formatSeconds(eta)}\n`);
          }
          if (trainer.step % checkpointEvery === 0 || trainer.step === o.steps) await trainer.save(checkpoint);
          // A turn of the event loop, so that Ctrl-C (a signal handler) is seen between steps.
          await new Promise((resolve) => setImmediate(resolve));
        }
        const { writeTrainingReport } = await import('../models/report.js');
        const report = await writeTrainingReport(out, trainer);
        if (interrupted) {
          await trainer.save(checkpoint);
          process.stderr.write(`interrupted at step ${trainer.step}: the checkpoint is saved; rerun with --resume to continue\n`);
          exitCode = 130;
        } else {
          process.stderr.write(`done: ${o.steps} steps; the model is ${join(checkpoint, 'model', 'model.json')} (tf.loadLayersModel('file://…') after importing segloss); `
            + `the report is ${report}\n`);
        }
      } finally {
        process.off('SIGINT', interrupt);
        process.off('SIGTERM', interrupt);
        trainer.dispose();
      }
    });

  program.command('presets')
    .description('list the presets')
    .action(() => {
      for (const preset of Object.values(presets)) {
        process.stdout.write(`${preset.name.padEnd(12)} ${planSweep({ preset: preset.name as never }).length} runs  ${preset.description}\n`);
      }
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? 0 : 2; // --help / --version exit 0; bad flags 2
    }
    if (error instanceof ConfigError || error instanceof UsageError) {
      process.stderr.write(`segloss: ${error.message}\n`);
      return 2;
    }
    // SweepIOError and the sweep's wrapping of it: a file could not be written or read (message: the path and the cause).
    process.stderr.write(`segloss: ${(error as Error).message}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
