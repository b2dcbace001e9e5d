/**
 * The seed study's five losses in one pass, and the gradient of any weighted sum of them in one
 * more pass: cce (the seed's clip form, mean over pixels), dice, dice_square, dicefg,
 * dicefg_square (batch Dice, sums over N, H, W; see softmax_cce.ts and region_losses.ts for the
 * definitions and derivations this file reuses).
 *
 * Forward (`seg_losses_fwd`): one pass computes p = softmax(z), the clipped CCE sum and, per
 * class, the five sums  I = Σ y p,  Y = Σ y,  Y2 = Σ y²,  S = Σ p,  S2 = Σ p². The four Dice
 * losses follow from them; the sums are also written out (float32 [5, C]) for the backward pass.
 *
 * Backward (`seg_losses_bwd`): given upstream weights w_k for the five losses (w = one-hot picks
 * one loss; tfjs passes dL/dloss_k), the per-class coefficients of every Dice term are merged,
 *   g_c = −A_c y_c + B_c + B2_c · 2 p_c,
 * A_c, B_c from the plain-denominator variants and A_c, B2_c from the squared ones (with
 * N_c = 2 I_c + ε, D_c = Y_c + S_c + ε, κ = 1 / |K|: A_c = 2κ / D_c, B_c = κ N_c / D_c²), then one pass
 * recomputes p and writes
 *   ∂/∂z_j = p_j (g_j − Σ_c p_c g_c) + (w_cce / P)(p_j a − y_j u_j),   a = Σ_c y_c u_c
 * where u_c masks the clipped CCE terms (softmax_cce.ts, eq. 2). C = 2 runs four pixels per f32x4
 * step with one exp per pixel in each pass and one log in the forward; C > 2 transposes four
 * pixels into channel vectors (see softmax_cce.ts); the scalar build and each pass's tail of < 4
 * pixels run scalar.
 *
 * Why a kernel of its own: the loss engine (region_losses.ts) gathers the same five sums, but its
 * cross-entropy has no clip form (see softmax_cce.ts), and one engine call gives one loss: the
 * five here come from one pass (238 Melem/s forward + backward at C = 2, raw, issue #25).
 */
import { exp_f32 } from '../math/exp';
import { log_f32, log_f32x4, log1p_f32, log1p_unit_f32x4 } from '../math/log';
import {
  even_f32x4, odd_f32x4, store_interleaved_f32x4, hsum_f32x4, gather_tile_f32x4, scatter_tile_f32x4,
} from '../math/lanes';
import {
  softmax2_nll0_f32x4, softmax2_nll1_f32x4, softmax2_p0_f32x4, softmax2_p1_f32x4, softmax2_pmax_f32x4, softmax2_t_f32x4,
  tile_exp_sum_f32x4,
} from '../math/softmax';
import { LABELS_ONE_HOT, label_value, labels_c2_f32x4 } from './labels';

// @ts-ignore: decorator
@inline const FLUSH_EVERY: i32 = 256;
/** Rows of the sums table, each of C values. */
// @ts-ignore: decorator
@inline const ROW_I: i32 = 0;
// @ts-ignore: decorator
@inline const ROW_Y: i32 = 1;
// @ts-ignore: decorator
@inline const ROW_Y2: i32 = 2;
// @ts-ignore: decorator
@inline const ROW_S: i32 = 3;
// @ts-ignore: decorator
@inline const ROW_S2: i32 = 4;
// @ts-ignore: decorator
@inline const ROWS: i32 = 5;

/**
 * Five losses and the per-class sums.
 *
 * @param labels    address of the labels (LABELS_ONE_HOT float32 [P, C] or LABELS_INDEX int32 [P])
 * @param labelKind LABELS_ONE_HOT or LABELS_INDEX (indices already validated to [0, C))
 * @param logits    address of float32 logits [P, C]
 * @param pixels    P
 * @param classes   C ≥ 2
 * @param epsilon   ε of the clip and of the Dice terms
 * @param scratch   address of 5·C f64 of scratch
 * @param sumsOut   address of the float32 [5, C] output: rows I, Y, Y2, S, S2
 * @param lossesOut address of five float32: cce, dice, dice_square, dicefg, dicefg_square
 * @param tile      address of 8·C·16 bytes of scratch for the C > 2 path
 */
