/**
 * The region losses as formulas of one group's per-class sums (assembly/kernels/region_losses.ts):
 *   I_c = Σ p y,  S_c = Σ p,  Y_c = Σ y,  S2_c = Σ p²,  Y2_c = Σ y²
 * Each formula turns the sums into the group's loss values and, for upstream weights m of those
 * values, the partial derivatives of Σ m·value with respect to the sums that depend on p (I, S,
 * S2): the gradient kernel needs nothing else. All in float64; a new region loss is a formula here
 * (and its tfjs-op twin in region_composite.ts), not a new kernel.
 */

export interface GroupSums {
  I: Float64Array;
  S: Float64Array;
  Y: Float64Array;
  S2: Float64Array;
  Y2: Float64Array;
}

/** ∂(Σ_o m_o value_o)/∂I_c, ∂S_c, ∂S2_c for every class c (0 for classes left out). */
export interface SumPartials {
  I: Float64Array;
  S: Float64Array;
  S2: Float64Array;
}

export interface RegionTerms {
  /** The group's loss values (one per kept class, or one for the group). */
  values: Float64Array;
  partials(m: ArrayLike<number>): SumPartials;
}

/**
 * A region loss of one group's sums. One that reads S2 or Y2 says so with `squares: true`: the
 * statistics kernel leaves them out otherwise (GroupSums then holds NaN for them, so that a
 * formula reading them unannounced shows it).
 */
export type RegionFormula = ((sums: GroupSums) => RegionTerms) & { readonly squares?: boolean };

function zeros(C: number): SumPartials {
  return { I: new Float64Array(C), S: new Float64Array(C), S2: new Float64Array(C) };
}

export interface DiceFormulaOptions {
  firstClass: number;
  square: boolean;
  jaccard: boolean;
  log: boolean;
  numerator: number;
  denominator: number;
  classWeights: readonly number[] | null;
}

/**
 * Dice per class c ≥ firstClass, with q = 2 for `square` (Y2, S2) and 1 otherwise (Y, S):
 *   D_c = Y_c^(q) + S_c^(q)  (Jaccard: 2 (Y_c^(q) + S_c^(q) − I_c), as MONAI)
 *   r_c = (2 I_c + ε_n) / (D_c + ε_d),   value_c = w_c (1 − r_c)   (log: w_c · −ln r_c, as smp)
 */
export function diceFormula(o: DiceFormulaOptions, C: number): RegionFormula {
  return Object.assign((s: GroupSums): RegionTerms => {
    const kept = C - o.firstClass;
    const values = new Float64Array(kept);
    const r = new Float64Array(kept);
    const den = new Float64Array(kept);
    for (let k = 0; k < kept; k++) {
      const c = k + o.firstClass;
      const yq = o.square ? s.Y2[c] : s.Y[c];
      const sq = o.square ? s.S2[c] : s.S[c];
      den[k] = (o.jaccard ? 2 * (yq + sq - s.I[c]) : yq + sq) + o.denominator;
      r[k] = (2 * s.I[c] + o.numerator) / den[k];
      values[k] = (o.classWeights?.[c] ?? 1) * (o.log ? -Math.log(r[k]) : 1 - r[k]);
    }
    return {
      values,
      partials: (m) => {
        const d = zeros(C);
        for (let k = 0; k < kept; k++) {
          const c = k + o.firstClass;
          const num = 2 * s.I[c] + o.numerator;
          const dDdI = o.jaccard ? -2 : 0;
          const dDdSq = o.jaccard ? 2 : 1;
          const drdI = 2 / den[k] - (num / (den[k] * den[k])) * dDdI;
          const drdSq = -(num / (den[k] * den[k])) * dDdSq;
          const scale = m[k] * (o.classWeights?.[c] ?? 1) * (o.log ? -1 / r[k] : -1);
          d.I[c] = scale * drdI;
          if (o.square) d.S2[c] = scale * drdSq;
          else d.S[c] = scale * drdSq;
        }
        return d;
      },
    };
  }, { squares: o.square });
}

