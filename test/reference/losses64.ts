/**
 * Float64 reference implementations of the segmentation losses and their gradients with respect
 * to the logits, in plain TypeScript (no tfjs). Written to be read and checked against DESIGN.md §3
 * and src/losses/types.ts, not to be fast: every kernel and the composite fallback is tested
 * against these, and these are tested against finite differences.
 *
 * Layout: logits and one-hot labels are NHWC flattened, pixels major and channels last, so the
 * value of pixel i, channel c sits at index i·C + c; index labels hold one class per pixel.
 */
import type { CategoricalCrossEntropyOptions, LossName, SeedDiceOptions } from '../../src/losses/types.js';

/** Logits of P pixels × C channels, channels last. */
export type Logits64 = Float64Array | Float32Array | readonly number[];

/** Labels: one-hot (or soft) targets of P × C values, or one class index per pixel. */
export type Labels64 =
  | { kind: 'onehot'; data: Float64Array | Float32Array }
  | { kind: 'index'; data: Int32Array };

/** [N, H, W, C]. */
export type Shape4 = readonly [number, number, number, number];

/** A scalar loss and its gradient with respect to the logits (P × C). */
export interface LossAndGrad {
  loss: number;
  grad: Float64Array;
}

/** A CCE result: a scalar, or the per-pixel losses for reduction 'none'. */
export interface CceResult {
  loss: number | Float64Array;
  /** d(loss)/d(logits); for 'none' the gradient of the sum of the per-pixel losses. */
  grad: Float64Array;
}

const DEFAULT_EPSILON = 1e-7;

/** Softmax over the channels of every pixel, stable: the pixel's max is subtracted first. */
export function softmax64(logits: Logits64, C: number): Float64Array {
  const P = logits.length / C;
  const p = new Float64Array(logits.length);
  for (let i = 0; i < P; i++) {
    const m = pixelMax(logits, i, C);
    let total = 0;
    for (let c = 0; c < C; c++) {
      p[i * C + c] = Math.exp(logits[i * C + c] - m);
      total += p[i * C + c];
    }
    for (let c = 0; c < C; c++) p[i * C + c] /= total;
  }
  return p;
}

/**
 * Categorical cross-entropy, with the semantics of `CategoricalCrossEntropyOptions`:
 * per-class term ℓ_ic = logsumexp(z_i) − z_ic (exact) or −log(clip(p_ic, ε, 1 − ε)) (clip);
 * pixel loss Σ_c ω_c y_ic ℓ_ic (ω = class weights or 1); 'sum' adds the pixel losses, 'mean'
 * divides that by Σ_i Σ_c w_c y_ic (weighted) or by the number of counted pixels (unweighted),
 * 'none' returns the pixel losses. Pixels labelled `ignoreIndex` count nowhere.
 */
