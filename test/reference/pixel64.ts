/**
 * Float64 references of the pixel losses (binary cross-entropy, focal, cross-entropy with label
 * smoothing or given probabilities) and of the compounds (Dice + CE, Dice + focal), straight from
 * their definitions in src/losses/types.ts, with gradients by central differences. Same layout as
 * region64.ts: channels last, any rank.
 */
import type {
  BinaryCrossEntropyOptions, CategoricalCrossEntropyOptions, DiceCrossEntropyOptions, DiceFocalOptions, FocalOptions,
} from '../../src/losses/types.js';
import { region64, type RegionCase64, type RegionResult64 } from './region64.js';

export type PixelOp = 'binaryCrossEntropy' | 'focal' | 'categoricalCrossEntropy' | 'diceCrossEntropy' | 'diceFocal';
export type PixelOptions64 = BinaryCrossEntropyOptions | FocalOptions | CategoricalCrossEntropyOptions | DiceCrossEntropyOptions | DiceFocalOptions;

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
/** log(1 + e^x), stable: −log σ(−x). */
const softplus = (v: number) => Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)));
const clampedLog = (p: number) => Math.max(Math.log(p), -100);

function label(c64: RegionCase64, i: number, c: number, C: number): number {
  if (c64.labels.kind === 'dense') return c64.labels.data[i * C + c];
  return c64.labels.data[i] === (C === 1 ? 1 : c) ? 1 : 0;
}

function ignored(c64: RegionCase64, i: number, ignoreIndex: number | undefined): boolean {
  return c64.labels.kind === 'index' && ignoreIndex !== undefined && c64.labels.data[i] === ignoreIndex;
}

/** log p of pixel i: log-softmax of logits, or clamped logs of given probabilities. */
function logSoftmax(x: ArrayLike<number>, i: number, C: number, given: boolean): number[] {
  if (given) return Array.from({ length: C }, (_, c) => clampedLog(x[i * C + c]));
  let m = -Infinity;
  for (let c = 0; c < C; c++) m = Math.max(m, x[i * C + c]);
  let total = 0;
  for (let c = 0; c < C; c++) total += Math.exp(x[i * C + c] - m);
  return Array.from({ length: C }, (_, c) => x[i * C + c] - m - Math.log(total));
}

interface PixelValues {
  /** Per pixel (CE, softmax focal) or per element (BCE, sigmoid focal); ignored ones are 0. */
  values: number[];
  denominator: number;
}

function crossEntropy(c64: RegionCase64, x: ArrayLike<number>, o: { classWeights?: readonly number[]; labelSmoothing?: number; given: boolean; ignoreIndex?: number }): PixelValues {
  const C = c64.shape[c64.shape.length - 1];
  const P = x.length / C;
  const s = o.labelSmoothing ?? 0;
  const values: number[] = [];
  let denominator = 0;
  for (let i = 0; i < P; i++) {
    if (ignored(c64, i, o.ignoreIndex)) { values.push(0); continue; }
    const logp = logSoftmax(x, i, C, o.given);
    let v = 0;
    let d = 0;
    for (let c = 0; c < C; c++) {
      const w = o.classWeights?.[c] ?? 1;
      const y = label(c64, i, c, C);
      v -= w * ((1 - s) * y + s / C) * logp[c];
      d += w * y;
    }
    values.push(v);
    denominator += o.classWeights ? d : 1;
  }
  return { values, denominator };
}

function binary(c64: RegionCase64, x: ArrayLike<number>, o: { posWeight?: readonly number[]; labelSmoothing?: number; given: boolean; ignoreIndex?: number }): PixelValues {
  const C = c64.shape[c64.shape.length - 1];
  const P = x.length / C;
  const s = o.labelSmoothing ?? 0;
  const values: number[] = [];
  let denominator = 0;
  for (let i = 0; i < P; i++) {
    const skip = ignored(c64, i, o.ignoreIndex);
    for (let c = 0; c < C; c++) {
      if (skip) { values.push(0); continue; }
      const z = x[i * C + c];
      const y = (1 - s) * label(c64, i, c, C) + s / 2;
      const logP = o.given ? clampedLog(z) : -softplus(-z);
      const log1mP = o.given ? clampedLog(1 - z) : -softplus(z);
      values.push(-((o.posWeight?.[c] ?? 1) * y * logP + (1 - y) * log1mP));
      denominator++;
    }
  }
  return { values, denominator };
}

