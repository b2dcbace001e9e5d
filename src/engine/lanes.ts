/**
 * The lockstep sweep engine: up to four runs of the study that share an architecture train
 * together in one wasm module, one run per f32x4 lane (assembly/engine/lanes.ts). A step of all
 * of them is one wasm call; an evaluation another. No tfjs tensor is involved: the module has a
 * memory of its own, sized once for the group, so nothing can leak and nothing grows per step.
 *
 * Every operation of the module is lane-wise, so each run's log is bit for bit the same whatever
 * runs share its group (or pad it), in any worker, shard, process or JS engine. Its numbers agree
 * with the reference path (`trainRun` on tfjs ops, src/experiment/train.ts) to float32 summation
 * order; test/engine.test.ts holds the two to 1e-4 over the seed preset's cells.
 */
import { engineWasm } from '../wasm/binaries.generated';
import { decodeBase64 } from '../base64.js';
import type { LossName } from '../losses/types.js';
import type { RunConfig } from '../experiment/config.js';
import { xavierUniformValues } from '../experiment/model.js';
import { runRandoms, scoresOf, type Evaluation, type RunOutcome, type StepLog } from '../experiment/train.js';

/** Runs per group: the f32x4 lanes. */
export const LANES = 4;

/** The module's exports (assembly/engine.ts). */
interface EngineExports {
  lanes_init(ctx: number): void;
  lanes_step(ctx: number): void;
  lanes_eval(ctx: number): void;
}

// Header words: the H_* constants of assembly/engine/lanes.ts.
const H = {
  N: 0, H: 1, W: 2, L: 3, F: 4, BN: 5, NLOSS: 6, Q: 7, LOSS_KIND: 8, PARAMS: 13, GRADS: 14,
  TRAIN_MASK: 15, ADAM_M: 16, ADAM_V: 17, ACCUM: 18, HYPER: 19, RNG: 20, CUT: 21, X: 22, LABELS: 23,
  LOGITS: 24, PROBS: 25, DLOGITS: 26, DH: 27, DPAD: 28, OUT: 29, MOVING: 30, F64: 31, LAYERS: 32,
  VAL_X: 64, VAL_LABELS: 65, V: 66, COUNTS: 67, VAL_RNG: 68, DTMP: 69, SUMS: 70, KEPT: 71,
} as const;
const HEADER_WORDS = 72;
/** Per-lane optimizer settings: the HY_* vectors. */
const HY = {
  NEG_LR: 0, BETA1: 1, BETA2: 2, ONE_MINUS_BETA1: 3, ONE_MINUS_BETA2: 4, EPSILON: 5, MOMENTUM: 6,
  ADAM: 7, ONE_MINUS_ACC_BETA1: 8, ONE_MINUS_ACC_BETA2: 9,
} as const;
const HYPER_COUNT = 10;
/** The S_COUNT f64 accumulators of the loss sums, then four coefficient vectors. */
const SUMS_BYTES = 8 * 32 + 4 * 16;
/** The module's loss kinds, in LOSS_NAMES order (cce, dice, dice_square, dicefg, dicefg_square). */
const LOSS_KIND: Record<LossName, number> = { cce: 0, dice: 1, dice_square: 2, dicefg: 3, dicefg_square: 4 };
/** The engine has a lane kernel for this loss. */
const hasLaneKernel = (name: string) => Object.prototype.hasOwnProperty.call(LOSS_KIND, name);
/** The largest memory a group may take; bigger configs train on the reference path. */
export const MAX_ENGINE_BYTES = 1 << 30;

let compiled: WebAssembly.Module | null = null;
let supported: boolean | null = null;

/** The engine module's bytes (assembly/engine.ts, SIMD). */
export function engineBinary(): Uint8Array {
  return decodeBase64(engineWasm);
}

/** True where this JS engine runs WebAssembly SIMD128, which the lockstep engine needs. */
export function laneEngineAvailable(): boolean {
  supported ??= WebAssembly.validate(engineBinary() as BufferSource);
  return supported;
}

