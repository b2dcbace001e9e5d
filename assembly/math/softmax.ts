/**
 * The softmax's shared pieces: the numerators of a channel-major tile (the C > 2 paths of every
 * loss kernel), and for two classes the softmax as σ of the difference (every C = 2 path, and the
 * logistic sigmoid itself).
 *
 * Two classes. With d = z_1 − z_0 (for a sigmoid, d = z) the pixel needs one exp and, for its
 * log-probabilities, one log:
 *   t = e^{−|d|},  p_max = 1 / (1 + t),  p_min = t · p_max,
 *   p_1 = σ(d) = (d > 0 ? p_max : p_min),  p_0 = σ(−d) = (d > 0 ? p_min : p_max),
 *   −log p_1 = log1p(t) + max(−d, 0),  −log p_0 = log1p(t) + max(d, 0).
 * Only e^{−|d|} ≤ 1 is ever formed, so no logit overflows; the smaller probability is t · p_max, not
 * 1 − p_max, so it keeps its relative accuracy (a confident pixel's p_min of 1e-20 is not rounded
 * to 0, nor its loss and gradient with it); at d = 0 both branches give ½. The pieces are inlined
 * one by one: what a caller does not use the optimiser drops, and what two pieces share (t·p_max,
 * d > 0) it computes once. Scalar twins (`_f32`) do the same arithmetic.
 */
import { exp_neg_f32, exp_neg_f32x4 } from './exp';

/**
 * m = lane-wise max over the tile's C vectors at `zTile`; writes e_c = exp(z_c − m) to `eTile`
 * (which may be `zTile`) and, with `keepShifted`, z_c − m back to `zTile`; returns s = Σ_c e_c.
 */
// @ts-ignore: decorator
@inline export function tile_exp_sum_f32x4(zTile: usize, eTile: usize, tileBytes: usize, keepShifted: bool): v128 {
  let m = v128.load(zTile);
  for (let o: usize = 16; o < tileBytes; o += 16) m = f32x4.pmax(m, v128.load(zTile + o));
  let s = f32x4.splat(0);
  for (let o: usize = 0; o < tileBytes; o += 16) {
    const zm = f32x4.sub(v128.load(zTile + o), m);
    const e = exp_neg_f32x4(zm);
    if (keepShifted) v128.store(zTile + o, zm);
    v128.store(eTile + o, e);
    s = f32x4.add(s, e);
  }
  return s;
}

/** t = e^{−|d|}, the two-class softmax's one exp, for four pixels. */
// @ts-ignore: decorator
@inline export function softmax2_t_f32x4(d: v128): v128 {
  return exp_neg_f32x4(f32x4.neg(f32x4.abs(d)));
}

/** p_max = 1 / (1 + t), the larger of the two probabilities. */
// @ts-ignore: decorator
@inline export function softmax2_pmax_f32x4(t: v128): v128 {
  return f32x4.div(f32x4.splat(1.0), f32x4.add(f32x4.splat(1.0), t));
}

/** p_1 = σ(d) from t and p_max. */
// @ts-ignore: decorator
@inline export function softmax2_p1_f32x4(d: v128, t: v128, pMax: v128): v128 {
  return v128.bitselect(pMax, f32x4.mul(t, pMax), f32x4.gt(d, f32x4.splat(0)));
}

/** p_0 = σ(−d) from t and p_max. */
// @ts-ignore: decorator
@inline export function softmax2_p0_f32x4(d: v128, t: v128, pMax: v128): v128 {
  return v128.bitselect(f32x4.mul(t, pMax), pMax, f32x4.gt(d, f32x4.splat(0)));
}

/** −log p_1 = softplus(−d), from l = log1p(t). */
// @ts-ignore: decorator
@inline export function softmax2_nll1_f32x4(d: v128, l: v128): v128 {
  return f32x4.add(l, f32x4.pmax(f32x4.neg(d), f32x4.splat(0)));
}

/** −log p_0 = softplus(d), from l = log1p(t). */
// @ts-ignore: decorator
@inline export function softmax2_nll0_f32x4(d: v128, l: v128): v128 {
  return f32x4.add(l, f32x4.pmax(d, f32x4.splat(0)));
}

/** `softmax2_t_f32x4` for one pixel. */
// @ts-ignore: decorator
@inline export function softmax2_t_f32(d: f32): f32 {
  return exp_neg_f32(-abs<f32>(d));
}

/** `softmax2_pmax_f32x4` for one pixel. */
// @ts-ignore: decorator
@inline export function softmax2_pmax_f32(t: f32): f32 {
  return <f32>1.0 / (<f32>1.0 + t);
}

/** `softmax2_p1_f32x4` for one pixel. */
// @ts-ignore: decorator
@inline export function softmax2_p1_f32(d: f32, t: f32, pMax: f32): f32 {
  return d > 0 ? pMax : t * pMax;
}

/** `softmax2_p0_f32x4` for one pixel. */
// @ts-ignore: decorator
@inline export function softmax2_p0_f32(d: f32, t: f32, pMax: f32): f32 {
  return d > 0 ? t * pMax : pMax;
}

/** `softmax2_nll1_f32x4` for one pixel. */
// @ts-ignore: decorator
@inline export function softmax2_nll1_f32(d: f32, l: f32): f32 {
  return l + max<f32>(-d, 0);
}

/** `softmax2_nll0_f32x4` for one pixel. */
// @ts-ignore: decorator
@inline export function softmax2_nll0_f32(d: f32, l: f32): f32 {
  return l + max<f32>(d, 0);
}