export interface GeneralizedDiceFormulaOptions {
  firstClass: number;
  weightType: 'square' | 'simple' | 'uniform';
  numerator: number;
  denominator: number;
}

/**
 * Generalized Dice per group (MONAI's GeneralizedDiceLoss): w_c = 1/Y_c², 1/Y_c or 1, an infinite
 * weight (a class absent from the group's labels) replaced by the group's largest finite one;
 *   value = 1 − (2 Σ_c w_c I_c + ε_n) / (Σ_c w_c (Y_c + S_c) + ε_d)
 * The weights depend on the labels only: no gradient flows through them.
 */
export function generalizedDiceFormula(o: GeneralizedDiceFormulaOptions, C: number): RegionFormula {
  return (s) => {
    const w = new Float64Array(C);
    let largest = 0;
    for (let c = o.firstClass; c < C; c++) {
      w[c] = o.weightType === 'uniform' ? 1 : o.weightType === 'simple' ? 1 / s.Y[c] : 1 / (s.Y[c] * s.Y[c]);
      if (Number.isFinite(w[c])) largest = Math.max(largest, w[c]);
    }
    let num = o.numerator;
    let den = o.denominator;
    for (let c = o.firstClass; c < C; c++) {
      if (!Number.isFinite(w[c])) w[c] = largest;
      num += 2 * w[c] * s.I[c];
      den += w[c] * (s.Y[c] + s.S[c]);
    }
    return {
      values: Float64Array.of(1 - num / den),
      partials: (m) => {
        const d = zeros(C);
        for (let c = o.firstClass; c < C; c++) {
          d.I[c] = (-m[0] * 2 * w[c]) / den;
          d.S[c] = (m[0] * num * w[c]) / (den * den);
        }
        return d;
      },
    };
  };
}

export interface TverskyFormulaOptions {
  firstClass: number;
  alpha: number;
  beta: number;
  gamma: number;
  numerator: number;
  denominator: number;
}

/**
 * Tversky per class (MONAI's TverskyLoss; γ ≠ 1 is focal Tversky): with FP = S − I, FN = Y − I,
 *   TI_c = (I_c + ε_n) / (I_c + α FP_c + β FN_c + ε_d),   value_c = (1 − TI_c)^γ
 */
export function tverskyFormula(o: TverskyFormulaOptions, C: number): RegionFormula {
  return (s) => {
    const kept = C - o.firstClass;
    const values = new Float64Array(kept);
    const ti = new Float64Array(kept);
    const den = new Float64Array(kept);
    for (let k = 0; k < kept; k++) {
      const c = k + o.firstClass;
      den[k] = s.I[c] + o.alpha * (s.S[c] - s.I[c]) + o.beta * (s.Y[c] - s.I[c]) + o.denominator;
      ti[k] = (s.I[c] + o.numerator) / den[k];
      values[k] = o.gamma === 1 ? 1 - ti[k] : (1 - ti[k]) ** o.gamma;
    }
    return {
      values,
      partials: (m) => {
        const d = zeros(C);
        for (let k = 0; k < kept; k++) {
          const c = k + o.firstClass;
          const num = s.I[c] + o.numerator;
          // At 1 − TI = 0 (a saturated class) the derivative is taken as 0, not γ·0^(γ−1) = ∞ for γ < 1.
          const dfdTI = o.gamma === 1 ? -1 : 1 - ti[k] > 0 ? -o.gamma * (1 - ti[k]) ** (o.gamma - 1) : 0;
          const dTIdI = 1 / den[k] - (num * (1 - o.alpha - o.beta)) / (den[k] * den[k]);
          const dTIdS = -(num * o.alpha) / (den[k] * den[k]);
          d.I[c] = m[k] * dfdTI * dTIdI;
          d.S[c] = m[k] * dfdTI * dTIdS;
        }
        return d;
      },
    };
  };
}