/**
 * Compiles the engine's module ahead of use, asynchronously. A LaneGroup otherwise compiles it
 * synchronously on first use, which browsers may limit on a page's main thread (Chrome long
 * refused modules over 4 KB there); a page can call this first. Sweep workers call it in their init.
 */
export async function prepareLaneEngine(): Promise<void> {
  compiled ??= await WebAssembly.compile(engineBinary() as BufferSource);
}

function compileEngine(): WebAssembly.Module {
  if (compiled == null) {
    try {
      compiled = new WebAssembly.Module(engineBinary() as BufferSource);
    } catch (error) {
      throw new Error(`segloss lane engine: the module could not be compiled synchronously here (${(error as Error).message}); `
        + 'on a browser\'s main thread, await prepareLaneEngine() first');
    }
  }
  return compiled;
}

/** The engine module's exports bound to `memory`, typed by the caller. */
export function engineInstance<T>(memory: WebAssembly.Memory): T {
  return new WebAssembly.Instance(compileEngine(), { env: { memory } }).exports as unknown as T;
}

/**
 * What runs must share to train in one group: everything but the seed, the foreground fraction,
 * the training loss and the optimizer (those are per lane).
 */
export function laneGroupKey(config: RunConfig): string {
  const { imageSize, batchSize, nConv, filters, batchNorm, loggedLosses, steps, evalEvery, validationImages } = config;
  return JSON.stringify([imageSize, batchSize, nConv, filters, batchNorm, loggedLosses, steps, evalEvery, validationImages]);
}

/** Trainable parameters of a config's net (198 / 206 for the seed's net without / with batch norm). */
export function parameterCount(config: Pick<RunConfig, 'nConv' | 'filters' | 'batchNorm'>): number {
  const { nConv, filters: f, batchNorm } = config;
  const extra = batchNorm ? 2 * f : f;
  return 9 * f + extra + (nConv - 1) * (9 * f * f + extra) + 2 * f + 2;
}

interface Layout {
  bytes: number;
  words: Partial<Record<keyof typeof H, number>>;
  layers: number[][];
}

/** Addresses of every buffer of a group (64-byte aligned, from address 64 on). */
function layout(config: RunConfig): Layout {
  const { batchSize: n, imageSize: s, nConv: layers, filters: f, batchNorm, validationImages: v } = config;
  const q = parameterCount(config);
  const nLoss = config.loggedLosses.length;
  const m = n * s * s;
  const padded = (s + 2) * (s + 2);
  const LV = 16;
  let top = 64;
  const take = (bytes: number) => {
    const at = top;
    top += Math.ceil(bytes / 64) * 64;
    return at;
  };
  const words: Layout['words'] = {};
  const put = (key: keyof typeof H, bytes: number) => { words[key] = take(bytes); };
  const header = take(HEADER_WORDS * 4);
  void header;
  put('PARAMS', q * LV);
  put('GRADS', nLoss * q * LV);
  put('TRAIN_MASK', nLoss * LV);
  put('ADAM_M', q * LV);
  put('ADAM_V', q * LV);
  put('ACCUM', q * LV);
  put('HYPER', HYPER_COUNT * LV);
  put('RNG', 4 * LV);
  put('VAL_RNG', 4 * LV);
  put('CUT', 2 * LV); // the labelling cut, then the invertInput mask
  put('X', n * padded * LV);
  put('LABELS', m * LV);
  put('KEPT', m * LV);
  put('LOGITS', 2 * m * LV);
  put('PROBS', 2 * m * LV);
  put('DLOGITS', 2 * m * LV);
  put('DH', m * f * LV);
  put('DTMP', m * f * LV);
  put('DPAD', n * padded * f * LV);
  put('OUT', nLoss * 64);
  put('MOVING', layers * 2 * f * LV);
  put('F64', Math.max(q, f) * 32);
  put('SUMS', SUMS_BYTES);
  put('VAL_X', v * padded * LV);
  put('VAL_LABELS', v * s * s * LV);
  put('COUNTS', 5 * LV);
  const layerWords = Array.from({ length: layers }, () => [
    batchNorm ? take(m * f * LV) : 0, take(m * f * LV), take(n * padded * f * LV), take(3 * f * LV),
  ]);
  return { bytes: top, words, layers: layerWords };
}