export function cce64(
  labels: Labels64,
  logits: Logits64,
  shape: Shape4,
  opts: CategoricalCrossEntropyOptions = {},
): CceResult {
  const C = shape[3];
  const P = shape[0] * shape[1] * shape[2];
  const clip = opts.clip ?? false;
  const eps = opts.epsilon ?? DEFAULT_EPSILON;
  const reduction = opts.reduction ?? 'mean';
  const weights = opts.classWeights;
  const { y, counted } = denseLabels(labels, P, C, opts.ignoreIndex);
  const p = softmax64(logits, C);

  const perPixel = new Float64Array(P);
  // Gradient of the sum of the pixel losses; the mean rescales it at the end.
  const grad = new Float64Array(P * C);
  const passes = new Float64Array(C); // u_c: 1 where the term's gradient flows, 0 where p was clipped
  let numerator = 0;
  let denominator = 0;

  for (let i = 0; i < P; i++) {
    if (!counted[i]) continue;
    const lse = logSumExp(logits, i, C);
    let loss = 0;
    let flowing = 0; // Σ_c ω_c y_c u_c
    let weight = 0; // Σ_c w_c y_c, this pixel's share of the weighted mean's denominator
    for (let c = 0; c < C; c++) {
      const k = i * C + c;
      const wy = (weights ? weights[c] : 1) * y[k];
      let term: number;
      if (clip) {
        term = -Math.log(Math.min(Math.max(p[k], eps), 1 - eps));
        // Inclusive bounds pass the gradient, like TensorFlow's clip_by_value.
        passes[c] = p[k] >= eps && p[k] <= 1 - eps ? 1 : 0;
      } else {
        term = lse - logits[k];
        passes[c] = 1;
      }
      loss += wy * term;
      flowing += wy * passes[c];
      weight += wy;
    }
    // d/dz_j of Σ_c ω_c y_c ℓ_c, with dℓ_c/dz_j = u_c (p_j − δ_cj) in both forms.
    for (let j = 0; j < C; j++) {
      const k = i * C + j;
      grad[k] = p[k] * flowing - (weights ? weights[j] : 1) * y[k] * passes[j];
    }
    perPixel[i] = loss;
    numerator += loss;
    denominator += weights ? weight : 1;
  }

  if (reduction === 'none') return { loss: perPixel, grad };
  if (reduction === 'sum') return { loss: numerator, grad };
  for (let k = 0; k < grad.length; k++) grad[k] /= denominator;
  return { loss: numerator / denominator, grad };
}

/**
 * Dice loss, with the semantics of `SeedDiceOptions`: 1 − mean over (group, class ∈ K) of
 * (2 Σ y p + ε) / (Σ y^q + Σ p^q + ε), q = 2 with `square`, else 1; K drops channel 0 when
 * `includeBackground` is false; a group is the whole batch, or one image with `perImage`.
 */
export function dice64(labels: Labels64, logits: Logits64, shape: Shape4, opts: SeedDiceOptions = {}): LossAndGrad {
  const [N, , , C] = shape;
  const P = shape[0] * shape[1] * shape[2];
  const q = opts.square ? 2 : 1;
  const eps = opts.epsilon ?? DEFAULT_EPSILON;
  const firstClass = (opts.includeBackground ?? true) ? 0 : 1;
  const groups = opts.perImage ? N : 1;
  const pixelsPerGroup = P / groups;
  const { y } = denseLabels(labels, P, C, undefined);
  const p = softmax64(logits, C);
  const power = (v: number) => (q === 2 ? v * v : v);

  // Per (group, class) sums: intersection Σ y p and the two denominator sums.
  const inter = new Float64Array(groups * C);
  const sumY = new Float64Array(groups * C);
  const sumP = new Float64Array(groups * C);
  for (let i = 0; i < P; i++) {
    const g = Math.floor(i / pixelsPerGroup);
    for (let c = 0; c < C; c++) {
      inter[g * C + c] += y[i * C + c] * p[i * C + c];
      sumY[g * C + c] += power(y[i * C + c]);
      sumP[g * C + c] += power(p[i * C + c]);
    }
  }

  const terms = groups * (C - firstClass);
  let scoreTotal = 0;
  for (let g = 0; g < groups; g++) {
    for (let c = firstClass; c < C; c++) {
      scoreTotal += (2 * inter[g * C + c] + eps) / (sumY[g * C + c] + sumP[g * C + c] + eps);
    }
  }

  // dL/dp_ic = −(1/terms)·(2 y_ic / D − (2I + ε)·q·p_ic^(q−1) / D²) for c ∈ K, 0 otherwise.
  const dLdp = new Float64Array(P * C);
  for (let i = 0; i < P; i++) {
    const g = Math.floor(i / pixelsPerGroup);
    for (let c = firstClass; c < C; c++) {
      const k = i * C + c;
      const num = 2 * inter[g * C + c] + eps;
      const den = sumY[g * C + c] + sumP[g * C + c] + eps;
      const dDen = q === 2 ? 2 * p[k] : 1;
      dLdp[k] = -((2 * y[k]) / den - (num * dDen) / (den * den)) / terms;
    }
  }

  return { loss: 1 - scoreTotal / terms, grad: softmaxBackward(p, dLdp, C) };
}