function focal(c64: RegionCase64, x: ArrayLike<number>, o: { gamma?: number; alpha?: number | readonly number[]; activation: string; ignoreIndex?: number }): PixelValues {
  const C = c64.shape[c64.shape.length - 1];
  const P = x.length / C;
  const gamma = o.gamma ?? 2;
  const values: number[] = [];
  let denominator = 0;
  if (o.activation !== 'sigmoid') {
    const alpha = (c: number) => (o.alpha === undefined ? 1 : typeof o.alpha === 'number' ? (c === 0 ? 1 - o.alpha : o.alpha) : o.alpha[c]);
    for (let i = 0; i < P; i++) {
      if (ignored(c64, i, o.ignoreIndex)) { values.push(0); continue; }
      const logp = logSoftmax(x, i, C, o.activation === 'none');
      let v = 0;
      for (let c = 0; c < C; c++) v -= alpha(c) * label(c64, i, c, C) * (1 - Math.exp(logp[c])) ** gamma * logp[c];
      values.push(v);
      denominator++;
    }
    return { values, denominator };
  }
  const alpha = (c: number) => (o.alpha === undefined ? null : typeof o.alpha === 'number' ? o.alpha : o.alpha[c]);
  for (let i = 0; i < P; i++) {
    const skip = ignored(c64, i, o.ignoreIndex);
    for (let c = 0; c < C; c++) {
      if (skip) { values.push(0); continue; }
      const z = x[i * C + c];
      const y = label(c64, i, c, C);
      const p = sigmoid(z);
      const ce = y * softplus(-z) + (1 - y) * softplus(z);
      const pt = p * y + (1 - p) * (1 - y);
      const a = alpha(c);
      values.push((a == null ? 1 : a * y + (1 - a) * (1 - y)) * (1 - pt) ** gamma * ce);
      denominator++;
    }
  }
  return { values, denominator };
}

function reduce(v: PixelValues, reduction: string | undefined): number | Float64Array {
  if (reduction === 'none') return Float64Array.from(v.values);
  const total = v.values.reduce((a, b) => a + b, 0);
  // A mean over no counted pixel (every one ignored) is 0 (segloss's convention; PyTorch's is NaN).
  return reduction === 'sum' ? total : v.denominator > 0 ? total / v.denominator : 0;
}

function lossOf(op: PixelOp, c64: RegionCase64, x: Float64Array, o: PixelOptions64): number | Float64Array {
  switch (op) {
    case 'binaryCrossEntropy': {
      const b = o as BinaryCrossEntropyOptions;
      return reduce(binary(c64, x, { ...b, given: b.activation === 'none' }), b.reduction);
    }
    case 'focal': {
      const f = o as FocalOptions;
      return reduce(focal(c64, x, { ...f, activation: f.activation ?? 'softmax' }), f.reduction);
    }
    case 'categoricalCrossEntropy': {
      const e = o as CategoricalCrossEntropyOptions;
      return reduce(crossEntropy(c64, x, { ...e, given: e.activation === 'none' }), e.reduction);
    }
    default: {
      const k = o as DiceCrossEntropyOptions & DiceFocalOptions;
      const activation = k.activation ?? 'softmax';
      const dice = region64('dice', { ...c64, input: x }, { ...k.dice, activation, ignoreIndex: k.ignoreIndex, reduction: k.reduction }, false).loss as number;
      if (op === 'diceCrossEntropy') {
        const part = activation === 'sigmoid'
          ? binary(c64, x, { posWeight: k.ce?.posWeight, labelSmoothing: k.ce?.labelSmoothing, given: false, ignoreIndex: k.ignoreIndex })
          : crossEntropy(c64, x, { classWeights: k.ce?.classWeights, labelSmoothing: k.ce?.labelSmoothing, given: false, ignoreIndex: k.ignoreIndex });
        return (k.lambdaDice ?? 1) * dice + (k.lambdaCe ?? 1) * (reduce(part, k.reduction) as number);
      }
      const part = focal(c64, x, { gamma: k.focal?.gamma, alpha: k.focal?.alpha, activation: k.focal?.activation ?? activation, ignoreIndex: k.ignoreIndex });
      return (k.lambdaDice ?? 1) * dice + (k.lambdaFocal ?? 1) * (reduce(part, k.reduction) as number);
    }
  }
}

/** The loss of `op` and its gradient by central differences. */
export function pixel64(op: PixelOp, c64: RegionCase64, o: PixelOptions64): RegionResult64 {
  const x = Float64Array.from(c64.input);
  const total = (v: number | Float64Array) => (typeof v === 'number' ? v : v.reduce((a, b) => a + b, 0));
  const loss = lossOf(op, c64, x, o);
  const grad = new Float64Array(x.length);
  for (let k = 0; k < x.length; k++) {
    // Probabilities stay inside (0, 1): a step of 1e-7 of their distance to the nearer edge at most.
    const h = 1e-6 * Math.max(1, Math.abs(x[k]));
    const keep = x[k];
    x[k] = keep + h;
    const up = total(lossOf(op, c64, x, o));
    x[k] = keep - h;
    const down = total(lossOf(op, c64, x, o));
    x[k] = keep;
    grad[k] = (up - down) / (2 * h);
  }
  return { loss, grad };
}