/** Bytes of memory a group of `config`'s architecture takes. */
export function laneEngineBytes(config: RunConfig): number {
  return layout(config).bytes;
}

/** True when the lockstep engine has kernels for `config` (its losses) and room for it (its size). */
export function laneEngineAccepts(config: RunConfig): boolean {
  return config.model == null // the seed's net only: U-Net runs train on tfjs ops
    && config.loggedLosses.every(hasLaneKernel)
    && laneEngineBytes(config) <= MAX_ENGINE_BYTES;
}

/** True when the lockstep engine can train `config` here: it accepts the config and this engine has SIMD. */
export function laneEngineSupports(config: RunConfig): boolean {
  return laneEngineAccepts(config) && laneEngineAvailable();
}

/** One step's log of every lane still training (null for lanes that have ended or pad the group). */
export type LaneRows = (StepLog | null)[];

/**
 * A group of 1–4 runs of one architecture (equal `laneGroupKey`s) in the lockstep engine. Lanes
 * past the runs' count repeat run 0 and are never reported.
 */
export class LaneGroup {
  readonly runs: number;
  readonly parameters: number;
  private readonly memory: WebAssembly.Memory;
  private readonly exports: EngineExports;
  private readonly ctx = 64;
  private readonly words: Layout['words'];
  private readonly accBeta1: number[];
  private readonly accBeta2: number[];
  private readonly lanes: RunConfig[];

  constructor(readonly configs: readonly RunConfig[]) {
    if (configs.length < 1 || configs.length > LANES) {
      throw new RangeError(`segloss lane engine: a group holds 1 to ${LANES} runs, got ${configs.length}`);
    }
    const key = laneGroupKey(configs[0]);
    configs.forEach((c, i) => {
      if (laneGroupKey(c) !== key) {
        throw new Error(`segloss lane engine: run ${i} of the group differs from run 0 in its architecture or schedule (${laneGroupKey(c)} vs ${key})`);
      }
    });
    if (!laneEngineAvailable()) throw new Error('segloss lane engine: this JavaScript engine has no WebAssembly SIMD');
    const first = configs[0];
    const unknown = first.loggedLosses.filter((name) => !hasLaneKernel(name));
    if (unknown.length > 0) throw new Error(`segloss lane engine: no lane kernel for the loss ${unknown.join(', ')}`);
    const plan = layout(first);
    if (plan.bytes > MAX_ENGINE_BYTES) {
      throw new RangeError(`segloss lane engine: a group of this config needs ${plan.bytes} bytes, more than ${MAX_ENGINE_BYTES}`);
    }
    this.runs = configs.length;
    this.lanes = Array.from({ length: LANES }, (_, j) => configs[j] ?? configs[0]);
    this.parameters = parameterCount(first);
    this.words = plan.words;
    this.memory = new WebAssembly.Memory({ initial: Math.ceil(plan.bytes / 65536) });
    this.exports = engineInstance<EngineExports>(this.memory);
    this.accBeta1 = this.lanes.map((c) => (c.optimizer.name === 'adam' ? Math.fround(c.optimizer.beta1) : 0));
    this.accBeta2 = this.lanes.map((c) => (c.optimizer.name === 'adam' ? Math.fround(c.optimizer.beta2) : 0));
    this.writeHeader(plan);
    this.writeRuns();
    this.exports.lanes_init(this.ctx);
  }

  private writeHeader(plan: Layout): void {
    const c = this.configs[0];
    const header = new Int32Array(this.memory.buffer, this.ctx, HEADER_WORDS);
    header[H.N] = c.batchSize;
    header[H.H] = c.imageSize;
    header[H.W] = c.imageSize;
    header[H.L] = c.nConv;
    header[H.F] = c.filters;
    header[H.BN] = c.batchNorm ? 1 : 0;
    header[H.NLOSS] = c.loggedLosses.length;
    header[H.Q] = this.parameters;
    c.loggedLosses.forEach((name, s) => { header[H.LOSS_KIND + s] = LOSS_KIND[name as LossName]; });
    for (const [key, address] of Object.entries(plan.words)) header[H[key as keyof typeof H]] = address!;
    plan.layers.forEach((addresses, l) => addresses.forEach((a, k) => { header[H.LAYERS + 4 * l + k] = a; }));
    header[H.V] = c.validationImages;
  }