export function seg_losses_fwd(
  labels: usize, labelKind: i32, logits: usize, pixels: i32, classes: i32, epsilon: f32,
  scratch: usize, sumsOut: usize, lossesOut: usize, tile: usize,
): void {
  memory.fill(scratch, 0, <usize>(ROWS * classes) << 3);
  const nllLo = -log_f32(1.0 - epsilon);
  const nllHi = -log_f32(epsilon);
  let cceSum: f64 = 0;
  let done: i32 = 0;
  // The f32x4 path exists only in the SIMD build (a compile-time branch).
  if (ASC_FEATURE_SIMD) {
    if (classes == 2) {
      done = pixels & ~3;
      cceSum = seg_fwd_c2_f32x4(labels, labelKind, logits, done, nllLo, nllHi, scratch);
    } else if (classes > 2) {
      done = pixels & ~3;
      cceSum = seg_fwd_tile_f32x4(labels, labelKind, logits, done, classes, nllLo, nllHi, scratch, tile);
    }
  }
  cceSum += seg_fwd_scalar(labels, labelKind, logits, done, pixels, classes, nllLo, nllHi, scratch);

  const eps = <f64>epsilon;
  let dice: f64 = 0, diceSq: f64 = 0;
  let diceFg: f64 = 0, diceFgSq: f64 = 0;
  for (let c: i32 = 0; c < classes; c++) {
    const numerator = 2 * sum_at(scratch, classes, ROW_I, c) + eps;
    const plain = numerator / (sum_at(scratch, classes, ROW_Y, c) + sum_at(scratch, classes, ROW_S, c) + eps);
    const squared = numerator / (sum_at(scratch, classes, ROW_Y2, c) + sum_at(scratch, classes, ROW_S2, c) + eps);
    dice += plain;
    diceSq += squared;
    if (c > 0) {
      diceFg += plain;
      diceFgSq += squared;
    }
  }
  const all = <f64>classes;
  const fg = <f64>(classes - 1);
  store<f32>(lossesOut, <f32>(cceSum / <f64>pixels));
  store<f32>(lossesOut, <f32>(1 - dice / all), 4);
  store<f32>(lossesOut, <f32>(1 - diceSq / all), 8);
  store<f32>(lossesOut, <f32>(1 - diceFg / fg), 12);
  store<f32>(lossesOut, <f32>(1 - diceFgSq / fg), 16);
  for (let k: i32 = 0; k < ROWS * classes; k++) {
    store<f32>(sumsOut + (<usize>k << 2), <f32>load<f64>(scratch + (<usize>k << 3)));
  }
}

// @ts-ignore: decorator
@inline function sum_at(table: usize, classes: i32, row: i32, c: i32): f64 {
  return load<f64>(table + (<usize>(row * classes + c) << 3));
}

// @ts-ignore: decorator
@inline function add_at(table: usize, classes: i32, row: i32, c: i32, value: f64): void {
  const at = table + (<usize>(row * classes + c) << 3);
  store<f64>(at, load<f64>(at) + value);
}

