/**
 * The region engine's SIMD pixel terms (formulas in region_losses.ts's header): BCE and sigmoid
 * focal on four-element vectors, cross-entropy and softmax focal on four-pixel channel tiles (C > 2)
 * or as σ of the difference (C = 2), each from logits or with probabilities given; pass 1 (value,
 * denominator, and alone the one-pass gradient) and pass 2 (the gradient, added to the region
 * part's or written).
 */
import { log1p_unit_f32x4, log_f32x4 } from '../math/log';
import {
  even_f32x4, gather_tile_f32x4, mask_to_f32x4, odd_f32x4, scatter_tile_f32x4, store_interleaved_f32x4,
} from '../math/lanes';
import {
  softmax2_nll0_f32x4, softmax2_nll1_f32x4, softmax2_p0_f32x4, softmax2_p1_f32x4, softmax2_pmax_f32x4, softmax2_t_f32x4,
  tile_exp_sum_f32x4,
} from '../math/softmax';
import { LABELS_INDEX, labels_c2_f32x4 } from './labels';
import { FLUSH_EVERY, PX_ACT_NONE, PX_BCE, PX_CE, PX_FOCAL_SOFTMAX, param } from './region_common';
import {
  add_f64, element_keep, element_y_f32x4, period, period_params, pow_f32x4, tile_keep, tile_labels, tile_y,
} from './region_lanes';

/**
 * `sigmoid_term_f32x4`'s gradient alone, as a call of its own: inlined into the compound's gradient
 * loop it took [8,128,128,4] Dice + sigmoid focal's gradient pass to 3.9 ms (register pressure).
 */
export function sigmoid_term_grad_f32x4(
  kind: i32, z: v128, y: v128, a: v128, gamma: f32, s: f32, hasAlpha: bool, gradAt: usize, scale: v128, keep: v128,
): void {
  sigmoid_term_f32x4(kind, z, y, a, gamma, s, hasAlpha, gradAt, scale, keep);
}

/**
 * BCE or sigmoid focal value of four elements; when `gradAt` is not 0, `scale`·∂ℓ/∂z (masked by
 * `keep`) is stored there. e^−|z|, softplus and σ are shared by both (what a caller does not use,
 * the optimiser drops).
 */
// @ts-ignore: decorator
@inline export function sigmoid_term_f32x4(
  kind: i32, z: v128, y: v128, a: v128, gamma: f32, s: f32, hasAlpha: bool, gradAt: usize, scale: v128, keep: v128,
): v128 {
  const t = softmax2_t_f32x4(z);
  return sigmoid_term_tp_f32x4(kind, z, t, sigmoid_of_t_f32x4(z, t), y, a, gamma, s, hasAlpha, gradAt, scale, keep);
}

/** σ(z) from t = e^−|z|: 1/(1 + t) for z ≥ 0, t/(1 + t) below (as `sigmoid_f32x4`). */
// @ts-ignore: decorator
@inline export function sigmoid_of_t_f32x4(z: v128, t: v128): v128 {
  return softmax2_p1_f32x4(z, t, softmax2_pmax_f32x4(t));
}

/** `sigmoid_term_f32x4` with t = e^−|z| and p = σ(z) already formed (the sigmoid compounds share them). */
// @ts-ignore: decorator
@inline export function sigmoid_term_tp_f32x4(
  kind: i32, z: v128, t: v128, p: v128, y: v128, a: v128, gamma: f32, s: f32, hasAlpha: bool, gradAt: usize, scale: v128, keep: v128,
  ceAt: usize = 0,
): v128 {
  const one = f32x4.splat(1.0);
  const sp = softmax2_nll0_f32x4(z, log1p_unit_f32x4(t)); // softplus(z)
  let value: v128;
  let d: v128;
  if (kind == PX_BCE) {
    // ℓ = a ys softplus(−z) + (1 − ys) softplus(z) = softplus(z)·(a ys + 1 − ys) − a ys z
    const ys = f32x4.add(f32x4.mul(y, f32x4.splat(1.0 - s)), f32x4.splat(s * 0.5));
    const ay = f32x4.mul(a, ys);
    const w = f32x4.add(ay, f32x4.sub(one, ys));
    value = f32x4.sub(f32x4.mul(sp, w), f32x4.mul(ay, z));
    d = f32x4.sub(f32x4.mul(p, w), ay);
  } else {
    const ce = f32x4.sub(sp, f32x4.mul(y, z));
    if (ceAt) v128.store(ceAt, ce);
    const m = f32x4.sub(f32x4.add(p, y), f32x4.mul(f32x4.mul(f32x4.splat(2.0), p), y));
    const alphaT = hasAlpha ? f32x4.add(f32x4.mul(a, y), f32x4.mul(f32x4.sub(one, a), f32x4.sub(one, y))) : one;
    value = f32x4.mul(alphaT, f32x4.mul(pow_f32x4(m, gamma), ce));
    d = sigmoid_focal_grad_f32x4(p, y, ce, m, alphaT, gamma);
  }
  if (gradAt) v128.store(gradAt, v128.and(f32x4.mul(scale, d), keep));
  return value;
}

/**
 * Sigmoid focal's ∂ℓ/∂z from p = σ(z), y, ce = softplus(z) − y z, m = 1 − p_t and α_t:
 *   ℓ = α_t m^γ ce,  ∂/∂z = α_t ((p − y) m^γ + ce γ m^(γ−1) dm),  dm = −p (1 − p)(2y − 1).
 */