  /** Lane j of lane vector k of the buffer at `base`, as a float32 / int32 index. */
  private static at(base: number, k: number, j: number): number {
    return (base >> 2) + 4 * k + j;
  }

  /** Each lane's initial weights, optimizer settings, random streams and labelling threshold. */
  private writeRuns(): void {
    const f32 = new Float32Array(this.memory.buffer);
    const i32 = new Int32Array(this.memory.buffer);
    const w = this.words;
    const at = LaneGroup.at;
    const first = this.configs[0];
    const { nConv, filters, batchNorm } = first;
    this.lanes.forEach((config, j) => {
      const randoms = runRandoms(config.seed);
      // Parameters in ConvNet's order and draw order: per layer kernel, then bias or γ, β; the head.
      let k = 0;
      let channels = 1;
      const put = (values: ArrayLike<number>) => {
        for (let i = 0; i < values.length; i++) f32[at(w.PARAMS!, k++, j)] = values[i];
      };
      for (let l = 0; l < nConv; l++) {
        put(xavierUniformValues(randoms.weights, [3, 3, channels, filters]));
        if (batchNorm) {
          put(new Float32Array(filters).fill(1));
          put(new Float32Array(filters));
          for (let c = 0; c < filters; c++) f32[at(w.MOVING!, 2 * filters * l + filters + c, j)] = 1;
        } else {
          put(new Float32Array(filters));
        }
        channels = filters;
      }
      put(xavierUniformValues(randoms.weights, [1, 1, channels, 2]));
      put(new Float32Array(2));
      const o = config.optimizer;
      const hy = (slot: number, value: number) => { f32[at(w.HYPER!, slot, j)] = value; };
      hy(HY.NEG_LR, Math.fround(-o.learningRate));
      if (o.name === 'adam') {
        hy(HY.BETA1, o.beta1);
        hy(HY.BETA2, o.beta2);
        hy(HY.ONE_MINUS_BETA1, 1 - o.beta1);
        hy(HY.ONE_MINUS_BETA2, 1 - o.beta2);
        hy(HY.EPSILON, o.epsilon);
        i32[at(w.HYPER!, HY.ADAM, j)] = -1;
      } else {
        hy(HY.MOMENTUM, o.momentum);
        hy(HY.ONE_MINUS_ACC_BETA1, 1);
        hy(HY.ONE_MINUS_ACC_BETA2, 1);
      }
      config.loggedLosses.forEach((name, s) => { i32[at(w.TRAIN_MASK!, s, j)] = name === config.trainLoss ? -1 : 0; });
      const streams: [number, ReturnType<typeof runRandoms>['batches']][] = [[w.RNG!, randoms.batches], [w.VAL_RNG!, randoms.validation]];
      for (const [base, random] of streams) random.state().forEach((v, r) => { i32[at(base, r, j)] = v | 0; });
      // x > 1 − foreground with x = u / 2^24 (u a 24-bit integer, the comparison exact in f64)
      // ⟺ u > ⌊(1 − foreground) · 2^24⌋.
      i32[at(w.CUT!, 0, j)] = Math.floor((1 - config.foreground) * 16777216);
      i32[at(w.CUT!, 1, j)] = config.invertInput ? -1 : 0;
    });
  }

  /** One training step of every lane; the log values of each lane are read back by `rows`. */
  step(): void {
    const f32 = new Float32Array(this.memory.buffer);
    const w = this.words;
    this.lanes.forEach((config, j) => {
      if (config.optimizer.name !== 'adam') return;
      f32[LaneGroup.at(w.HYPER!, HY.ONE_MINUS_ACC_BETA1, j)] = 1 - this.accBeta1[j];
      f32[LaneGroup.at(w.HYPER!, HY.ONE_MINUS_ACC_BETA2, j)] = 1 - this.accBeta2[j];
    });
    this.exports.lanes_step(this.ctx);
    this.lanes.forEach((config, j) => {
      if (config.optimizer.name !== 'adam') return;
      this.accBeta1[j] = Math.fround(this.accBeta1[j] * Math.fround(config.optimizer.beta1));
      this.accBeta2[j] = Math.fround(this.accBeta2[j] * Math.fround(config.optimizer.beta2));
    });
  }