/** Forward, C = 2, four pixels per step over [0, count); returns the clipped CCE sum. */
function seg_fwd_c2_f32x4(
  labels: usize, labelKind: i32, logits: usize, count: i32, nllLo: f32, nllHi: f32, table: usize,
): f64 {
  const zero = f32x4.splat(0.0);
  const lo = f32x4.splat(nllLo);
  const hi = f32x4.splat(nllHi);
  let cce = zero;
  let i0 = zero, i1 = zero, y0s = zero, y1s = zero, yy0 = zero, yy1 = zero;
  let s0 = zero, s1 = zero, ss0 = zero, ss1 = zero;
  let total: f64 = 0;
  let sinceFlush: i32 = 0;
  for (let i: i32 = 0; i < count; i += 4) {
    const zp = logits + (<usize>i << 3);
    const za = v128.load(zp);
    const zb = v128.load(zp, 16);
    const d = f32x4.sub(odd_f32x4(za, zb), even_f32x4(za, zb));
    const t = softmax2_t_f32x4(d);
    const pMax = softmax2_pmax_f32x4(t);
    const p0 = softmax2_p0_f32x4(d, t, pMax);
    const p1 = softmax2_p1_f32x4(d, t, pMax);
    const L = log1p_unit_f32x4(t);
    const nll0 = f32x4.pmin(f32x4.pmax(softmax2_nll0_f32x4(d, L), lo), hi);
    const nll1 = f32x4.pmin(f32x4.pmax(softmax2_nll1_f32x4(d, L), lo), hi);
    const y0 = labels_c2_f32x4(labels, labelKind, i, 0);
    const y1 = labels_c2_f32x4(labels, labelKind, i, 1);
    cce = f32x4.add(cce, f32x4.add(f32x4.mul(y0, nll0), f32x4.mul(y1, nll1)));
    i0 = f32x4.add(i0, f32x4.mul(y0, p0));
    i1 = f32x4.add(i1, f32x4.mul(y1, p1));
    y0s = f32x4.add(y0s, y0);
    y1s = f32x4.add(y1s, y1);
    yy0 = f32x4.add(yy0, f32x4.mul(y0, y0));
    yy1 = f32x4.add(yy1, f32x4.mul(y1, y1));
    s0 = f32x4.add(s0, p0);
    s1 = f32x4.add(s1, p1);
    ss0 = f32x4.add(ss0, f32x4.mul(p0, p0));
    ss1 = f32x4.add(ss1, f32x4.mul(p1, p1));
    if (++sinceFlush == FLUSH_EVERY || i + 4 >= count) {
      total += hsum_f32x4(cce);
      add_at(table, 2, ROW_I, 0, hsum_f32x4(i0));
      add_at(table, 2, ROW_I, 1, hsum_f32x4(i1));
      add_at(table, 2, ROW_Y, 0, hsum_f32x4(y0s));
      add_at(table, 2, ROW_Y, 1, hsum_f32x4(y1s));
      add_at(table, 2, ROW_Y2, 0, hsum_f32x4(yy0));
      add_at(table, 2, ROW_Y2, 1, hsum_f32x4(yy1));
      add_at(table, 2, ROW_S, 0, hsum_f32x4(s0));
      add_at(table, 2, ROW_S, 1, hsum_f32x4(s1));
      add_at(table, 2, ROW_S2, 0, hsum_f32x4(ss0));
      add_at(table, 2, ROW_S2, 1, hsum_f32x4(ss1));
      cce = zero; i0 = zero; i1 = zero; y0s = zero; y1s = zero; yy0 = zero; yy1 = zero;
      s0 = zero; s1 = zero; ss0 = zero; ss1 = zero;
      sinceFlush = 0;
    }
  }
  return total;
}

/** Forward, any C, pixels [start, end); returns the clipped CCE sum. */
function seg_fwd_scalar(
  labels: usize, labelKind: i32, logits: usize, start: i32, end: i32, classes: i32, nllLo: f32,
  nllHi: f32, table: usize,
): f64 {
  const rowBytes = <usize>classes << 2;
  let total: f64 = 0;
  for (let i = start; i < end; i++) {
    const zp = logits + <usize>i * rowBytes;
    let m = load<f32>(zp);
    let argmax: i32 = 0;
    for (let c: i32 = 1; c < classes; c++) {
      const z = load<f32>(zp + (<usize>c << 2));
      if (z > m) { m = z; argmax = c; }
    }
    let t: f32 = 0;
    for (let c: i32 = 0; c < classes; c++) {
      if (c != argmax) t += exp_f32(load<f32>(zp + (<usize>c << 2)) - m);
    }
    const L = log1p_f32(t);
    const r: f32 = 1.0 / (1.0 + t);
    let cce: f32 = 0;
    for (let c: i32 = 0; c < classes; c++) {
      const z = load<f32>(zp + (<usize>c << 2));
      const p = exp_f32(z - m) * r;
      const y = label_value(labels, labelKind, i, c, classes);
      cce += y * min<f32>(max<f32>(L - (z - m), nllLo), nllHi);
      add_at(table, classes, ROW_I, c, <f64>(y * p));
      add_at(table, classes, ROW_Y, c, <f64>y);
      add_at(table, classes, ROW_Y2, c, <f64>(y * y));
      add_at(table, classes, ROW_S, c, <f64>p);
      add_at(table, classes, ROW_S2, c, <f64>(p * p));
    }
    total += cce;
  }
  return total;
}

/**
 * Gradient of Σ_k w_k loss_k with respect to the logits.
 *
 * @param grad    address of the float32 gradient output [P, C]
 * @param sums    address of the float32 [5, C] sums written by `seg_losses_fwd`
 * @param weights address of five float32 w_k in the order cce, dice, dice_square, dicefg, dicefg_square
 * @param scratch address of 3·C f64 of scratch (coefficients A, B, B2)
 * @param tile    address of 3·C·16 bytes of scratch for the C > 2 path
 * (the other parameters as in `seg_losses_fwd`)
 */
