/**
 * Fused softmax + categorical cross-entropy: the loss and dLoss/dlogits in one pass over logits.
 *
 * Notation, pixel i (NHWC: a pixel's C logits are contiguous), class c:
 *   m = max_c z_c,  e_c = exp(z_c − m),  s = Σ_c e_c = 1 + t  (t sums every e_c but the max's),
 *   p_c = e_c / s,  nll_c = −log p_c = log1p(t) − (z_c − m)                        (1)
 * Subtracting m keeps every exp argument ≤ 0, so |z| up to 1e4 (or 1e38) stays finite; writing the
 * log as log1p(t) keeps the loss's relative accuracy when the prediction is confident (t ≪ 1).
 *
 * Forward. Labels are one-hot (or soft) floats y_c, or an int32 index y with y_c = [c = y]. With
 * class weights w and v_c = w_c·y_c, the pixel's loss is
 *   exact form:  ℓ = Σ_c v_c nll_c
 *   clip form:   ℓ = Σ_c v_c clamp(nll_c, −log(1−ε), −log ε)   (= −Σ v_c log clip(p_c, ε, 1−ε))
 * and the kernel returns Σ_i ℓ_i (in f64); the caller divides for the mean.
 *
 * Backward. ∂nll_c/∂z_j = p_j − δ_cj. A clipped term has zero gradient (u_c = 0 where p_c < ε or
 * p_c > 1 − ε, else u_c = 1; the exact form has u ≡ 1), so with a = Σ_c v_c u_c
 *   ∂ℓ/∂z_j = p_j·a − v_j·u_j                                                        (2)
 * written as scale·(2) into the gradient buffer (scale = 1/denominator for the mean), during the
 * same pass that computes the loss.
 *
 * Error: each nll_c carries the ≤ 2-ulp errors of exp/log (see assembly/math) plus rounding of
 * s, i.e. ≈ 3e-7 relative; sums are accumulated in f32 lanes for blocks of at most 1024 pixels
 * and then in f64, so the total is accurate to ≈ 1e-6 relative for any pixel count.
 *
 * Variants (picked by `softmax_cce_fwd_bwd`):
 *   C = 2, f32x4:   softmax of two classes is a sigmoid of d = z1 − z0: one exp and one log per
 *                   pixel, four pixels per vector (channels de-interleaved with shuffles).
 *   C > 2, f32x4:   four pixels at a time as C channel vectors (see `cce_tile_f32x4`).
 *   otherwise, and every path of the scalar build: one pixel, one channel at a time.
 *
 * Why CCE keeps a kernel of its own beside the loss engine's cross-entropy (region_losses.ts, which
 * takes label smoothing, probabilities and the compounds): the engine has no clip form on logits
 * (the seed study's), and its CE runs at 0.89–0.93× this kernel at C = 2, 0.91× at C = 4, 0.87–0.88×
 * in 3D, 0.96–0.98× at C = 8 (0.95–0.98× at C = 3): forward + backward, raw kernels in one process,
 * issue #25 (bench/RESULTS.md). Folding it in needs the clip form there, and 3D within 10 %.
 */
import { exp_f32 } from '../math/exp';
import { log_f32, log_f32x4, log1p_f32, log1p_unit_f32, log1p_unit_f32x4 } from '../math/log';
import {
  even_f32x4, odd_f32x4, store_interleaved_f32x4, hsum_f32x4, gather_tile_f32x4, scatter_tile_f32x4,
} from '../math/lanes';
import {
  softmax2_nll0_f32, softmax2_nll0_f32x4, softmax2_nll1_f32, softmax2_nll1_f32x4, softmax2_p0_f32, softmax2_p0_f32x4,
  softmax2_p1_f32, softmax2_p1_f32x4, softmax2_pmax_f32, softmax2_pmax_f32x4, softmax2_t_f32, softmax2_t_f32x4, tile_exp_sum_f32x4,
} from '../math/softmax';

import { LABELS_ONE_HOT, LABELS_INDEX } from './labels';