// @ts-ignore: decorator
@inline export function sigmoid_focal_grad_f32x4(p: v128, y: v128, ce: v128, m: v128, alphaT: v128, gamma: f32): v128 {
  const one = f32x4.splat(1.0);
  const dm = f32x4.neg(f32x4.mul(f32x4.mul(p, f32x4.sub(one, p)), f32x4.sub(f32x4.mul(f32x4.splat(2.0), y), one)));
  let second = f32x4.splat(0);
  if (gamma != 0) second = f32x4.mul(f32x4.mul(ce, f32x4.mul(f32x4.splat(gamma), pow_f32x4(m, gamma - 1.0))), dm);
  return f32x4.mul(alphaT, f32x4.add(f32x4.mul(f32x4.sub(p, y), pow_f32x4(m, gamma)), second));
}

/** `log_clamped` on four lanes: log p, at least −100, and −100 where p ≤ 0 (or NaN). */
// @ts-ignore: decorator
@inline export function log_clamped_f32x4(p: v128): v128 {
  return v128.bitselect(f32x4.pmax(log_f32x4(p), f32x4.splat(-100.0)), f32x4.splat(-100.0), f32x4.gt(p, f32x4.splat(0)));
}

/**
 * BCE or sigmoid focal of four elements given as probabilities p (PX_ACT_NONE), as the scalar
 * `pixel_loss` / `pixel_grad`: the logs clamped at −100, ∂/∂p over max(p (1 − p), 1e-12). Returns
 * the value; with `gradAt`, stores `scale`·∂ℓ/∂p masked by `keep`.
 */
// @ts-ignore: decorator
@inline export function probability_term_f32x4(
  kind: i32, p: v128, y: v128, a: v128, gamma: f32, s: f32, hasAlpha: bool, gradAt: usize, scale: v128, keep: v128,
): v128 {
  const one = f32x4.splat(1.0);
  const spNeg = f32x4.neg(log_clamped_f32x4(p));
  const spPos = f32x4.neg(log_clamped_f32x4(f32x4.sub(one, p)));
  const pq = f32x4.pmax(f32x4.mul(p, f32x4.sub(one, p)), f32x4.splat(1e-12));
  let value: v128;
  let d: v128;
  if (kind == PX_BCE) {
    const ys = f32x4.add(f32x4.mul(y, f32x4.splat(1.0 - s)), f32x4.splat(s * 0.5));
    const ay = f32x4.mul(a, ys);
    const w = f32x4.add(ay, f32x4.sub(one, ys));
    value = f32x4.add(f32x4.mul(ay, spNeg), f32x4.mul(f32x4.sub(one, ys), spPos));
    d = f32x4.div(f32x4.sub(f32x4.mul(p, w), ay), pq);
  } else {
    const ce = f32x4.add(f32x4.mul(y, spNeg), f32x4.mul(f32x4.sub(one, y), spPos));
    const m = f32x4.sub(one, f32x4.add(f32x4.mul(p, y), f32x4.mul(f32x4.sub(one, p), f32x4.sub(one, y))));
    const alphaT = hasAlpha ? f32x4.add(f32x4.mul(a, y), f32x4.mul(f32x4.sub(one, a), f32x4.sub(one, y))) : one;
    const mg = pow_f32x4(m, gamma);
    value = f32x4.mul(alphaT, f32x4.mul(mg, ce));
    const dm = f32x4.sub(one, f32x4.mul(f32x4.splat(2.0), y));
    let second = f32x4.splat(0);
    if (gamma != 0) {
      second = v128.and(f32x4.mul(f32x4.mul(ce, f32x4.mul(f32x4.splat(gamma), pow_f32x4(m, gamma - 1.0))), dm), f32x4.ne(m, f32x4.splat(0)));
    }
    d = f32x4.mul(alphaT, f32x4.add(f32x4.mul(f32x4.div(f32x4.sub(p, y), pq), mg), second));
  }
  if (gradAt) v128.store(gradAt, v128.and(f32x4.mul(scale, d), keep));
  return value;
}

/**
 * Pass 1 of BCE / sigmoid focal over the elements [e0, e0 + 4·vectors): value and denominator into
 * `ps` (f64 [2]); with `gradOut`, also `gradScale`·∂ℓ/∂z (the one-pass mode of a pixel loss alone).
 */