export function seg_losses_bwd(
  labels: usize, labelKind: i32, logits: usize, grad: usize, pixels: i32, classes: i32,
  epsilon: f32, sums: usize, weights: usize, scratch: usize, tile: usize,
): void {
  memory.fill(scratch, 0, <usize>(3 * classes) << 3);
  const eps = <f64>epsilon;
  // Variant k = 1..4: dice, dice_square, dicefg, dicefg_square.
  for (let k: i32 = 1; k <= 4; k++) {
    const w = <f64>load<f32>(weights + (<usize>k << 2));
    if (w == 0) continue;
    const squared = k == 2 || k == 4;
    const firstClass = k >= 3 ? 1 : 0;
    const kappa = w / <f64>(classes - firstClass);
    for (let c = firstClass; c < classes; c++) {
      const numerator = 2 * f32_sum(sums, classes, ROW_I, c) + eps;
      const denominator = squared
        ? f32_sum(sums, classes, ROW_Y2, c) + f32_sum(sums, classes, ROW_S2, c) + eps
        : f32_sum(sums, classes, ROW_Y, c) + f32_sum(sums, classes, ROW_S, c) + eps;
      add_at(scratch, classes, 0, c, 2 * kappa / denominator);
      add_at(scratch, classes, squared ? 2 : 1, c, kappa * numerator / (denominator * denominator));
    }
  }
  const cceScale = load<f32>(weights) / <f32>pixels;
  const pLo = epsilon;
  const pHi: f32 = 1.0 - epsilon;
  let done: i32 = 0;
  if (ASC_FEATURE_SIMD) {
    if (classes == 2) {
      done = pixels & ~3;
      seg_bwd_c2_f32x4(labels, labelKind, logits, grad, done, pLo, pHi, cceScale, scratch);
    } else if (classes > 2) {
      done = pixels & ~3;
      seg_bwd_tile_f32x4(labels, labelKind, logits, grad, done, classes, pLo, pHi, cceScale, scratch, tile);
    }
  }
  seg_bwd_scalar(labels, labelKind, logits, grad, done, pixels, classes, pLo, pHi, cceScale, scratch);
}

// @ts-ignore: decorator
@inline function f32_sum(sums: usize, classes: i32, row: i32, c: i32): f64 {
  return <f64>load<f32>(sums + (<usize>(row * classes + c) << 2));
}

/**
 * Forward, C > 2, four pixels per step over [0, count): rows transposed into channel vectors
 * (see softmax_cce.ts); the five per-class sums kept in f32x4 lanes in `tile`, flushed to f64.
 * Returns the clipped CCE sum.
 */
function seg_fwd_tile_f32x4(
  labels: usize, labelKind: i32, logits: usize, count: i32, classes: i32, nllLo: f32, nllHi: f32,
  table: usize, tile: usize,
): f64 {
  const rowBytes = <usize>classes << 2;
  const tileBytes = rowBytes << 2;
  const zTile = tile;                    // z − m
  const eTile = tile + tileBytes;        // e
  const yTile = tile + 2 * tileBytes;    // one-hot labels
  const accTile = tile + 3 * tileBytes;  // ROWS lanes per class
  const zero = f32x4.splat(0.0);
  const lo = f32x4.splat(nllLo);
  const hi = f32x4.splat(nllHi);
  memory.fill(accTile, 0, tileBytes * ROWS);
  let cce = zero;
  let total: f64 = 0;
  let sinceFlush: i32 = 0;
  for (let i: i32 = 0; i < count; i += 4) {
    const rows = <usize>i * rowBytes;
    gather_tile_f32x4(logits + rows, rowBytes, zTile);
    const s = tile_exp_sum_f32x4(zTile, eTile, tileBytes, true);
    const L = log_f32x4(s);
    const r = f32x4.div(f32x4.splat(1.0), s);
    let y = i32x4.splat(-1);
    if (labelKind == LABELS_ONE_HOT) gather_tile_f32x4(labels + rows, rowBytes, yTile);
    else y = v128.load(labels + (<usize>i << 2));
    for (let c: i32 = 0; c < classes; c++) {
      const o = <usize>c << 4;
      const p = f32x4.mul(v128.load(eTile + o), r);
      const yc = labelKind == LABELS_ONE_HOT
        ? v128.load(yTile + o)
        : v128.and(i32x4.eq(y, i32x4.splat(c)), f32x4.splat(1.0));
      const nll = f32x4.pmin(f32x4.pmax(f32x4.sub(L, v128.load(zTile + o)), lo), hi);
      cce = f32x4.add(cce, f32x4.mul(yc, nll));
      const acc = accTile + <usize>c * (ROWS << 4);
      v128.store(acc, f32x4.add(v128.load(acc), f32x4.mul(yc, p)));
      v128.store(acc, f32x4.add(v128.load(acc, 16), yc), 16);
      v128.store(acc, f32x4.add(v128.load(acc, 32), f32x4.mul(yc, yc)), 32);
      v128.store(acc, f32x4.add(v128.load(acc, 48), p), 48);
      v128.store(acc, f32x4.add(v128.load(acc, 64), f32x4.mul(p, p)), 64);
    }
    if (++sinceFlush == FLUSH_EVERY || i + 4 >= count) {
      total += hsum_f32x4(cce);
      cce = zero;
      for (let c: i32 = 0; c < classes; c++) {
        for (let row: i32 = 0; row < ROWS; row++) {
          const lane = accTile + (<usize>(c * ROWS + row) << 4);
          add_at(table, classes, row, c, hsum_f32x4(v128.load(lane)));
          v128.store(lane, zero);
        }
      }
      sinceFlush = 0;
    }
  }
  return total;
}