  /** Lane j's logged loss values and gradient norms of the last step. */
  stepLog(j: number, step: number): StepLog {
    const out = new Float64Array(this.memory.buffer, this.words.OUT!, 8 * this.configs[0].loggedLosses.length);
    const log: StepLog = { step, losses: {}, gradNorms: {} };
    this.configs[0].loggedLosses.forEach((name, s) => {
      log.losses[name] = out[8 * s + j];
      log.gradNorms[name] = out[8 * s + 4 + j];
    });
    return log;
  }

  /** Evaluates every lane on its validation set (batch norm on the moving averages). */
  evaluate(): Evaluation[] {
    this.exports.lanes_eval(this.ctx);
    const counts = new Int32Array(this.memory.buffer, this.words.COUNTS!, 20);
    const { validationImages, imageSize } = this.configs[0];
    const total = validationImages * imageSize * imageSize;
    return Array.from({ length: this.runs }, (_, j) => {
      const [correct, interBg, interFg, predFg, trueFg] = [0, 1, 2, 3, 4].map((k) => counts[4 * k + j]);
      return scoresOf({ total, correct, inter: [interBg, interFg], predicted: [total - predFg, predFg], truth: [total - trueFg, trueFg] });
    });
  }

  /** Lane j's current parameters, in ConvNet.trainable's order, flattened (for tests). */
  parametersOf(j: number): Float32Array {
    const f32 = new Float32Array(this.memory.buffer);
    return Float32Array.from({ length: this.parameters }, (_, k) => f32[LaneGroup.at(this.words.PARAMS!, k, j)]);
  }

  /** Lane j's batch norm moving averages, [layer][mean…, variance…] flattened (for tests). */
  movingAveragesOf(j: number): Float32Array {
    const f32 = new Float32Array(this.memory.buffer);
    const count = this.configs[0].nConv * 2 * this.configs[0].filters;
    return Float32Array.from({ length: count }, (_, k) => f32[LaneGroup.at(this.words.MOVING!, k, j)]);
  }

  /** The bytes of the group's memory (flat over a run: it is sized once). */
  memoryBytes(): number {
    return this.memory.buffer.byteLength;
  }
}


/**
 * Trains 1–4 runs of one architecture in lockstep and yields every step's rows (per run, null
 * once it has ended); returns each run's outcome. The logs are those `trainRun` would give up to
 * float32 summation order, and bit for bit the same for a run whatever its group.
 */
export function* trainLanes(configs: readonly RunConfig[]): Generator<LaneRows, RunOutcome[]> {
  const group = new LaneGroup(configs);
  const steps = configs[0].steps;
  const evalEvery = configs[0].evalEvery;
  const outcomes: (RunOutcome | null)[] = configs.map(() => null);
  for (let step = 0; step < steps; step++) {
    group.step();
    const rows: LaneRows = configs.map((_, j) => (outcomes[j] ? null : group.stepLog(j, step)));
    rows.forEach((row, j) => {
      if (row && Object.values(row.losses).some((v) => !Number.isFinite(v))) {
        outcomes[j] = { status: 'diverged', steps: step + 1, divergedAt: step, parameters: group.parameters };
        rows[j] = row; // the diverged step is logged, without an evaluation
      }
    });
    if (step % evalEvery === 0 || step === steps - 1) {
      const evaluations = group.evaluate();
      rows.forEach((row, j) => {
        if (row && !(outcomes[j]?.divergedAt === step)) row.eval = evaluations[j];
      });
    }
    yield rows;
    if (outcomes.every((o) => o != null)) break;
  }
  return outcomes.map((o) => o ?? { status: 'completed', steps, parameters: group.parameters });
}