export function pixel_stats_elementwise_f32x4(
  kind: i32, pxAct: i32, labels: usize, labelKind: i32, input: usize, e0: i32, vectors: i32, classes: i32, hasIgnore: i32,
  ignoreIndex: i32, params: usize, pixelOut: usize, ps: usize, scratch: usize, gradOut: usize, gradScale: f32,
): void {
  const scaleV = f32x4.splat(gradScale);
  const V = period(classes);
  period_params(params, classes, scratch);
  const gamma = param(params, 2 * classes);
  const s = param(params, 2 * classes + 1);
  const hasAlpha = param(params, 2 * classes + 2) != 0;
  let done: i32 = 0;
  while (done < vectors) {
    const blockEnd = min<i32>(vectors, done + FLUSH_EVERY * V);
    let loss = f32x4.splat(0);
    let count = f32x4.splat(0);
    let j: i32 = done % V; // position in the class period (blocks are whole periods: j starts at 0)
    for (let k = done; k < blockEnd; k++) {
      const e = e0 + (k << 2);
      const z = v128.load(input + (<usize>e << 2));
      const y = element_y_f32x4(labels, labelKind, e, j << 2, classes);
      const keep = element_keep(labels, labelKind, e, classes, hasIgnore, ignoreIndex);
      const a = v128.load(scratch + (<usize>j << 4));
      if (++j == V) j = 0;
      const gradAt = gradOut ? gradOut + (<usize>e << 2) : 0;
      const v = v128.and(pxAct == PX_ACT_NONE
        ? probability_term_f32x4(kind, z, y, a, gamma, s, hasAlpha, gradAt, scaleV, keep)
        : sigmoid_term_f32x4(kind, z, y, a, gamma, s, hasAlpha, gradAt, scaleV, keep), keep);
      if (pixelOut) v128.store(pixelOut + (<usize>e << 2), v);
      loss = f32x4.add(loss, v);
      count = f32x4.add(count, v128.and(f32x4.splat(1.0), keep));
    }
    add_f64(ps, 0, loss);
    add_f64(ps, 1, count);
    done = blockEnd;
  }
}

/** Pass 2 of BCE / sigmoid focal: adds (or, with `accumulate` 0, writes) f·∂ℓ/∂z into grad. */
export function pixel_grad_elementwise_f32x4(
  kind: i32, pxAct: i32, labels: usize, labelKind: i32, input: usize, grad: usize, e0: i32, vectors: i32, classes: i32,
  hasIgnore: i32, ignoreIndex: i32, params: usize, scale: f32, pixelDy: usize, accumulate: i32, scratch: usize,
): void {
  const V = period(classes);
  period_params(params, classes, scratch);
  const gamma = param(params, 2 * classes);
  const s = param(params, 2 * classes + 1);
  const hasAlpha = param(params, 2 * classes + 2) != 0;
  const tmp = scratch + (<usize>V << 4); // one vector after the period's parameters
  let j: i32 = 0;
  for (let k: i32 = 0; k < vectors; k++) {
    const e = e0 + (k << 2);
    const at = <usize>e << 2;
    const z = v128.load(input + at);
    const y = element_y_f32x4(labels, labelKind, e, j << 2, classes);
    const keep = element_keep(labels, labelKind, e, classes, hasIgnore, ignoreIndex);
    const a = v128.load(scratch + (<usize>j << 4));
    if (++j == V) j = 0;
    const f = pixelDy ? v128.load(pixelDy + at) : f32x4.splat(scale);
    // Beside a region part its gradient is there already: add to it.
    const gradAt = accumulate ? tmp : grad + at;
    if (pxAct == PX_ACT_NONE) probability_term_f32x4(kind, z, y, a, gamma, s, hasAlpha, gradAt, f, keep);
    else sigmoid_term_f32x4(kind, z, y, a, gamma, s, hasAlpha, gradAt, f, keep);
    if (accumulate) v128.store(grad + at, f32x4.add(v128.load(tmp), v128.load(grad + at)));
  }
}

/** h = p ∂ℓ/∂p of softmax focal, a_c y_c (γ p (1 − p)^(γ−1) log p − (1 − p)^γ); 0 where y = 0 (and the lead where p = 0). */
// @ts-ignore: decorator
@inline export function focal_h_f32x4(p: v128, logp: v128, ay: v128, present: v128, gamma: f32): v128 {
  const om = f32x4.sub(f32x4.splat(1.0), p);
  let lead = f32x4.splat(0);
  if (gamma != 0) {
    lead = v128.and(f32x4.mul(f32x4.mul(f32x4.splat(gamma), p), f32x4.mul(pow_f32x4(om, gamma - 1.0), logp)), f32x4.gt(p, f32x4.splat(0)));
  }
  return v128.and(f32x4.mul(ay, f32x4.sub(lead, pow_f32x4(om, gamma))), present);
}

/**
 * Softmax focal with class indices, four pixels of a channel tile: only the labelled class k has a
 * term, so ℓ = −a_k (1 − p_k)^γ log p_k and h_c = y_c H with H = h(p_k) (one log, one pow per pixel,
 * not per element). log p_k is (z_k − m) − log Σe from `zmTile` with `fromLogits`, else log p_k.
 * Writes h_c to `hTile` when it is not 0; returns ℓ (0 for a pixel whose label is no class).
 */
// @ts-ignore: decorator
@inline export function focal_index_tile_f32x4(
  l: v128, pTile: usize, zmTile: usize, logTotal: v128, fromLogits: bool, hTile: usize, classes: i32, params: usize, gamma: f32,
  hAt: usize = 0,
): v128 {
  const zero = f32x4.splat(0);
  let pk = zero, ak = zero, zk = zero, yk = zero;
  for (let c: i32 = 0; c < classes; c++) {
    const y = mask_to_f32x4(i32x4.eq(l, i32x4.splat(c)));
    pk = f32x4.add(pk, f32x4.mul(y, v128.load(pTile + (<usize>c << 4))));
    ak = f32x4.add(ak, f32x4.mul(y, f32x4.splat(param(params, classes + c))));
    if (fromLogits) zk = f32x4.add(zk, f32x4.mul(y, v128.load(zmTile + (<usize>c << 4))));
    yk = f32x4.add(yk, y);
  }
  const present = f32x4.ne(yk, zero);
  const logp = fromLogits ? f32x4.sub(zk, logTotal) : log_f32x4(pk);
  if (hTile || hAt) {
    const h = focal_h_f32x4(pk, logp, ak, present, gamma);
    if (hAt) v128.store(hAt, h);
    if (hTile) focal_h_tile_f32x4(l, h, hTile, classes);
  }
  return v128.and(f32x4.neg(f32x4.mul(f32x4.mul(ak, pow_f32x4(f32x4.sub(f32x4.splat(1.0), pk), gamma)), logp)), present);
}

