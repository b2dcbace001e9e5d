/**
 * Float64 references of the region losses (Dice in every form, generalized Dice, Tversky), written
 * straight from their definitions in src/losses/types.ts — loops over pixels and classes, no shared
 * code with src/losses/region_formulas.ts — and their gradients by central finite differences in
 * float64 (so the fused kernels' analytic gradients are checked against differences, not against
 * another derivation). Layout: channels last, pixel i, channel c at i·C + c, any rank.
 */
import type { Activation, DiceOptions, GeneralizedDiceOptions, RegionEpsilon, TverskyOptions } from '../../src/losses/types.js';

export type RegionOp = 'dice' | 'generalizedDice' | 'tversky';
export type RegionOptions64 = DiceOptions | GeneralizedDiceOptions | TverskyOptions;

export interface RegionCase64 {
  /** [N, ...spatial, C]. */
  shape: readonly number[];
  labels: { kind: 'index'; data: Int32Array } | { kind: 'dense'; data: Float64Array | Float32Array };
  /** Logits, or probabilities for activation 'none'. */
  input: ArrayLike<number>;
}

export interface RegionResult64 {
  /** A scalar, or the values of reduction 'none' (flat). */
  loss: number | Float64Array;
  /** d(Σ loss)/d(input), by central differences. */
  grad: Float64Array;
}

function eps(e: RegionEpsilon | undefined): [number, number] {
  if (e === undefined) return [1e-7, 1e-7];
  return typeof e === 'number' ? [e, e] : [e.numerator, e.denominator];
}

function probabilities(x: ArrayLike<number>, P: number, C: number, activation: Activation): Float64Array {
  const p = new Float64Array(P * C);
  for (let i = 0; i < P; i++) {
    if (activation === 'softmax') {
      let m = -Infinity;
      for (let c = 0; c < C; c++) m = Math.max(m, x[i * C + c]);
      let total = 0;
      for (let c = 0; c < C; c++) total += Math.exp(x[i * C + c] - m);
      for (let c = 0; c < C; c++) p[i * C + c] = Math.exp(x[i * C + c] - m) / total;
    } else {
      for (let c = 0; c < C; c++) p[i * C + c] = activation === 'sigmoid' ? 1 / (1 + Math.exp(-x[i * C + c])) : x[i * C + c];
    }
  }
  return p;
}

/** The loss values (before reduction) per group: [groups][values]. */
function groupValues(op: RegionOp, c64: RegionCase64, x: ArrayLike<number>, o: RegionOptions64): number[][] {
  const C = c64.shape[c64.shape.length - 1];
  const P = c64.input.length / C;
  const N = c64.shape[0];
  const groups = o.perImage ? N : 1;
  const perGroup = P / groups;
  const p = probabilities(x, P, C, o.activation ?? 'softmax');
  const first = o.includeBackground === false ? 1 : 0;
  const [en, ed] = eps(o.epsilon);
  const out: number[][] = [];
  for (let g = 0; g < groups; g++) {
    const I = new Float64Array(C), S = new Float64Array(C), Y = new Float64Array(C), S2 = new Float64Array(C), Y2 = new Float64Array(C);
    for (let i = g * perGroup; i < (g + 1) * perGroup; i++) {
      if (c64.labels.kind === 'index' && o.ignoreIndex !== undefined && c64.labels.data[i] === o.ignoreIndex) continue;
      for (let c = 0; c < C; c++) {
        // Index labels: one-hot; for a single channel, the binary mask itself (1 = the class).
        const y = c64.labels.kind === 'index' ? (c64.labels.data[i] === (C === 1 ? 1 : c) ? 1 : 0) : c64.labels.data[i * C + c];
        const pc = p[i * C + c];
        I[c] += y * pc;
        S[c] += pc;
        Y[c] += y;
        S2[c] += pc * pc;
        Y2[c] += y * y;
      }
    }
    const values: number[] = [];
    if (op === 'dice') {
      const d = o as DiceOptions;
      for (let c = first; c < C; c++) {
        const yq = d.square ? Y2[c] : Y[c];
        const sq = d.square ? S2[c] : S[c];
        const intersection = I[c];
        const union = d.jaccard ? 2 * (yq + sq - intersection) : yq + sq;
        const score = (2 * intersection + en) / (union + ed);
        values.push((d.classWeights?.[c] ?? 1) * (d.log ? -Math.log(score) : 1 - score));
      }
    } else if (op === 'tversky') {
      const t = o as TverskyOptions;
      const alpha = t.alpha ?? 0.5;
      const beta = t.beta ?? 0.5;
      for (let c = first; c < C; c++) {
        const tp = I[c];
        const fp = S[c] - I[c];
        const fn = Y[c] - I[c];
        const ti = (tp + en) / (tp + alpha * fp + beta * fn + ed);
        values.push((1 - ti) ** (t.gamma ?? 1));
      }
    } else {
      const type = (o as GeneralizedDiceOptions).weightType ?? 'square';
      const w: number[] = [];
      for (let c = first; c < C; c++) w.push(type === 'uniform' ? 1 : type === 'simple' ? 1 / Y[c] : 1 / (Y[c] * Y[c]));
      const largest = Math.max(0, ...w.filter(Number.isFinite));
      let num = en;
      let den = ed;
      for (let c = first; c < C; c++) {
        const wc = Number.isFinite(w[c - first]) ? w[c - first] : largest;
        num += 2 * wc * I[c];
        den += wc * (Y[c] + S[c]);
      }
      values.push(1 - num / den);
    }
    out.push(values);
  }
  return out;
}

function reduce(values: number[][], o: RegionOptions64): number | Float64Array {
  const flat = values.flat();
  const reduction = o.reduction ?? 'mean';
  if (reduction === 'none') return Float64Array.from(flat);
  const total = flat.reduce((a, b) => a + b, 0);
  return reduction === 'sum' ? total : total / flat.length;
}

/**
 * The loss of `op` on case `c64` with options `o`, and its gradient by central differences (empty
 * without `withGrad`).
 */
export function region64(op: RegionOp, c64: RegionCase64, o: RegionOptions64, withGrad = true): RegionResult64 {
  const x = Float64Array.from(c64.input);
  const total = (v: number | Float64Array) => (typeof v === 'number' ? v : v.reduce((a, b) => a + b, 0));
  const loss = reduce(groupValues(op, c64, x, o), o);
  const grad = new Float64Array(withGrad ? x.length : 0);
  for (let k = 0; k < grad.length; k++) {
    const h = 1e-6 * Math.max(1, Math.abs(x[k]));
    const keep = x[k];
    x[k] = keep + h;
    const up = total(reduce(groupValues(op, c64, x, o), o));
    x[k] = keep - h;
    const down = total(reduce(groupValues(op, c64, x, o), o));
    x[k] = keep;
    grad[k] = (up - down) / (2 * h);
  }
  return { loss, grad };
}