/** Backward, C > 2, four pixels per step over [0, count). */
function seg_bwd_tile_f32x4(
  labels: usize, labelKind: i32, logits: usize, grad: usize, count: i32, classes: i32, pLo: f32,
  pHi: f32, cceScale: f32, coefs: usize, tile: usize,
): void {
  const rowBytes = <usize>classes << 2;
  const tileBytes = rowBytes << 2;
  const pTile = tile;                 // z, then e, then p, then the gradient
  const yTile = tile + tileBytes;     // labels, then y·u
  const gTile = tile + 2 * tileBytes; // g
  const zero = f32x4.splat(0.0);
  const two = f32x4.splat(2.0);
  const lo = f32x4.splat(pLo);
  const hi = f32x4.splat(pHi);
  const scale = f32x4.splat(cceScale);
  for (let i: i32 = 0; i < count; i += 4) {
    const rows = <usize>i * rowBytes;
    gather_tile_f32x4(logits + rows, rowBytes, pTile);
    const s = tile_exp_sum_f32x4(pTile, pTile, tileBytes, false);
    const r = f32x4.div(f32x4.splat(1.0), s);
    let y = i32x4.splat(-1);
    if (labelKind == LABELS_ONE_HOT) gather_tile_f32x4(labels + rows, rowBytes, yTile);
    else y = v128.load(labels + (<usize>i << 2));
    let dot = zero;
    let a = zero;
    for (let c: i32 = 0; c < classes; c++) {
      const o = <usize>c << 4;
      const p = f32x4.mul(v128.load(pTile + o), r);
      v128.store(pTile + o, p);
      const yc = labelKind == LABELS_ONE_HOT
        ? v128.load(yTile + o)
        : v128.and(i32x4.eq(y, i32x4.splat(c)), f32x4.splat(1.0));
      const g = f32x4.sub(
        f32x4.add(f32x4.splat(<f32>sum_at(coefs, classes, 1, c)), f32x4.mul(f32x4.splat(<f32>sum_at(coefs, classes, 2, c)), f32x4.mul(two, p))),
        f32x4.mul(f32x4.splat(<f32>sum_at(coefs, classes, 0, c)), yc));
      v128.store(gTile + o, g);
      dot = f32x4.add(dot, f32x4.mul(p, g));
      const yu = v128.and(yc, v128.and(f32x4.ge(p, lo), f32x4.le(p, hi)));
      v128.store(yTile + o, yu);
      a = f32x4.add(a, yu);
    }
    for (let o: usize = 0; o < tileBytes; o += 16) {
      const p = v128.load(pTile + o);
      const dice = f32x4.mul(p, f32x4.sub(v128.load(gTile + o), dot));
      const cce = f32x4.mul(f32x4.sub(f32x4.mul(p, a), v128.load(yTile + o)), scale);
      v128.store(pTile + o, f32x4.add(dice, cce));
    }
    scatter_tile_f32x4(pTile, grad + rows, rowBytes);
  }
}