/** h_c = y_c H for four pixels with class indices `l` (H: the labelled class's h). */
// @ts-ignore: decorator
@inline export function focal_h_tile_f32x4(l: v128, h: v128, hTile: usize, classes: i32): void {
  for (let c: i32 = 0; c < classes; c++) {
    v128.store(hTile + (<usize>c << 4), f32x4.mul(mask_to_f32x4(i32x4.eq(l, i32x4.splat(c))), h));
  }
}

/** q_c = w_c ((1 − s) y_c + s/C), CE's target weight of class c. */
// @ts-ignore: decorator
@inline export function ce_q_f32x4(y: v128, params: usize, c: i32, s: f32, classes: i32): v128 {
  return f32x4.mul(f32x4.splat(param(params, c)), f32x4.add(f32x4.mul(y, f32x4.splat(1.0 - s)), f32x4.splat(s / <f32>classes)));
}

/**
 * The value of cross-entropy / softmax focal for the four pixels of a channel tile (not yet masked
 * by keep), from log p_c = (z_c − m) − log Σe: `zmTile` holds z − m, `pTile` p (read by focal only).
 * With `wantH`, focal's h_c go to `hTile` for the gradient.
 */
// @ts-ignore: decorator
@inline export function softmax_pixel_value_tile_f32x4(
  kind: i32, l: v128, labelKind: i32, yTile: usize, zmTile: usize, pTile: usize, hTile: usize, logTotal: v128,
  classes: i32, params: usize, wantH: bool, hAt: usize = 0,
): v128 {
  const gamma = param(params, 2 * classes);
  const s = param(params, 2 * classes + 1);
  if (kind == PX_FOCAL_SOFTMAX && labelKind == LABELS_INDEX) {
    return focal_index_tile_f32x4(l, pTile, zmTile, logTotal, true, wantH ? hTile : 0, classes, params, gamma, hAt);
  }
  const zero = f32x4.splat(0);
  let v = zero;
  for (let c: i32 = 0; c < classes; c++) {
    const logp = f32x4.sub(v128.load(zmTile + (<usize>c << 4)), logTotal);
    const y = tile_y(l, labelKind, yTile, c);
    if (kind == PX_CE) {
      v = f32x4.sub(v, f32x4.mul(ce_q_f32x4(y, params, c, s, classes), logp));
    } else {
      const p = v128.load(pTile + (<usize>c << 4));
      const ay = f32x4.mul(f32x4.splat(param(params, classes + c)), y);
      const present = f32x4.ne(y, zero);
      // Where y = 0 the term is 0 whatever log p is (as the scalar loop, which skips it).
      v = f32x4.sub(v, v128.and(f32x4.mul(f32x4.mul(ay, pow_f32x4(f32x4.sub(f32x4.splat(1.0), p), gamma)), logp), present));
      if (wantH) v128.store(hTile + (<usize>c << 4), focal_h_f32x4(p, logp, ay, present, gamma));
    }
  }
  return v;
}

/**
 * f·∂ℓ/∂z of cross-entropy (p_j Σq − q_j) or softmax focal (h_j − p_j Σh, h at `hTile`) for the four
 * pixels of a channel tile with p at `pTile`: written to `outTile`, or added to it with `accumulate`.
 */
// @ts-ignore: decorator
@inline export function softmax_pixel_grad_tile_f32x4(
  kind: i32, l: v128, labelKind: i32, yTile: usize, pTile: usize, hTile: usize, f: v128, classes: i32, params: usize,
  outTile: usize, accumulate: bool,
): void {
  const s = param(params, 2 * classes + 1);
  let total = f32x4.splat(0);
  for (let c: i32 = 0; c < classes; c++) {
    total = f32x4.add(total, kind == PX_CE ? ce_q_f32x4(tile_y(l, labelKind, yTile, c), params, c, s, classes) : v128.load(hTile + (<usize>c << 4)));
  }
  for (let c: i32 = 0; c < classes; c++) {
    const p = v128.load(pTile + (<usize>c << 4));
    const d = kind == PX_CE
      ? f32x4.sub(f32x4.mul(p, total), ce_q_f32x4(tile_y(l, labelKind, yTile, c), params, c, s, classes))
      : f32x4.sub(v128.load(hTile + (<usize>c << 4)), f32x4.mul(p, total));
    const at = outTile + (<usize>c << 4);
    v128.store(at, accumulate ? f32x4.add(v128.load(at), f32x4.mul(f, d)) : f32x4.mul(f, d));
  }
}

/** CE's mean denominator with class weights, Σ_c w_c y_c, for the four pixels of a channel tile. */
// @ts-ignore: decorator
@inline export function weighted_labels_tile_f32x4(l: v128, labelKind: i32, yTile: usize, classes: i32, params: usize): v128 {
  let d = f32x4.splat(0);
  for (let c: i32 = 0; c < classes; c++) d = f32x4.add(d, f32x4.mul(f32x4.splat(param(params, c)), tile_y(l, labelKind, yTile, c)));
  return d;
}