// Lane sums are flushed into f64 after this many vector steps to bound f32 rounding growth.
// @ts-ignore: decorator
@inline const FLUSH_EVERY: i32 = 256;

/**
 * Softmax + CCE forward and backward over `pixels` pixels of `classes` channels.
 *
 * @param labels      address of the labels (layout given by `labelKind`)
 * @param labelKind   LABELS_ONE_HOT or LABELS_INDEX
 * @param logits      address of float32 logits [pixels, classes]
 * @param grad        address of the float32 gradient output [pixels, classes], or 0 for none
 * @param lossOut     address of the float32 per-pixel loss output [pixels], or 0 for none
 * @param pixels      number of pixels P
 * @param classes     number of classes C ≥ 1
 * @param weights     address of C float32 class weights (all 1 when the caller has none)
 * @param ignoreIndex index labels equal to it count nowhere (any value outside [0, C) disables it)
 * @param clip        0: exact form; 1: the seed's clip form
 * @param epsilon     ε of the clip form
 * @param scale       factor applied to the gradient (1/denominator for the mean)
 * @param tile        address of 3·C·16 bytes of scratch (16-byte aligned is best)
 * @returns           Σ_i ℓ_i in f64
 */
export function softmax_cce_fwd_bwd(
  labels: usize, labelKind: i32, logits: usize, grad: usize, lossOut: usize,
  pixels: i32, classes: i32, weights: usize, ignoreIndex: i32, clip: i32, epsilon: f32, scale: f32,
  tile: usize,
): f64 {
  const clipOn = clip != 0;
  const nllLo = -log_f32(1.0 - epsilon);
  const nllHi = -log_f32(epsilon);
  if (classes == 2) {
    let done: i32 = 0;
    let total: f64 = 0;
    if (ASC_FEATURE_SIMD) {
      done = pixels & ~3;
      total = cce_c2_f32x4(labels, labelKind, logits, grad, lossOut, done, weights,
        ignoreIndex, clipOn, epsilon, nllLo, nllHi, scale);
    }
    return total + cce_c2_scalar(labels, labelKind, logits, grad, lossOut, done, pixels, weights,
      ignoreIndex, clipOn, epsilon, nllLo, nllHi, scale);
  }
  let done: i32 = 0;
  let total: f64 = 0;
  if (ASC_FEATURE_SIMD) {
    if (classes > 2) {
      done = pixels & ~3;
      total = cce_tile_f32x4(labels, labelKind, logits, grad, lossOut, done, classes, weights,
        ignoreIndex, clipOn, nllLo, nllHi, scale, tile);
    }
  }
  return total + cce_generic_scalar(labels, labelKind, logits, grad, lossOut, done, pixels, classes,
    weights, ignoreIndex, clipOn, nllLo, nllHi, scale);
}

/** C = 2, four pixels per step. `count` is a multiple of 4. */
function cce_c2_f32x4(
  labels: usize, labelKind: i32, logits: usize, grad: usize, lossOut: usize, count: i32,
  weights: usize, ignoreIndex: i32, clipOn: bool, epsilon: f32, nllLo: f32, nllHi: f32, scale: f32,
): f64 {
  const w0 = f32x4.splat(load<f32>(weights));
  const w1 = f32x4.splat(load<f32>(weights, 4));
  const zero = f32x4.splat(0.0);
  const lo = f32x4.splat(nllLo);
  const hi = f32x4.splat(nllHi);
  const scaleV = f32x4.splat(scale);
  const ignoreV = i32x4.splat(ignoreIndex);
  let total: f64 = 0;
  let acc = zero;
  let sinceFlush: i32 = 0;
  // Two independent four-pixel groups per iteration give the out-of-order core two exp/log
  // dependency chains to overlap.
  let i: i32 = 0;
  for (; i + 8 <= count; i += 8) {
    const loss = f32x4.add(
      cce_c2_group(i, labels, labelKind, logits, grad, lossOut, w0, w1, ignoreV, clipOn, lo, hi, scaleV),
      cce_c2_group(i + 4, labels, labelKind, logits, grad, lossOut, w0, w1, ignoreV, clipOn, lo, hi, scaleV));
    acc = f32x4.add(acc, loss);
    if (++sinceFlush == FLUSH_EVERY) {
      total += hsum_f32x4(acc);
      acc = zero;
      sinceFlush = 0;
    }
  }
  if (i < count) {
    acc = f32x4.add(acc,
      cce_c2_group(i, labels, labelKind, logits, grad, lossOut, w0, w1, ignoreV, clipOn, lo, hi, scaleV));
  }
  return total + hsum_f32x4(acc);
}