/** Backward, C = 2, four pixels per step over [0, count). */
function seg_bwd_c2_f32x4(
  labels: usize, labelKind: i32, logits: usize, grad: usize, count: i32, pLo: f32, pHi: f32,
  cceScale: f32, coefs: usize,
): void {
  const two = f32x4.splat(2.0);
  const a0 = f32x4.splat(<f32>sum_at(coefs, 2, 0, 0));
  const a1 = f32x4.splat(<f32>sum_at(coefs, 2, 0, 1));
  const b0 = f32x4.splat(<f32>sum_at(coefs, 2, 1, 0));
  const b1 = f32x4.splat(<f32>sum_at(coefs, 2, 1, 1));
  const bb0 = f32x4.splat(<f32>sum_at(coefs, 2, 2, 0));
  const bb1 = f32x4.splat(<f32>sum_at(coefs, 2, 2, 1));
  const lo = f32x4.splat(pLo);
  const hi = f32x4.splat(pHi);
  const scale = f32x4.splat(cceScale);
  for (let i: i32 = 0; i < count; i += 4) {
    const zp = logits + (<usize>i << 3);
    const za = v128.load(zp);
    const zb = v128.load(zp, 16);
    const d = f32x4.sub(odd_f32x4(za, zb), even_f32x4(za, zb));
    const t = softmax2_t_f32x4(d);
    const pMax = softmax2_pmax_f32x4(t);
    const p0 = softmax2_p0_f32x4(d, t, pMax);
    const p1 = softmax2_p1_f32x4(d, t, pMax);
    const y0 = labels_c2_f32x4(labels, labelKind, i, 0);
    const y1 = labels_c2_f32x4(labels, labelKind, i, 1);
    const g0 = f32x4.sub(f32x4.add(b0, f32x4.mul(bb0, f32x4.mul(two, p0))), f32x4.mul(a0, y0));
    const g1 = f32x4.sub(f32x4.add(b1, f32x4.mul(bb1, f32x4.mul(two, p1))), f32x4.mul(a1, y1));
    const dice1 = f32x4.mul(f32x4.mul(p0, p1), f32x4.sub(g1, g0));
    const yu0 = v128.and(y0, v128.and(f32x4.ge(p0, lo), f32x4.le(p0, hi)));
    const yu1 = v128.and(y1, v128.and(f32x4.ge(p1, lo), f32x4.le(p1, hi)));
    const a = f32x4.add(yu0, yu1);
    const cce0 = f32x4.mul(f32x4.sub(f32x4.mul(p0, a), yu0), scale);
    const cce1 = f32x4.mul(f32x4.sub(f32x4.mul(p1, a), yu1), scale);
    store_interleaved_f32x4(grad + (<usize>i << 3), f32x4.sub(cce0, dice1), f32x4.add(cce1, dice1));
  }
}

/** Backward, any C, pixels [start, end). */
function seg_bwd_scalar(
  labels: usize, labelKind: i32, logits: usize, grad: usize, start: i32, end: i32, classes: i32,
  pLo: f32, pHi: f32, cceScale: f32, coefs: usize,
): void {
  const rowBytes = <usize>classes << 2;
  for (let i = start; i < end; i++) {
    const zp = logits + <usize>i * rowBytes;
    const gp = grad + <usize>i * rowBytes;
    let m = load<f32>(zp);
    for (let c: i32 = 1; c < classes; c++) m = max<f32>(m, load<f32>(zp + (<usize>c << 2)));
    let s: f32 = 0;
    for (let c: i32 = 0; c < classes; c++) {
      const e = exp_f32(load<f32>(zp + (<usize>c << 2)) - m);
      store<f32>(gp + (<usize>c << 2), e);
      s += e;
    }
    const r: f32 = 1.0 / s;
    let dot: f32 = 0;
    let a: f32 = 0;
    for (let c: i32 = 0; c < classes; c++) {
      const p = load<f32>(gp + (<usize>c << 2)) * r;
      const y = label_value(labels, labelKind, i, c, classes);
      dot += p * seg_g(coefs, classes, c, y, p);
      if (p >= pLo && p <= pHi) a += y;
    }
    for (let c: i32 = 0; c < classes; c++) {
      const p = load<f32>(gp + (<usize>c << 2)) * r;
      const y = label_value(labels, labelKind, i, c, classes);
      const yu: f32 = p >= pLo && p <= pHi ? y : 0;
      store<f32>(gp + (<usize>c << 2), p * (seg_g(coefs, classes, c, y, p) - dot) + (p * a - yu) * cceScale);
    }
  }
}

// @ts-ignore: decorator
@inline function seg_g(coefs: usize, classes: i32, c: i32, y: f32, p: f32): f32 {
  return <f32>sum_at(coefs, classes, 1, c) + <f32>sum_at(coefs, classes, 2, c) * (2 * p)
    - <f32>sum_at(coefs, classes, 0, c) * y;
}