/** The mean's denominator of a pixel term for four pixels (before the keep mask). */
// @ts-ignore: decorator
@inline export function pixel_den_tile_f32x4(kind: i32, l: v128, labelKind: i32, yTile: usize, classes: i32, params: usize): v128 {
  return kind == PX_CE && param(params, 2 * classes + 3) != 0 ? weighted_labels_tile_f32x4(l, labelKind, yTile, classes, params) : f32x4.splat(1.0);
}

/**
 * Pass 1 of cross-entropy / softmax focal over the pixels [i0, i0 + 4·quads), C > 2: value and
 * denominator into `ps`; `tile` holds 4·C vectors. One exp per element: log p_c = (z_c − m) − log Σe
 * and p_c = e_c / Σe share it.
 */
export function pixel_stats_tile_f32x4(
  kind: i32, labels: usize, labelKind: i32, input: usize, i0: i32, quads: i32, classes: i32, hasIgnore: i32,
  ignoreIndex: i32, params: usize, pixelOut: usize, ps: usize, tile: usize, gradOut: usize, gradScale: f32,
): void {
  const rowBytes = <usize>classes << 2;
  const tileBytes = <usize>classes << 4;
  const zTile = tile; // z − m
  const yTile = tile + tileBytes;
  const hTile = yTile + tileBytes; // focal's h_c, for the one-pass gradient
  const pTile = hTile + tileBytes; // e^(z − m), then p
  const needP = kind != PX_CE || gradOut != 0;
  let done: i32 = 0;
  while (done < quads) {
    const blockEnd = min<i32>(quads, done + (FLUSH_EVERY >> 2));
    let loss = f32x4.splat(0);
    let den = f32x4.splat(0);
    for (let q = done; q < blockEnd; q++) {
      const i = i0 + (q << 2);
      gather_tile_f32x4(input + <usize>i * rowBytes, rowBytes, zTile);
      const total = tile_exp_sum_f32x4(zTile, pTile, tileBytes, true);
      if (needP) {
        const inv = f32x4.div(f32x4.splat(1.0), total);
        for (let o: usize = 0; o < tileBytes; o += 16) v128.store(pTile + o, f32x4.mul(v128.load(pTile + o), inv));
      }
      const l = tile_labels(labels, labelKind, i, rowBytes, yTile, classes);
      const keep = tile_keep(l, labelKind, hasIgnore, ignoreIndex);
      const v = v128.and(softmax_pixel_value_tile_f32x4(kind, l, labelKind, yTile, zTile, pTile, hTile, log_f32x4(total), classes, params, gradOut != 0), keep);
      if (gradOut) {
        // times the scale, 0 at ignored pixels
        softmax_pixel_grad_tile_f32x4(kind, l, labelKind, yTile, pTile, hTile, v128.and(f32x4.splat(gradScale), keep), classes, params, pTile, false);
        scatter_tile_f32x4(pTile, gradOut + <usize>i * rowBytes, rowBytes);
      }
      if (pixelOut) v128.store(pixelOut + (<usize>i << 2), v);
      loss = f32x4.add(loss, v);
      den = f32x4.add(den, v128.and(pixel_den_tile_f32x4(kind, l, labelKind, yTile, classes, params), keep));
    }
    add_f64(ps, 0, loss);
    add_f64(ps, 1, den);
    done = blockEnd;
  }
}

/** Pass 2 of cross-entropy / softmax focal, C > 2: adds (or writes) f·∂ℓ/∂z; `tile` holds 4·C vectors. */
export function pixel_grad_tile_f32x4(
  kind: i32, labels: usize, labelKind: i32, input: usize, grad: usize, i0: i32, quads: i32, classes: i32,
  hasIgnore: i32, ignoreIndex: i32, params: usize, scale: f32, pixelDy: usize, accumulate: i32, tile: usize,
): void {
  const rowBytes = <usize>classes << 2;
  const tileBytes = <usize>classes << 4;
  const zTile = tile; // z − m, then the gradient
  const yTile = tile + tileBytes;
  const hTile = yTile + tileBytes;
  const pTile = hTile + tileBytes;
  const gamma = param(params, 2 * classes);
  const zero = f32x4.splat(0);
  for (let q: i32 = 0; q < quads; q++) {
    const i = i0 + (q << 2);
    gather_tile_f32x4(input + <usize>i * rowBytes, rowBytes, zTile);
    const total = tile_exp_sum_f32x4(zTile, pTile, tileBytes, kind != PX_CE);
    const inv = f32x4.div(f32x4.splat(1.0), total);
    for (let o: usize = 0; o < tileBytes; o += 16) v128.store(pTile + o, f32x4.mul(v128.load(pTile + o), inv));
    const l = tile_labels(labels, labelKind, i, rowBytes, yTile, classes);
    const keep = tile_keep(l, labelKind, hasIgnore, ignoreIndex);
    if (kind != PX_CE && labelKind == LABELS_INDEX) {
      focal_index_tile_f32x4(l, pTile, zTile, log_f32x4(total), true, hTile, classes, params, gamma);
    } else if (kind != PX_CE) {
      const logTotal = log_f32x4(total);
      for (let c: i32 = 0; c < classes; c++) {
        const y = tile_y(l, labelKind, yTile, c);
        const h = focal_h_f32x4(v128.load(pTile + (<usize>c << 4)), f32x4.sub(v128.load(zTile + (<usize>c << 4)), logTotal),
          f32x4.mul(f32x4.splat(param(params, classes + c)), y), f32x4.ne(y, zero), gamma);
        v128.store(hTile + (<usize>c << 4), h);
      }
    }
    const f = v128.and(pixelDy ? v128.load(pixelDy + (<usize>i << 2)) : f32x4.splat(scale), keep);
    // With a region part, its gradient (rows in `grad`) is added to the tile.
    if (accumulate) gather_tile_f32x4(grad + <usize>i * rowBytes, rowBytes, zTile);
    softmax_pixel_grad_tile_f32x4(kind, l, labelKind, yTile, pTile, hTile, f, classes, params, zTile, accumulate != 0);
    scatter_tile_f32x4(zTile, grad + <usize>i * rowBytes, rowBytes);
  }
}

