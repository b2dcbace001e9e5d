/**
 * The `segloss` command: sweep, report, merge, presets, bench, train. Exit codes: 0 done, 1 some runs
 * failed or a file could not be written (the message names the path and the cause), 2 bad flags or
 * config (the message names the field), 130 interrupted (Ctrl-C; rerun with --resume to continue).
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError } from '../experiment/config.js';
import { presets } from '../experiment/presets.js';
import { mergeSweeps } from '../sdk/merge.js';
import { io as fsio, SweepIOError, writeAtomic } from '../sdk/fsio.js';
import { parseSweepSpec, planSweep, shardOf, type Shard, type SweepSpec } from '../sdk/plan.js';
import { runSweep, seglossVersion, type SweepProgress, type SweepResult } from '../sdk/sweep.js';
import { modelObservationLines, observationLines } from '../report/observations.js';
import { puzzleLines } from '../report/puzzle.js';
import { rankingLines } from '../report/ranking.js';
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


/** `--normalize minmax|zscore|none|window:LO,HI` */
function normalizeArg(value: string) {
  const m = /^window:\s*(-?[\d.e+]+)\s*,\s*(-?[\d.e+]+)$/i.exec(value.trim());
  if (m) {
    const [lo, hi] = [Number(m[1]), Number(m[2])];
    if (Number.isFinite(lo) && Number.isFinite(hi) && lo < hi) return { window: [lo, hi] as [number, number] };
  }
  if (['minmax', 'zscore', 'none'].includes(value)) return value as 'minmax' | 'zscore' | 'none';
  throw new InvalidArgumentError(`--normalize must be minmax, zscore, none or window:LO,HI (e.g. window:-1000,1000), got '${value}'`);
}

/** `--augment` (flips, quarter turns, intensity 0.1) or `--augment flip,rotate90,intensity=0.2` */
function augmentArg(value: string | true) {
  if (value === true) return { flip: true, rotate90: true, intensity: 0.1 };
  const out = { flip: false, rotate90: false, intensity: 0 };
  for (const part of value.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^intensity(?:=([\d.]+))?$/.exec(part);
    if (part === 'flip' || part === 'rotate90') out[part] = true;
    else if (m) out.intensity = m[1] != null ? Number(m[1]) : 0.1;
    else throw new InvalidArgumentError(`--augment takes flip, rotate90 and intensity[=A], comma-separated; got '${part}'`);
  }
  return out;
}