/** Pixels i..i+3 of `cce_c2_f32x4`: writes their gradient (and losses), returns their losses. */
// @ts-ignore: decorator
@inline function cce_c2_group(
  i: i32, labels: usize, labelKind: i32, logits: usize, grad: usize, lossOut: usize, w0: v128, w1: v128,
  ignoreV: v128, clipOn: bool, lo: v128, hi: v128, scaleV: v128,
): v128 {
  const zp = logits + (<usize>i << 3);
  const za = v128.load(zp);
  const zb = v128.load(zp, 16);
  const z0 = even_f32x4(za, zb);
  const z1 = odd_f32x4(za, zb);
  // v_c = w_c·y_c for the four pixels.
  let v0: v128, v1: v128;
  if (labelKind == LABELS_ONE_HOT) {
    const yp = labels + (<usize>i << 3);
    const ya = v128.load(yp);
    const yb = v128.load(yp, 16);
    v0 = f32x4.mul(w0, even_f32x4(ya, yb));
    v1 = f32x4.mul(w1, odd_f32x4(ya, yb));
  } else {
    const y = v128.load(labels + (<usize>i << 2));
    const counted = v128.not(i32x4.eq(y, ignoreV));
    v0 = v128.and(w0, v128.and(counted, i32x4.eq(y, i32x4.splat(0))));
    v1 = v128.and(w1, v128.and(counted, i32x4.eq(y, i32x4.splat(1))));
  }
  // Two-class softmax as σ of the difference (math/softmax.ts).
  const d = f32x4.sub(z1, z0);
  const t = softmax2_t_f32x4(d);
  const pMax = softmax2_pmax_f32x4(t);
  const p0 = softmax2_p0_f32x4(d, t, pMax);
  const p1 = softmax2_p1_f32x4(d, t, pMax);
  const L = log1p_unit_f32x4(t);
  let nll0 = softmax2_nll0_f32x4(d, L);
  let nll1 = softmax2_nll1_f32x4(d, L);
  let vu0 = v0;
  let vu1 = v1;
  if (clipOn) {
    // A term is clipped exactly when clamping changes it (ε ≤ p ≤ 1 − ε ⟺ lo ≤ nll ≤ hi).
    const c0 = f32x4.pmin(f32x4.pmax(nll0, lo), hi);
    const c1 = f32x4.pmin(f32x4.pmax(nll1, lo), hi);
    vu0 = v128.and(v0, f32x4.eq(c0, nll0));
    vu1 = v128.and(v1, f32x4.eq(c1, nll1));
    nll0 = c0;
    nll1 = c1;
  }
  const loss = f32x4.add(f32x4.mul(v0, nll0), f32x4.mul(v1, nll1));
  if (lossOut) v128.store(lossOut + (<usize>i << 2), loss);
  if (grad) {
    const a = f32x4.add(vu0, vu1);
    const g0 = f32x4.mul(f32x4.sub(f32x4.mul(p0, a), vu0), scaleV);
    const g1 = f32x4.mul(f32x4.sub(f32x4.mul(p1, a), vu1), scaleV);
    store_interleaved_f32x4(grad + (<usize>i << 3), g0, g1);
  }
  return loss;
}