/**
 * Cross-entropy / softmax focal of the four pixels of a channel tile whose probabilities are given
 * (PX_ACT_NONE; p at `pTile`), as the scalar twins: log p clamped at −100, and ∂ℓ/∂p_c = −q_c / p_c
 * (CE) or h_c / p_c (focal) with p floored at 1e-30, 0 where q_c (h_c) is 0. Returns the value (not
 * masked); with `dTile`, writes f·∂ℓ/∂p there.
 */
// @ts-ignore: decorator
@inline export function softmax_probability_tile_f32x4(
  kind: i32, l: v128, labelKind: i32, yTile: usize, pTile: usize, dTile: usize, f: v128, classes: i32, params: usize,
): v128 {
  const gamma = param(params, 2 * classes);
  const s = param(params, 2 * classes + 1);
  const zero = f32x4.splat(0);
  const tiny = f32x4.splat(1e-30);
  let v = zero;
  for (let c: i32 = 0; c < classes; c++) {
    const p = v128.load(pTile + (<usize>c << 4));
    const y = tile_y(l, labelKind, yTile, c);
    const logp = log_clamped_f32x4(p);
    let g: v128;
    if (kind == PX_CE) {
      const q = ce_q_f32x4(y, params, c, s, classes);
      v = f32x4.sub(v, f32x4.mul(q, logp));
      g = f32x4.neg(q);
    } else {
      const ay = f32x4.mul(f32x4.splat(param(params, classes + c)), y);
      const present = f32x4.ne(y, zero);
      v = f32x4.sub(v, v128.and(f32x4.mul(f32x4.mul(ay, pow_f32x4(f32x4.sub(f32x4.splat(1.0), p), gamma)), logp), present));
      g = focal_h_f32x4(p, logp, ay, present, gamma);
    }
    if (dTile) v128.store(dTile + (<usize>c << 4), f32x4.mul(f, v128.and(f32x4.div(g, f32x4.pmax(p, tiny)), f32x4.ne(g, zero))));
  }
  return v;
}

/**
 * Pass 1 of cross-entropy / softmax focal with probabilities given, over the pixels
 * [i0, i0 + 4·quads), C ≥ 2: value and denominator into `ps`; with `gradOut`, the one-pass gradient.
 * `tile` holds 3·C vectors.
 */
export function pixel_stats_prob_tile_f32x4(
  kind: i32, labels: usize, labelKind: i32, input: usize, i0: i32, quads: i32, classes: i32, hasIgnore: i32,
  ignoreIndex: i32, params: usize, pixelOut: usize, ps: usize, tile: usize, gradOut: usize, gradScale: f32,
): void {
  const rowBytes = <usize>classes << 2;
  const tileBytes = <usize>classes << 4;
  const pTile = tile;
  const yTile = tile + tileBytes;
  const dTile = yTile + tileBytes;
  let done: i32 = 0;
  while (done < quads) {
    const blockEnd = min<i32>(quads, done + (FLUSH_EVERY >> 2));
    let loss = f32x4.splat(0);
    let den = f32x4.splat(0);
    for (let q = done; q < blockEnd; q++) {
      const i = i0 + (q << 2);
      gather_tile_f32x4(input + <usize>i * rowBytes, rowBytes, pTile);
      const l = tile_labels(labels, labelKind, i, rowBytes, yTile, classes);
      const keep = tile_keep(l, labelKind, hasIgnore, ignoreIndex);
      const v = v128.and(softmax_probability_tile_f32x4(kind, l, labelKind, yTile, pTile, gradOut ? dTile : 0,
        v128.and(f32x4.splat(gradScale), keep), classes, params), keep);
      if (gradOut) scatter_tile_f32x4(dTile, gradOut + <usize>i * rowBytes, rowBytes);
      if (pixelOut) v128.store(pixelOut + (<usize>i << 2), v);
      loss = f32x4.add(loss, v);
      den = f32x4.add(den, v128.and(pixel_den_tile_f32x4(kind, l, labelKind, yTile, classes, params), keep));
    }
    add_f64(ps, 0, loss);
    add_f64(ps, 1, den);
    done = blockEnd;
  }
}