/**
 * The five losses of the seed study: `cce` is the seed's clipped CCE with mean reduction; the
 * Dice variants are the batch Dice with or without squares and background.
 */
export function segmentationLosses64(
  labels: Labels64,
  logits: Logits64,
  shape: Shape4,
  epsilon = DEFAULT_EPSILON,
): Record<LossName, LossAndGrad> {
  const cce = cce64(labels, logits, shape, { clip: true, epsilon, reduction: 'mean' });
  return {
    cce: { loss: cce.loss as number, grad: cce.grad },
    dice: dice64(labels, logits, shape, { epsilon }),
    dice_square: dice64(labels, logits, shape, { epsilon, square: true }),
    dicefg: dice64(labels, logits, shape, { epsilon, includeBackground: false }),
    dicefg_square: dice64(labels, logits, shape, { epsilon, includeBackground: false, square: true }),
  };
}

/** Central finite differences (f(x + h e_k) − f(x − h e_k)) / 2h in float64; `x` is left untouched. */
export function finiteDifferenceGrad(f: (x: Float64Array) => number, x: Float64Array, h = 1e-6): Float64Array {
  const work = Float64Array.from(x);
  const grad = new Float64Array(x.length);
  for (let k = 0; k < x.length; k++) {
    work[k] = x[k] + h;
    const up = f(work);
    work[k] = x[k] - h;
    const down = f(work);
    work[k] = x[k];
    grad[k] = (up - down) / (2 * h);
  }
  return grad;
}

/**
 * Labels as dense float64 targets (P × C) plus which pixels count. Index labels become one-hot;
 * a pixel labelled `ignoreIndex` gets an all-zero row and does not count. Anything else that is
 * not a class index is a bug in the calling test, so it throws.
 */
function denseLabels(
  labels: Labels64,
  P: number,
  C: number,
  ignoreIndex: number | undefined,
): { y: Float64Array; counted: Uint8Array } {
  const counted = new Uint8Array(P).fill(1);
  if (labels.kind === 'onehot') {
    if (ignoreIndex !== undefined) throw new Error('ignoreIndex applies only to index labels');
    if (labels.data.length !== P * C) throw new Error(`one-hot labels: length ${labels.data.length}, expected ${P * C}`);
    return { y: Float64Array.from(labels.data), counted };
  }
  if (labels.data.length !== P) throw new Error(`index labels: length ${labels.data.length}, expected ${P}`);
  const y = new Float64Array(P * C);
  for (let i = 0; i < P; i++) {
    const label = labels.data[i];
    if (label === ignoreIndex) {
      counted[i] = 0;
    } else if (Number.isInteger(label) && label >= 0 && label < C) {
      y[i * C + label] = 1;
    } else {
      throw new Error(`index labels: pixel ${i} has label ${label}, outside [0, ${C})`);
    }
  }
  return { y, counted };
}

function pixelMax(logits: Logits64, i: number, C: number): number {
  let m = -Infinity;
  for (let c = 0; c < C; c++) m = Math.max(m, logits[i * C + c]);
  return m;
}

/** log Σ_c exp(z_ic), stable. */
function logSumExp(logits: Logits64, i: number, C: number): number {
  const m = pixelMax(logits, i, C);
  let total = 0;
  for (let c = 0; c < C; c++) total += Math.exp(logits[i * C + c] - m);
  return m + Math.log(total);
}

/** Chain rule through the softmax of every pixel: dL/dz_j = p_j (g_j − Σ_c p_c g_c), g = dL/dp. */
function softmaxBackward(p: Float64Array, dLdp: Float64Array, C: number): Float64Array {
  const grad = new Float64Array(p.length);
  for (let i = 0; i < p.length / C; i++) {
    let dot = 0;
    for (let c = 0; c < C; c++) dot += p[i * C + c] * dLdp[i * C + c];
    for (let j = 0; j < C; j++) grad[i * C + j] = p[i * C + j] * (dLdp[i * C + j] - dot);
  }
  return grad;
}