/** C = 2, one pixel per step, pixels [start, end): the scalar twin of `cce_c2_f32x4`. */
function cce_c2_scalar(
  labels: usize, labelKind: i32, logits: usize, grad: usize, lossOut: usize, start: i32, end: i32,
  weights: usize, ignoreIndex: i32, clipOn: bool, epsilon: f32, nllLo: f32, nllHi: f32, scale: f32,
): f64 {
  const w0 = load<f32>(weights);
  const w1 = load<f32>(weights, 4);
  const pHi: f32 = 1.0 - epsilon;
  let total: f64 = 0;
  for (let i = start; i < end; i++) {
    const zp = logits + (<usize>i << 3);
    const z0 = load<f32>(zp);
    const z1 = load<f32>(zp, 4);
    let v0: f32, v1: f32;
    if (labelKind == LABELS_ONE_HOT) {
      const yp = labels + (<usize>i << 3);
      v0 = w0 * load<f32>(yp);
      v1 = w1 * load<f32>(yp, 4);
    } else {
      const y = load<i32>(labels + (<usize>i << 2));
      const counted = y != ignoreIndex;
      v0 = counted && y == 0 ? w0 : 0;
      v1 = counted && y == 1 ? w1 : 0;
    }
    const d = z1 - z0;
    const t = softmax2_t_f32(d);
    const pMax = softmax2_pmax_f32(t);
    const p0 = softmax2_p0_f32(d, t, pMax);
    const p1 = softmax2_p1_f32(d, t, pMax);
    const L = log1p_unit_f32(t);
    let nll0 = softmax2_nll0_f32(d, L);
    let nll1 = softmax2_nll1_f32(d, L);
    let vu0 = v0;
    let vu1 = v1;
    if (clipOn) {
      const c0 = min<f32>(max<f32>(nll0, nllLo), nllHi);
      const c1 = min<f32>(max<f32>(nll1, nllLo), nllHi);
      if (c0 != nll0) vu0 = 0;
      if (c1 != nll1) vu1 = 0;
      nll0 = c0;
      nll1 = c1;
    }
    const loss = v0 * nll0 + v1 * nll1;
    if (lossOut) store<f32>(lossOut + (<usize>i << 2), loss);
    total += loss;
    if (grad) {
      const a = vu0 + vu1;
      const gp = grad + (<usize>i << 3);
      store<f32>(gp, (p0 * a - vu0) * scale);
      store<f32>(gp, (p1 * a - vu1) * scale, 4);
    }
  }
  return total;
}

/**
 * C > 2: four pixels per step. Their rows are transposed into a tile of C channel vectors (lane =
 * pixel; 4×4 transposes for C % 4 = 0, lane by lane otherwise), so every step below is plain
 * lane-wise arithmetic, one vector log per four pixels, and the gradient is transposed back into
 * place. `tile` holds 3·C vectors.
 */