/** Pass 2 of cross-entropy / softmax focal with probabilities given: adds (or writes) f·∂ℓ/∂p; `tile` holds 4·C vectors. */
export function pixel_grad_prob_tile_f32x4(
  kind: i32, labels: usize, labelKind: i32, input: usize, grad: usize, i0: i32, quads: i32, classes: i32,
  hasIgnore: i32, ignoreIndex: i32, params: usize, scale: f32, pixelDy: usize, accumulate: i32, tile: usize,
): void {
  const rowBytes = <usize>classes << 2;
  const tileBytes = <usize>classes << 4;
  const pTile = tile;
  const yTile = tile + tileBytes;
  const dTile = yTile + tileBytes;
  const gTile = dTile + tileBytes;
  for (let q: i32 = 0; q < quads; q++) {
    const i = i0 + (q << 2);
    gather_tile_f32x4(input + <usize>i * rowBytes, rowBytes, pTile);
    const l = tile_labels(labels, labelKind, i, rowBytes, yTile, classes);
    const keep = tile_keep(l, labelKind, hasIgnore, ignoreIndex);
    const f = v128.and(pixelDy ? v128.load(pixelDy + (<usize>i << 2)) : f32x4.splat(scale), keep);
    softmax_probability_tile_f32x4(kind, l, labelKind, yTile, pTile, dTile, f, classes, params);
    if (accumulate) {
      // Add the region part's gradient, as rows, to the tile's pixel part.
      gather_tile_f32x4(grad + <usize>i * rowBytes, rowBytes, gTile);
      for (let o: usize = 0; o < tileBytes; o += 16) v128.store(dTile + o, f32x4.add(v128.load(dTile + o), v128.load(gTile + o)));
    }
    scatter_tile_f32x4(dTile, grad + <usize>i * rowBytes, rowBytes);
  }
}

/**
 * A two-class softmax pixel term of four pixels: with d = z_1 − z_0, p_1 = σ(d), p_0 = σ(−d),
 * log p_1 = −softplus(−d), log p_0 = −softplus(d) (one exp and one log for both classes). Returns the
 * value; stores ∂ℓ/∂z_1 (= −∂ℓ/∂z_0) times `scale` at `dz1At` when it is not 0.
 */
// @ts-ignore: decorator
@inline export function softmax_c2_term_f32x4(
  kind: i32, d: v128, y0: v128, y1: v128, params: usize, gamma: f32, s: f32, dz1At: usize, scale: v128,
): v128 {
  const zero = f32x4.splat(0);
  const t = softmax2_t_f32x4(d);
  const l = log1p_unit_f32x4(t);
  const logp1 = f32x4.neg(softmax2_nll1_f32x4(d, l));
  const logp0 = f32x4.neg(softmax2_nll0_f32x4(d, l));
  if (kind == PX_CE) {
    const share = f32x4.splat(s * 0.5);
    const q0 = f32x4.mul(f32x4.splat(param(params, 0)), f32x4.add(f32x4.mul(y0, f32x4.splat(1.0 - s)), share));
    const q1 = f32x4.mul(f32x4.splat(param(params, 1)), f32x4.add(f32x4.mul(y1, f32x4.splat(1.0 - s)), share));
    if (dz1At) {
      const p1 = softmax2_p1_f32x4(d, t, softmax2_pmax_f32x4(t));
      v128.store(dz1At, f32x4.mul(scale, f32x4.sub(f32x4.mul(p1, f32x4.add(q0, q1)), q1)));
    }
    return f32x4.neg(f32x4.add(f32x4.mul(q0, logp0), f32x4.mul(q1, logp1)));
  }
  const pMax = softmax2_pmax_f32x4(t);
  const p1 = softmax2_p1_f32x4(d, t, pMax);
  const p0 = softmax2_p0_f32x4(d, t, pMax);
  const a0 = f32x4.mul(f32x4.splat(param(params, 2)), y0);
  const a1 = f32x4.mul(f32x4.splat(param(params, 3)), y1);
  // 1 − p_0 = p_1 and 1 − p_1 = p_0, exactly as computed.
  const m0 = pow_f32x4(p1, gamma);
  const m1 = pow_f32x4(p0, gamma);
  const value = f32x4.neg(f32x4.add(
    v128.and(f32x4.mul(f32x4.mul(a0, m0), logp0), f32x4.ne(y0, zero)),
    v128.and(f32x4.mul(f32x4.mul(a1, m1), logp1), f32x4.ne(y1, zero))));
  if (dz1At) {
    let lead0 = zero;
    let lead1 = zero;
    if (gamma != 0) {
      lead0 = f32x4.mul(f32x4.mul(f32x4.splat(gamma), p0), f32x4.mul(pow_f32x4(p1, gamma - 1.0), logp0));
      lead1 = f32x4.mul(f32x4.mul(f32x4.splat(gamma), p1), f32x4.mul(pow_f32x4(p0, gamma - 1.0), logp1));
    }
    const h0 = v128.and(f32x4.mul(a0, f32x4.sub(lead0, m0)), f32x4.ne(y0, zero));
    const h1 = v128.and(f32x4.mul(a1, f32x4.sub(lead1, m1)), f32x4.ne(y1, zero));
    // ∂/∂z_1 = h_1 − p_1 (h_0 + h_1) = h_1 p_0 − p_1 h_0
    v128.store(dz1At, f32x4.mul(scale, f32x4.sub(f32x4.mul(h1, p0), f32x4.mul(p1, h0))));
  }
  return value;
}