/** The mask convention of `--masks` and `--mask-colors`. */
async function maskConvention(opts: { masks?: string; maskColors?: string }) {
  if (opts.maskColors != null) {
    if (opts.masks != null && opts.masks !== 'colors') throw new UsageError(`--masks ${opts.masks} and --mask-colors contradict each other: --mask-colors alone reads masks by its map`);
    const { parseColourMapArgument } = await import('../data/masks.js');
    try {
      return { colors: parseColourMapArgument(opts.maskColors) };
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
  }
  if (opts.masks === 'colors') throw new UsageError('--masks colors needs --mask-colors \'#000000=0,#ff0000=1\'');
  return (opts.masks ?? 'auto') as 'auto' | 'indices' | 'binary' | 'palette';
}

/**
 * A count's progress, `what: done/total` (the data check, a report's figures, an export's runs): a
 * live line on a TTY, cleared when done, and a line every 5 s otherwise (long work takes a while).
 */
function countProgress(stream: NodeJS.WriteStream, what: string): (done: number, total: number) => void {
  let last = Date.now();
  return (done, total) => {
    const now = Date.now();
    if (stream.isTTY) {
      if (done === total) stream.write('\r\x1b[K');
      else if (now - last > 100) stream.write(`\r\x1b[K${what}: ${done}/${total}`);
      else return;
    } else if (now - last > 5000 && done < total) {
      stream.write(`${what}: ${done}/${total}\n`);
    } else {
      return;
    }
    last = now;
  };
}

/** Opens a trainer; data with problems is a usage error (exit 2) listing them, as `segloss data check` does. */
async function openTrainer(open: () => Promise<Trainer>): Promise<Trainer> {
  try {
    return await open();
  } catch (error) {
    if ((error as Error).name === 'DataError') throw new UsageError(`train --data: ${(error as Error).message}\n(segloss data check DIR lists them too)`);
    if (/^(segloss train: )?data: |no such folder|not a folder/.test((error as Error).message)) throw new UsageError((error as Error).message);
    throw error;
  }
}

/** The flags of `segloss train`, by option (`data.*` for --data's). */
const TRAIN_FLAGS: Record<string, string> = {
  imageSize: '--size', filters: '--filters', batchNorm: '--no-batch-norm', loss: '--loss', steps: '--steps', batchSize: '--batch',
  learningRate: '--lr', foreground: '--foreground', trainImages: '--train-images', validationImages: '--val-images', evalEvery: '--eval-every',
  seed: '--seed', dims: '--dims', 'data.path': '--data', 'data.manifest': '--manifest', 'data.masks': '--masks/--mask-colors', 'data.classes': '--classes',
  'data.channels': '--channels', 'data.normalize': '--normalize', 'data.augment': '--augment', 'data.valFraction': '--val-fraction',
  'data.positiveRatio': '--positive-ratio', 'data.valPatches': '--val-patches', 'data.cacheMB': '--cache-mb', 'data.decodeWorkers': '--decode-workers',
};

/**
 * The options given on the command line that differ from the run's (its checkpoint's, defaults
 * filled in), each as "--steps 2000 (the run's: 1000)". The folder is compared as a path, so
 * `./data` and `data` are the same.
 */
function differingOptions(given: Record<string, unknown>, run: Record<string, unknown>): string[] {
  if (given.data != null && run.data == null) return ['--data: the run trained on the synthetic data'];
  const same = (key: string, a: unknown, b: unknown) => (key === 'data.path' ? resolve(String(a)) === resolve(String(b)) : JSON.stringify(a) === JSON.stringify(b));
  const entries = Object.entries(given).flatMap(([k, v]) => (k === 'data' && v && typeof v === 'object'
    ? Object.entries(v as Record<string, unknown>).map(([dk, dv]) => [`data.${dk}`, dv, (run.data as Record<string, unknown>)[dk]] as const)
    : [[k, v, run[k]] as const]));
  return entries.filter(([k, v, theirs]) => !same(k, v, theirs))
    .map(([k, v, theirs]) => `${TRAIN_FLAGS[k] ?? k} ${JSON.stringify(v)} (the run's: ${theirs === undefined ? 'not set' : JSON.stringify(theirs)})`);
}

const MASKS_HELP = 'how masks store classes: auto (default: palette PNGs by index, 0/255 as binary, small values as indices), indices, binary, palette';
const MASK_COLORS_HELP = 'a colour → class map for colour-coded (or grey-level) masks: \'#000000=0,#ff0000=1\' or \'0=0,128=1,255=2\'';

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
        const report = result.runs.length > 0
          ? await writeReport(outDir, undefined, { onWarning: notice, onProgress: countProgress(process.stderr, 'the report\'s figures') })
          : null;
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
          ...(report ? rankingLines(report.report.ranking) : []),
          ...(report ? observationLines(report.report.observations) : []),
          ...(report ? modelObservationLines(report.report.modelObservations) : []),
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
      const { report, index, figures } = await writeReport(dir, undefined, {
        onWarning: noticePrinter(process.stderr, 'segloss report: '), onProgress: countProgress(process.stderr, 'drawing the figures'),
      });
      const kept = figures.unchanged > 0 ? ` (${figures.unchanged} unchanged since the last report, not drawn again)` : '';
      process.stderr.write(`${report.runs.length} runs, ${report.figures.length} figures${kept} → ${index}\n`
        + [...rankingLines(report.ranking), ...observationLines(report.observations), ...modelObservationLines(report.modelObservations), ...puzzleLines(report.puzzle?.analysis)].join('\n') + '\n');
    });

  program.command('export')
    .description('write every step row of a sweep\'s complete runs as one long table, the run\'s config as columns (Parquet or CSV; docs/scale.md)')
    .argument('<dir>', 'a sweep directory')
    .requiredOption('--format <format>', 'parquet or csv', (v: string) => {
      if (v !== 'parquet' && v !== 'csv') throw new InvalidArgumentError('parquet or csv');
      return v;
    })
    .option('--out <file>', 'the file to write (default: DIR/export.parquet or DIR/export.csv)')
    .action(async (dir: string, opts: { format: 'parquet' | 'csv'; out?: string }) => {
      const { exportSweep } = await import('../sdk/export.js');
      const result = await exportSweep(dir, {
        format: opts.format, out: opts.out, onWarning: noticePrinter(process.stderr, 'segloss export: '),
        onProgress: countProgress(process.stderr, 'exporting the runs'),
      });
      process.stderr.write(`${result.runs} runs, ${result.rows.toLocaleString('en')} rows, ${result.columns.length} columns → ${result.out}\n`);
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
    .option('--threads <list>', 'threads and unet: thread counts to compare with one thread, comma-separated (threads\' default: 2)', (v: string) => v.split(',').map((n) => {
      const k = Number(n);
      if (!Number.isInteger(k) || k < 1) throw new UsageError(`--threads takes positive integers, got ${v}`);
      return k;
    }))
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
        results[b.name] = await b.run({ print, quick: Boolean(opts.quick), steps: opts.steps, threads: opts.threads });
      }
      if (opts.json) {
        writeFileSync(opts.json, JSON.stringify({ date: new Date().toISOString(), node: process.version, quick: Boolean(opts.quick), results }, null, 2));
      }
    });

  const data = program.command('data').description('your own data sets: check them before training');
  data.command('check')
    .description('read every image and mask of DIR (images/ + masks/, imagesTr/ + labelsTr/, or a manifest): pairs, sizes, types, '
      + 'classes and their frequencies, and every problem, naming its file; exit 0 clean, 1 with problems')
    .argument('<dir>', 'the data set\'s folder')
    .option('--json', 'print the report as JSON (for scripts)')
    .option('--classes <n>', 'the number of classes: label values from n up are problems', positiveInt('--classes'))
    .addOption(new Option('--masks <convention>', MASKS_HELP).choices(['auto', 'indices', 'binary', 'palette', 'colors']))
    .option('--mask-colors <map>', MASK_COLORS_HELP)
    .option('--manifest <file>', 'a manifest inside DIR (default: manifest.csv or manifest.json when there)')
    .action(async (dir: string, opts) => {
      const { checkData, formatDataReport } = await import('../data/index.js');
      const masks = await maskConvention(opts);
      let report;
      try {
        report = await checkData(dir, {
          masks, classes: opts.classes, manifest: opts.manifest,
          onProgress: opts.json ? undefined : countProgress(process.stderr, 'checking the data'),
        });
      } catch (error) {
        throw new UsageError(`data check: ${(error as Error).message}`);
      }
      const { layoutOf: _layout, ...plain } = report;
      if (opts.json) process.stdout.write(JSON.stringify(plain, null, 2) + '\n');
      else process.stdout.write(formatDataReport(plain, dir) + '\n');
      exitCode = report.problems.length > 0 ? 1 : 0;
    });

  program.command('train')
    .description('train a U-Net (segloss/models) on tfjs-wasm, on your own data (--data) or the synthetic set; writes DIR/log.jsonl (a row per step, '
      + 'validation scores on evaluation steps), DIR/checkpoint/ (model.json + weights.bin, the optimizer, the step) and DIR/report/')
    .option('--out <dir>', 'output directory', 'unet-train')
    .option('--data <dir>', 'train on your own data: images/ + masks/ (2D, PNG/JPEG) or imagesTr/ + labelsTr/ (3D, NIfTI), or a manifest; '
      + 'checked first (segloss data check): a problem stops it (exit 2)')
    .option('--size <n>', 'the model\'s input side: images are resized to n×n (default 128); with 3D data, the patch side (default 64)', positiveInt('--size'))
    .option('--classes <n>', 'with --data: the number of classes (default: the data\'s)', positiveInt('--classes'))
    .addOption(new Option('--masks <convention>', `with --data: ${MASKS_HELP}`).choices(['auto', 'indices', 'binary', 'palette', 'colors']))
    .option('--mask-colors <map>', `with --data: ${MASK_COLORS_HELP}`)
    .option('--manifest <file>', 'with --data: a manifest inside the folder (default: manifest.csv or manifest.json when there)')
    .option('--channels <n>', 'with 2D --data: 1 (grey) or 3 (RGB); default: 3 when any image is RGB', positiveInt('--channels'))
    .option('--normalize <how>', 'with --data: minmax (2D default), zscore (3D default), none, or window:LO,HI (CT: window:-1000,1000)', normalizeArg)
    .option('--augment [list]', 'with --data: random flip, rotate90 and intensity[=A] (alone: all three, A = 0.1)', augmentArg)
    .option('--val-fraction <f>', 'with --data and no val/ (imagesVal/) folder: the cases held out for validation (default 0.2)', Number)
    .option('--positive-ratio <p>', 'with 3D --data: the chance that a patch is centred on foreground (default 0.5)', Number)
    .option('--val-patches <n>', 'with 3D --data: fixed validation patches per case (default 4)', positiveInt('--val-patches'))
    .option('--cache-mb <n>', 'with --data: memory for decoded images, MB (default 1024); a larger data set decodes again what is evicted', Number)
    .option('--decode-workers <n>', 'with --data: threads that decode the next step\'s images while a step trains (default 1; 0: none)', Number)
    .option('--filters <list>', 'channels per level, comma-separated (default 16,32,64,128)')
    .option('--no-batch-norm', 'no batch norm (a bias per conv instead)')
    .option('--loss <name>', 'dice-ce (default), dice-focal, dice, cce, focal, generalized-dice, tversky, lovasz')
    .option('--steps <n>', 'training steps (default 1000)', positiveInt('--steps'))
    .option('--batch <n>', 'images per step (default 4)', positiveInt('--batch'))
    .option('--lr <x>', 'Adam\'s learning rate (default 0.001)', Number)
    .option('--foreground <f>', 'the synthetic data\'s foreground fraction, 0.005–0.995 (default 0.1; above 0.5 the shapes are the background)', Number)
    .option('--train-images <n>', 'synthetic training images (default 256)', positiveInt('--train-images'))
    .option('--val-images <n>', 'synthetic validation images (default 16)', positiveInt('--val-images'))
    .option('--eval-every <n>', 'validation every n steps (default 100)', positiveInt('--eval-every'))
    .option('--checkpoint-every <n>', 'a checkpoint every n steps (default: every evaluation), and at the end', positiveInt('--checkpoint-every'))
    .option('--seed <n>', 'seeds the data, the weights and the batch order (default 0)', Number)
    .addOption(new Option('--dims <n>', 'the synthetic data: 2, images (default), or 3, volumes of size³ for a 3D U-Net (your own data\'s come from its files)').choices(['2', '3']))
    .option('--threads <n>', 'threads for each training step (default: the cores there are, at most one per image of the batch); '
      + 'the log is the same bits for any count', positiveInt('--threads'))
    .option('--resume', 'continue the run in --out from its checkpoint (with the options it was started with), bit for bit')
    .action(async (opts) => {
      const out = opts.out as string;
      const checkpoint = join(out, 'checkpoint');
      const logPath = join(out, 'log.jsonl');
      const given = Object.fromEntries(Object.entries({
        imageSize: opts.size, filters: opts.filters?.split(',').map(Number), batchNorm: opts.batchNorm === false ? false : undefined,
        loss: opts.loss, steps: opts.steps, batchSize: opts.batch, learningRate: opts.lr, foreground: opts.foreground,
        trainImages: opts.trainImages, validationImages: opts.valImages, evalEvery: opts.evalEvery, seed: opts.seed,
        dims: opts.dims != null ? Number(opts.dims) : undefined,
      }).filter(([, v]) => v !== undefined));
      // How the run is trained, not what: any --threads resumes any run.
      const execution = { threads: opts.threads as number | undefined, onNotice: (message: string) => process.stderr.write(`${message}\n`) };
      const dataOnly = { classes: '--classes', masks: '--masks', maskColors: '--mask-colors', manifest: '--manifest', channels: '--channels',
        normalize: '--normalize', augment: '--augment', valFraction: '--val-fraction', positiveRatio: '--positive-ratio', valPatches: '--val-patches', cacheMb: '--cache-mb', decodeWorkers: '--decode-workers' };
      if (opts.data != null) {
        const synthetic = [['foreground', '--foreground'], ['trainImages', '--train-images'], ['validationImages', '--val-images'], ['dims', '--dims']].filter(([k]) => given[k] !== undefined);
        if (synthetic.length) throw new UsageError(`${synthetic.map(([, f]) => f).join(', ')} ${synthetic.length > 1 ? 'are' : 'is'} for the synthetic data, not --data`);
        given.data = Object.fromEntries(Object.entries({
          path: opts.data, manifest: opts.manifest, masks: opts.masks != null || opts.maskColors != null ? await maskConvention(opts) : undefined,
          classes: opts.classes, channels: opts.channels, normalize: opts.normalize,
          augment: opts.augment === true ? augmentArg(true) : opts.augment, valFraction: opts.valFraction,
          positiveRatio: opts.positiveRatio, valPatches: opts.valPatches, cacheMB: opts.cacheMb, decodeWorkers: opts.decodeWorkers,
        }).filter(([, v]) => v !== undefined));
      } else {
        const stray = Object.entries(dataOnly).filter(([k]) => opts[k] !== undefined).map(([, f]) => f);
        if (stray.length) throw new UsageError(`${stray.join(', ')} ${stray.length > 1 ? 'go' : 'goes'} with --data DIR`);
      }
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
        if (!existsSync(join(checkpoint, 'state.json'))) throw new UsageError(`--resume: ${out} holds no checkpoint (${join(checkpoint, 'state.json')})`);
        // The command the run began with may be given again; an option that differs is refused, by name.
        const began = JSON.parse(fsio('read', join(checkpoint, 'state.json'), () => readFileSync(join(checkpoint, 'state.json'), 'utf8'))).options ?? {};
        const differing = differingOptions(given, began);
        if (differing.length > 0) {
          throw new UsageError(`--resume continues the run as it began: ${differing.join('; ')}. Drop ${differing.length > 1 ? 'them' : 'it'}, or train a new run in another --out`);
        }
        trainer = await openTrainer(() => UNetTrainer.resume(checkpoint, undefined, { onCheckProgress: countProgress(process.stderr, 'checking the data'), ...execution }));
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
        trainer = await openTrainer(() => UNetTrainer.open({ ...given, threads: execution.threads }, undefined, { onCheckProgress: countProgress(process.stderr, 'checking the data'), onNotice: execution.onNotice }));
        fsio('create', out, () => mkdirSync(out, { recursive: true }));
      }
      const o = trainer.options;
      if (o.data && trainer.step === 0) {
        process.stderr.write(`segloss train: ${o.data.path}: ${trainer.dims}D, ${trainer.classes} classes, input ${trainer.inputShape.join('×')}\n`);
      }
      const checkpointEvery = opts.checkpointEvery ?? o.evalEvery;
      let interrupted = false;
      const interrupt = () => { interrupted = true; };
      process.once('SIGINT', interrupt);
      process.once('SIGTERM', interrupt);
      process.stderr.write(`segloss train: unet${trainer.dims}d ${o.imageSize}${trainer.dims === 3 ? '³' : '²'} filters [${o.filters.join(', ')}]${o.batchNorm ? ' BN' : ''}, ${o.loss}, `
        + `batch ${o.batchSize}, ${o.steps} steps${trainer.step > 0 ? ` from step ${trainer.step}` : ''}, ${trainer.threads} thread${trainer.threads > 1 ? 's' : ''} → ${out}\n`);
      const started = Date.now();
      const first = trainer.step;
      try {
        while (trainer.step < o.steps && !interrupted) {
          const row = await trainer.nextStep();
          fsio('write', logPath, () => appendFileSync(logPath, JSON.stringify(row) + '\n'));
          if (!Number.isFinite(row.loss)) throw new Error(`the loss is not finite at step ${row.step}: lower --lr`);
          const done = trainer.step - first;
          const eta = ((Date.now() - started) / done) * (o.steps - trainer.step) / 1000;
          if (row.eval) {
            const fg = (scores: number[]) => scores.slice(1).reduce((a, b) => a + b, 0) / (scores.length - 1);
            const many = row.eval.dice.length > 2 ? ' (mean of the foreground classes)' : '';
            process.stderr.write(`step ${row.step + 1}/${o.steps}  loss ${row.loss.toFixed(4)}  validation: accuracy ${row.eval.accuracy.toFixed(4)}, `
              + `Dice bg ${row.eval.dice[0].toFixed(3)} fg ${fg(row.eval.dice).toFixed(3)}, IoU fg ${fg(row.eval.iou).toFixed(3)}${many}  eta ${formatSeconds(eta)}\n`);
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