function cce_tile_f32x4(
  labels: usize, labelKind: i32, logits: usize, grad: usize, lossOut: usize, count: i32,
  classes: i32, weights: usize, ignoreIndex: i32, clipOn: bool, nllLo: f32, nllHi: f32,
  scale: f32, tile: usize,
): f64 {
  const rowBytes = <usize>classes << 2;
  const tileBytes = rowBytes << 2;
  const zTile = tile;                 // z − m
  const eTile = tile + tileBytes;     // e = exp(z − m), then the gradient
  const vTile = tile + 2 * tileBytes; // labels, then v·u
  const zero = f32x4.splat(0.0);
  const lo = f32x4.splat(nllLo);
  const hi = f32x4.splat(nllHi);
  const scaleV = f32x4.splat(scale);
  let total: f64 = 0;
  let acc = zero;
  let sinceFlush: i32 = 0;
  for (let i: i32 = 0; i < count; i += 4) {
    const rows = <usize>i * rowBytes;
    gather_tile_f32x4(logits + rows, rowBytes, zTile);
    const s = tile_exp_sum_f32x4(zTile, eTile, tileBytes, true);
    const L = log_f32x4(s);
    const r = f32x4.div(f32x4.splat(1.0), s);
    // Index labels of the four pixels (ignored ones → −1, which matches no class).
    let y = i32x4.splat(-1);
    if (labelKind == LABELS_ONE_HOT) {
      gather_tile_f32x4(labels + rows, rowBytes, vTile);
    } else {
      y = v128.load(labels + (<usize>i << 2));
      y = v128.bitselect(i32x4.splat(-1), y, i32x4.eq(y, i32x4.splat(ignoreIndex)));
    }
    let loss = zero;
    let a = zero;
    for (let c: i32 = 0; c < classes; c++) {
      const o = <usize>c << 4;
      const w = f32x4.splat(load<f32>(weights + (<usize>c << 2)));
      const v = labelKind == LABELS_ONE_HOT
        ? f32x4.mul(w, v128.load(vTile + o))
        : v128.and(w, i32x4.eq(y, i32x4.splat(c)));
      let nll = f32x4.sub(L, v128.load(zTile + o));
      let vu = v;
      if (clipOn) {
        const clamped = f32x4.pmin(f32x4.pmax(nll, lo), hi);
        vu = v128.and(v, f32x4.eq(clamped, nll));
        nll = clamped;
      }
      loss = f32x4.add(loss, f32x4.mul(v, nll));
      a = f32x4.add(a, vu);
      v128.store(vTile + o, vu);
    }
    if (lossOut) v128.store(lossOut + (<usize>i << 2), loss);
    acc = f32x4.add(acc, loss);
    if (++sinceFlush == FLUSH_EVERY) {
      total += hsum_f32x4(acc);
      acc = zero;
      sinceFlush = 0;
    }
    if (grad) {
      // Gradient (2): p·a − v·u with p = e/s, scaled.
      const ra = f32x4.mul(r, a);
      for (let o: usize = 0; o < tileBytes; o += 16) {
        const g = f32x4.sub(f32x4.mul(v128.load(eTile + o), ra), v128.load(vTile + o));
        v128.store(eTile + o, f32x4.mul(g, scaleV));
      }
      scatter_tile_f32x4(eTile, grad + rows, rowBytes);
    }
  }
  return total + hsum_f32x4(acc);
}

/** Any C, one pixel and one channel at a time: the reference shape of the algorithm. */
function cce_generic_scalar(
  labels: usize, labelKind: i32, logits: usize, grad: usize, lossOut: usize, start: i32, end: i32,
  classes: i32, weights: usize, ignoreIndex: i32, clipOn: bool, nllLo: f32, nllHi: f32, scale: f32,
): f64 {
  const rowBytes = <usize>classes << 2;
  let total: f64 = 0;
  for (let i = start; i < end; i++) {
    const zp = logits + <usize>i * rowBytes;
    const gp = grad + <usize>i * rowBytes;
    const yp = labels + <usize>i * rowBytes;
    let y: i32 = -1;
    if (labelKind == LABELS_INDEX) {
      y = load<i32>(labels + (<usize>i << 2));
      if (y == ignoreIndex) y = -1;
    }
    let m = load<f32>(zp);
    let argmax: i32 = 0;
    for (let c: i32 = 1; c < classes; c++) {
      const z = load<f32>(zp + (<usize>c << 2));
      if (z > m) { m = z; argmax = c; }
    }
    let t: f32 = 0;
    for (let c: i32 = 0; c < classes; c++) {
      const e = exp_f32(load<f32>(zp + (<usize>c << 2)) - m);
      if (c != argmax) t += e;
      if (grad) store<f32>(gp + (<usize>c << 2), e);
    }
    const L = log1p_f32(t);
    const r: f32 = 1.0 / (1.0 + t);
    let loss: f32 = 0;
    let a: f32 = 0;
    for (let c: i32 = 0; c < classes; c++) {
      const v = generic_label_weight(labelKind, yp, weights, y, c);
      if (v == 0) continue;
      let nll = L - (load<f32>(zp + (<usize>c << 2)) - m);
      if (clipOn) {
        const clamped = min<f32>(max<f32>(nll, nllLo), nllHi);
        if (clamped == nll) a += v;
        nll = clamped;
      } else {
        a += v;
      }
      loss += v * nll;
    }
    if (lossOut) store<f32>(lossOut + (<usize>i << 2), loss);
    total += loss;
    if (grad) {
      for (let c: i32 = 0; c < classes; c++) {
        const p = load<f32>(gp + (<usize>c << 2)) * r;
        let vu = generic_label_weight(labelKind, yp, weights, y, c);
        if (clipOn && vu != 0) {
          const nll = L - (load<f32>(zp + (<usize>c << 2)) - m);
          if (min<f32>(max<f32>(nll, nllLo), nllHi) != nll) vu = 0;
        }
        store<f32>(gp + (<usize>c << 2), (p * a - vu) * scale);
      }
    }
  }
  return total;
}