/**
 * Pass 1 of a two-class softmax CE / focal over pixels [i0, i0 + 4·quads); with `gradOut`, the
 * one-pass gradient. CE with nothing ignored runs a loop of its own, free of the other branches.
 */
export function pixel_stats_c2_f32x4(
  kind: i32, labels: usize, labelKind: i32, input: usize, i0: i32, quads: i32, hasIgnore: i32, ignoreIndex: i32,
  params: usize, pixelOut: usize, ps: usize, scratch: usize, gradOut: usize, gradScale: f32,
): void {
  const ignoring = hasIgnore != 0 && labelKind == LABELS_INDEX;
  if (kind == PX_CE && !ignoring) {
    pixel_stats_c2_loop(PX_CE, labels, labelKind, input, i0, quads, false, 0, params, pixelOut, ps, scratch, gradOut, gradScale);
  } else {
    pixel_stats_c2_loop(kind, labels, labelKind, input, i0, quads, ignoring, ignoreIndex, params, pixelOut, ps, scratch, gradOut, gradScale);
  }
}

/** `pixel_stats_c2_f32x4`'s loop; inlined with constant `kind` and `ignoring` where it can be. */
// @ts-ignore: decorator
@inline function pixel_stats_c2_loop(
  kind: i32, labels: usize, labelKind: i32, input: usize, i0: i32, quads: i32, ignoring: bool, ignoreIndex: i32,
  params: usize, pixelOut: usize, ps: usize, scratch: usize, gradOut: usize, gradScale: f32,
): void {
  const gamma = param(params, 4);
  const s = param(params, 5);
  const weighted = param(params, 7) != 0;
  const w0 = f32x4.splat(param(params, 0));
  const w1 = f32x4.splat(param(params, 1));
  let done: i32 = 0;
  while (done < quads) {
    const blockEnd = min<i32>(quads, done + (FLUSH_EVERY >> 2));
    let loss = f32x4.splat(0);
    let den = f32x4.splat(0);
    for (let q = done; q < blockEnd; q++) {
      const i = i0 + (q << 2);
      const zp = input + (<usize>i << 3);
      const za = v128.load(zp);
      const zb = v128.load(zp, 16);
      const d = f32x4.sub(odd_f32x4(za, zb), even_f32x4(za, zb));
      const y0 = labels_c2_f32x4(labels, labelKind, i, 0);
      const y1 = labels_c2_f32x4(labels, labelKind, i, 1);
      let keep = i32x4.splat(-1);
      if (ignoring) keep = v128.not(i32x4.eq(v128.load(labels + (<usize>i << 2)), i32x4.splat(ignoreIndex)));
      const v = v128.and(softmax_c2_term_f32x4(kind, d, y0, y1, params, gamma, s, gradOut ? scratch : 0, f32x4.splat(gradScale)), keep);
      if (gradOut) {
        const dz1 = v128.and(v128.load(scratch), keep);
        store_interleaved_f32x4(gradOut + (<usize>i << 3), f32x4.neg(dz1), dz1);
      }
      if (pixelOut) v128.store(pixelOut + (<usize>i << 2), v);
      loss = f32x4.add(loss, v);
      const dp = kind == PX_CE && weighted ? f32x4.add(f32x4.mul(w0, y0), f32x4.mul(w1, y1)) : f32x4.splat(1.0);
      den = f32x4.add(den, v128.and(dp, keep));
    }
    add_f64(ps, 0, loss);
    add_f64(ps, 1, den);
    done = blockEnd;
  }
}

/** Pass 2 of a two-class softmax CE / focal: adds (or writes) f·∂ℓ/∂z. */
export function pixel_grad_c2_f32x4(
  kind: i32, labels: usize, labelKind: i32, input: usize, grad: usize, i0: i32, quads: i32, hasIgnore: i32,
  ignoreIndex: i32, params: usize, scale: f32, pixelDy: usize, accumulate: i32, scratch: usize,
): void {
  const gamma = param(params, 4);
  const s = param(params, 5);
  for (let q: i32 = 0; q < quads; q++) {
    const i = i0 + (q << 2);
    const zp = input + (<usize>i << 3);
    const za = v128.load(zp);
    const zb = v128.load(zp, 16);
    const d = f32x4.sub(odd_f32x4(za, zb), even_f32x4(za, zb));
    const y0 = labels_c2_f32x4(labels, labelKind, i, 0);
    const y1 = labels_c2_f32x4(labels, labelKind, i, 1);
    let keep = i32x4.splat(-1);
    if (hasIgnore && labelKind == LABELS_INDEX) keep = v128.not(i32x4.eq(v128.load(labels + (<usize>i << 2)), i32x4.splat(ignoreIndex)));
    const f = pixelDy ? v128.load(pixelDy + (<usize>i << 2)) : f32x4.splat(scale);
    softmax_c2_term_f32x4(kind, d, y0, y1, params, gamma, s, scratch, f);
    const dz1 = v128.and(v128.load(scratch), keep);
    let g0 = f32x4.neg(dz1);
    let g1 = dz1;
    if (accumulate) {
      const gp = grad + (<usize>i << 3);
      const ga = v128.load(gp);
      const gb = v128.load(gp, 16);
      g0 = f32x4.add(g0, even_f32x4(ga, gb));
      g1 = f32x4.add(g1, odd_f32x4(ga, gb));
    }
    store_interleaved_f32x4(grad + (<usize>i << 3), g0, g1);
  }
}