/** v_c = w_c·y_c for one pixel; `y` is the pixel's index label (−1 if ignored or one-hot). */
// @ts-ignore: decorator
@inline function generic_label_weight(labelKind: i32, yp: usize, weights: usize, y: i32, c: i32): f32 {
  const w = load<f32>(weights + (<usize>c << 2));
  if (labelKind == LABELS_ONE_HOT) return w * load<f32>(yp + (<usize>c << 2));
  return y == c ? w : 0;
}

/**
 * Validates int32 index labels and returns the mean's denominator.
 *
 * @param hasIgnore  0: every label must be in [0, C); 1: labels equal to `ignoreIndex` are skipped
 * @returns  Σ over counted pixels of w_y (or of 1 when `weights` is 0), or −(1 + i) where i is
 *           the first pixel whose label is outside [0, C) and not ignored.
 */
export function index_labels_scan(
  labels: usize, pixels: i32, classes: i32, weights: usize, hasIgnore: i32, ignoreIndex: i32,
): f64 {
  let denominator: f64 = 0;
  let i: i32 = 0;
  if (ASC_FEATURE_SIMD && !weights) {
    // Four labels per step: count the kept ones, and note whether any kept one is out of range
    // (an unsigned compare catches negatives too); on a bad label the scalar loop below finds the
    // first one from the start.
    const classesV = i32x4.splat(classes);
    const ignoreV = i32x4.splat(ignoreIndex);
    let kept = i32x4.splat(0);
    let bad = i32x4.splat(0);
    const quads = pixels >> 2;
    for (let q: i32 = 0; q < quads; q++) {
      const y = v128.load(labels + (<usize>q << 4));
      const skip = hasIgnore ? i32x4.eq(y, ignoreV) : i32x4.splat(0);
      bad = v128.or(bad, v128.andnot(i32x4.ge_u(y, classesV), skip));
      kept = i32x4.sub(kept, v128.not(skip)); // all ones is −1
    }
    if (!v128.any_true(bad)) {
      denominator = <f64>i32x4.extract_lane(kept, 0) + <f64>i32x4.extract_lane(kept, 1)
        + <f64>i32x4.extract_lane(kept, 2) + <f64>i32x4.extract_lane(kept, 3);
      i = quads << 2;
    }
  }
  for (; i < pixels; i++) {
    const y = load<i32>(labels + (<usize>i << 2));
    if (hasIgnore && y == ignoreIndex) continue;
    if (<u32>y >= <u32>classes) return -(1 + <f64>i);
    denominator += weights ? <f64>load<f32>(weights + (<usize>y << 2)) : 1;
  }
  return denominator;
}

/** Σ_i Σ_c w_c y_ic over one-hot (or soft) float labels: the weighted mean's denominator. */
export function one_hot_weight_sum(labels: usize, pixels: i32, classes: i32, weights: usize): f64 {
  let total: f64 = 0;
  for (let i: i32 = 0; i < pixels; i++) {
    const yp = labels + <usize>i * (<usize>classes << 2);
    let row: f32 = 0;
    for (let c: i32 = 0; c < classes; c++) {
      row += load<f32>(yp + (<usize>c << 2)) * load<f32>(weights + (<usize>c << 2));
    }
    total += row;
  }
  return total;
}
