/**
 * Fused softmax + soft Dice loss, forward and backward, for the seed's DICE, DICE_SQUARE, DICEFG
 * and DICEFG_SQUARE (and their per-image forms).
 *
 * Forward. p = softmax(z) per pixel (stable, as in softmax_cce.ts). Over a group G of pixels (the
 * whole batch, or one image with perImage) and for each class c:
 *   I_c = Σ_G y_c p_c,   Y_c = Σ_G y_c^q,   S_c = Σ_G p_c^q        (q = 2 for the square form)
 *   L = 1 − κ Σ_G Σ_{c∈K} (2 I_c + ε) / (Y_c + S_c + ε),   κ = 1 / (|K| · #groups)
 * with K every class, or every class but 0 for the foreground-only variants.
 *
 * Backward. With N_c = 2 I_c + ε and D_c = Y_c + S_c + ε, for c ∈ K:
 *   g_c = ∂L/∂p_c = −κ (2 y_c / D_c − N_c q p_c^{q−1} / D_c²) = −A_c y_c + B_c q p_c^{q−1}
 *   A_c = 2κ / D_c,  B_c = κ N_c / D_c²   (A_c = B_c = 0 for c ∉ K)
 * and through the softmax  ∂L/∂z_j = p_j (g_j − Σ_c p_c g_c); for C = 2 this is
 *   ∂L/∂z_1 = p_0 p_1 (g_1 − g_0) = −∂L/∂z_0.
 * The sums must be complete before any gradient exists, so this takes two passes: pass 1 computes
 * p (stored in the gradient buffer) and the sums; pass 2 turns p into the gradient in place. No
 * other N×H×W×C temporary is used.
 *
 * Error: sums are accumulated in f32 lanes for blocks of ≤ 1024 pixels, then in f64; the loss is
 * accurate to ≈ 1e-6 relative. The C = 2 path is a four-pixel f32x4 loop with one exp per pixel;
 * C % 4 = 0 transposes four pixels into channel vectors (see softmax_cce.ts); other C use the
 * scalar loop (also the whole scalar build).
 */
import { exp_f32, exp_neg_f32, exp_neg_f32x4 } from '../math/exp';
import {
  even_f32x4, odd_f32x4, store_interleaved_f32x4, hsum_f32x4, mask_to_f32x4, gather_tile_f32x4,
  scatter_tile_f32x4,
} from '../math/lanes';
import { tile_exp_sum_f32x4 } from '../math/softmax';
import { LABELS_ONE_HOT, label_value, labels_c2_f32x4 } from './labels';

// @ts-ignore: decorator
@inline const FLUSH_EVERY: i32 = 256;
// Per group and class, three f64 sums (I, Y, S) followed, after all sums, by two coefficients (A, B).
// @ts-ignore: decorator
@inline const SUMS: i32 = 3;

/**
 * Softmax + Dice loss, and its gradient when `grad` is not 0.
 *
 * @param labels         address of the labels (LABELS_ONE_HOT float32 [P, C] or LABELS_INDEX int32 [P])
 * @param labelKind      LABELS_ONE_HOT or LABELS_INDEX (indices already validated to [0, C))
 * @param logits         address of float32 logits [P, C]
 * @param grad           address of the float32 gradient output [P, C], or 0 for the loss only
 * @param groups         number of pixel groups whose scores are averaged (1, or N with perImage)
 * @param pixelsPerGroup pixels in each group (P / groups)
 * @param classes        C
 * @param square         1 for y², p² in the denominator
 * @param firstClass     0 to include background, 1 for the foreground-only variants
 * @param epsilon        ε of numerator and denominator
 * @param scratch        address of groups·C·5 f64 of scratch (sums and coefficients)
 * @param tile           address of 5·C·16 bytes of scratch for the C % 4 = 0 path
 * @returns              the loss L
 */
export function softmax_dice_fwd_bwd(
  labels: usize, labelKind: i32, logits: usize, grad: usize, groups: i32, pixelsPerGroup: i32,
  classes: i32, square: i32, firstClass: i32, epsilon: f32, scratch: usize, tile: usize,
): f64 {
  const sq = square != 0;
  const cells = groups * classes;
  const coefs = scratch + (<usize>(cells * SUMS) << 3);
  // Pass 1: p and the sums, group by group.
  for (let g: i32 = 0; g < groups; g++) {
    const start = g * pixelsPerGroup;
    const end = start + pixelsPerGroup;
    const sums = scratch + (<usize>(g * classes * SUMS) << 3);
    memory.fill(sums, 0, <usize>(classes * SUMS) << 3);
    let done = start;
    if (ASC_FEATURE_SIMD) {
      if (classes == 2) {
        done = start + (pixelsPerGroup & ~3);
        dice_sums_c2_f32x4(labels, labelKind, logits, grad, start, done, sq, sums);
      } else if ((classes & 3) == 0) {
        done = start + (pixelsPerGroup & ~3);
        dice_sums_tile4_f32x4(labels, labelKind, logits, grad, start, done, classes, sq, sums, tile);
      }
    }
    dice_sums_scalar(labels, labelKind, logits, grad, done, end, classes, sq, sums);
  }
  // Loss and the per-class gradient coefficients A, B.
  const kappa = 1.0 / (<f64>(classes - firstClass) * <f64>groups);
  const eps = <f64>epsilon;
  let score: f64 = 0;
  for (let cell: i32 = 0; cell < cells; cell++) {
    const c = cell % classes;
    const s = scratch + (<usize>(cell * SUMS) << 3);
    const k = coefs + (<usize>(cell * 2) << 3);
    if (c < firstClass) {
      store<f64>(k, 0);
      store<f64>(k, 0, 8);
      continue;
    }
    const numerator = 2 * load<f64>(s) + eps;
    const denominator = load<f64>(s, 8) + load<f64>(s, 16) + eps;
    score += numerator / denominator;
    store<f64>(k, 2 * kappa / denominator);
    store<f64>(k, kappa * numerator / (denominator * denominator), 8);
  }
  if (grad) {
    for (let g: i32 = 0; g < groups; g++) {
      const start = g * pixelsPerGroup;
      const end = start + pixelsPerGroup;
      const k = coefs + (<usize>(g * classes * 2) << 3);
      let done = start;
      if (ASC_FEATURE_SIMD) {
        if (classes == 2) {
          done = start + (pixelsPerGroup & ~3);
          dice_grad_c2_f32x4(labels, labelKind, grad, start, done, sq, k);
        } else if ((classes & 3) == 0) {
          done = start + (pixelsPerGroup & ~3);
          dice_grad_tile4_f32x4(labels, labelKind, grad, start, done, classes, sq, k, tile);
        }
      }
      dice_grad_scalar(labels, labelKind, grad, done, end, classes, sq, k);
    }
  }
  return 1.0 - kappa * score;
}

/** Pass 1, C = 2, four pixels per step over [start, end) (a multiple of 4 pixels). */
function dice_sums_c2_f32x4(
  labels: usize, labelKind: i32, logits: usize, grad: usize, start: i32, end: i32, sq: bool, sums: usize,
): void {
  const zero = f32x4.splat(0.0);
  const one = f32x4.splat(1.0);
  let i0 = zero, i1 = zero, y0s = zero, y1s = zero, s0 = zero, s1 = zero;
  let sinceFlush: i32 = 0;
  for (let i = start; i < end; i += 4) {
    const zp = logits + (<usize>i << 3);
    const za = v128.load(zp);
    const zb = v128.load(zp, 16);
    const d = f32x4.sub(odd_f32x4(za, zb), even_f32x4(za, zb));
    const t = exp_neg_f32x4(f32x4.neg(f32x4.abs(d)));
    const r = f32x4.div(one, f32x4.add(one, t));
    const pMin = f32x4.mul(t, r);
    const oneIsMax = f32x4.gt(d, zero);
    const p0 = v128.bitselect(pMin, r, oneIsMax);
    const p1 = v128.bitselect(r, pMin, oneIsMax);
    const y0 = labels_c2_f32x4(labels, labelKind, i, 0);
    const y1 = labels_c2_f32x4(labels, labelKind, i, 1);
    i0 = f32x4.add(i0, f32x4.mul(y0, p0));
    i1 = f32x4.add(i1, f32x4.mul(y1, p1));
    if (sq) {
      y0s = f32x4.add(y0s, f32x4.mul(y0, y0));
      y1s = f32x4.add(y1s, f32x4.mul(y1, y1));
      s0 = f32x4.add(s0, f32x4.mul(p0, p0));
      s1 = f32x4.add(s1, f32x4.mul(p1, p1));
    } else {
      y0s = f32x4.add(y0s, y0);
      y1s = f32x4.add(y1s, y1);
      s0 = f32x4.add(s0, p0);
      s1 = f32x4.add(s1, p1);
    }
    if (grad) store_interleaved_f32x4(grad + (<usize>i << 3), p0, p1);
    if (++sinceFlush == FLUSH_EVERY) {
      flush_c2(sums, i0, i1, y0s, y1s, s0, s1);
      i0 = zero; i1 = zero; y0s = zero; y1s = zero; s0 = zero; s1 = zero;
      sinceFlush = 0;
    }
  }
  flush_c2(sums, i0, i1, y0s, y1s, s0, s1);
}

// @ts-ignore: decorator
@inline function flush_c2(sums: usize, i0: v128, i1: v128, y0: v128, y1: v128, s0: v128, s1: v128): void {
  store<f64>(sums, load<f64>(sums) + hsum_f32x4(i0));
  store<f64>(sums, load<f64>(sums, 8) + hsum_f32x4(y0), 8);
  store<f64>(sums, load<f64>(sums, 16) + hsum_f32x4(s0), 16);
  store<f64>(sums, load<f64>(sums, 24) + hsum_f32x4(i1), 24);
  store<f64>(sums, load<f64>(sums, 32) + hsum_f32x4(y1), 32);
  store<f64>(sums, load<f64>(sums, 40) + hsum_f32x4(s1), 40);
}

/**
 * Pass 1, C % 4 = 0, four pixels per step over [start, end): the pixels' rows transposed into
 * channel vectors (lane = pixel), per-class sums kept in f32x4 lanes in `tile` and flushed to f64.
 */
function dice_sums_tile4_f32x4(
  labels: usize, labelKind: i32, logits: usize, grad: usize, start: i32, end: i32, classes: i32,
  sq: bool, sums: usize, tile: usize,
): void {
  const rowBytes = <usize>classes << 2;
  const tileBytes = rowBytes << 2;
  const pTile = tile;                 // z, then e, then p
  const yTile = tile + tileBytes;     // one-hot labels
  const accTile = tile + 2 * tileBytes; // per class: I, Y, S lanes (48 bytes)
  const zero = f32x4.splat(0.0);
  const one = f32x4.splat(1.0);
  memory.fill(accTile, 0, tileBytes * 3);
  let sinceFlush: i32 = 0;
  for (let i = start; i < end; i += 4) {
    const rows = <usize>i * rowBytes;
    gather_tile_f32x4(logits + rows, rowBytes, pTile);
    const s = tile_exp_sum_f32x4(pTile, pTile, tileBytes, false);
    const r = f32x4.div(one, s);
    let y = i32x4.splat(-1);
    if (labelKind == LABELS_ONE_HOT) gather_tile_f32x4(labels + rows, rowBytes, yTile);
    else y = v128.load(labels + (<usize>i << 2));
    for (let c: i32 = 0; c < classes; c++) {
      const o = <usize>c << 4;
      const p = f32x4.mul(v128.load(pTile + o), r);
      v128.store(pTile + o, p);
      const yc = labelKind == LABELS_ONE_HOT ? v128.load(yTile + o) : mask_to_f32x4(i32x4.eq(y, i32x4.splat(c)));
      const acc = accTile + <usize>c * 48;
      v128.store(acc, f32x4.add(v128.load(acc), f32x4.mul(yc, p)));
      v128.store(acc, f32x4.add(v128.load(acc, 16), sq ? f32x4.mul(yc, yc) : yc), 16);
      v128.store(acc, f32x4.add(v128.load(acc, 32), sq ? f32x4.mul(p, p) : p), 32);
    }
    if (grad) scatter_tile_f32x4(pTile, grad + rows, rowBytes);
    if (++sinceFlush == FLUSH_EVERY) {
      flush_tile_sums(accTile, sums, classes);
      sinceFlush = 0;
    }
  }
  flush_tile_sums(accTile, sums, classes);
}

/** Adds the f32x4 lane sums of `accTile` (I, Y, S per class) into the f64 `sums`, then zeroes them. */
function flush_tile_sums(accTile: usize, sums: usize, classes: i32): void {
  for (let k: i32 = 0; k < classes * SUMS; k++) {
    const lane = accTile + (<usize>k << 4);
    const at = sums + (<usize>k << 3);
    store<f64>(at, load<f64>(at) + hsum_f32x4(v128.load(lane)));
    v128.store(lane, f32x4.splat(0.0));
  }
}

/** Pass 2, C % 4 = 0, four pixels per step: p (in `grad`) becomes ∂L/∂z in place. */
function dice_grad_tile4_f32x4(
  labels: usize, labelKind: i32, grad: usize, start: i32, end: i32, classes: i32, sq: bool,
  coefs: usize, tile: usize,
): void {
  const rowBytes = <usize>classes << 2;
  const tileBytes = rowBytes << 2;
  const pTile = tile;
  const yTile = tile + tileBytes;
  const gTile = tile + 2 * tileBytes;
  const zero = f32x4.splat(0.0);
  const two = f32x4.splat(2.0);
  for (let i = start; i < end; i += 4) {
    const rows = <usize>i * rowBytes;
    gather_tile_f32x4(grad + rows, rowBytes, pTile);
    let y = i32x4.splat(-1);
    if (labelKind == LABELS_ONE_HOT) gather_tile_f32x4(labels + rows, rowBytes, yTile);
    else y = v128.load(labels + (<usize>i << 2));
    let dot = zero;
    for (let c: i32 = 0; c < classes; c++) {
      const o = <usize>c << 4;
      const k = coefs + (<usize>(c * 2) << 3);
      const a = f32x4.splat(<f32>load<f64>(k));
      const b = f32x4.splat(<f32>load<f64>(k, 8));
      const p = v128.load(pTile + o);
      const yc = labelKind == LABELS_ONE_HOT ? v128.load(yTile + o) : mask_to_f32x4(i32x4.eq(y, i32x4.splat(c)));
      const g = f32x4.sub(sq ? f32x4.mul(b, f32x4.mul(two, p)) : b, f32x4.mul(a, yc));
      v128.store(gTile + o, g);
      dot = f32x4.add(dot, f32x4.mul(p, g));
    }
    for (let o: usize = 0; o < tileBytes; o += 16) {
      const p = v128.load(pTile + o);
      v128.store(pTile + o, f32x4.mul(p, f32x4.sub(v128.load(gTile + o), dot)));
    }
    scatter_tile_f32x4(pTile, grad + rows, rowBytes);
  }
}

/** Pass 1, any C, one pixel at a time over [start, end); sums go straight into f64. */
function dice_sums_scalar(
  labels: usize, labelKind: i32, logits: usize, grad: usize, start: i32, end: i32, classes: i32,
  sq: bool, sums: usize,
): void {
  const rowBytes = <usize>classes << 2;
  for (let i = start; i < end; i++) {
    const zp = logits + <usize>i * rowBytes;
    let m = load<f32>(zp);
    for (let c: i32 = 1; c < classes; c++) m = max<f32>(m, load<f32>(zp + (<usize>c << 2)));
    // For C = 2 use the sigmoid form of softmax_cce.ts so both builds agree with the f32x4 path.
    let s: f32 = 0;
    for (let c: i32 = 0; c < classes; c++) s += exp_f32(load<f32>(zp + (<usize>c << 2)) - m);
    const r: f32 = 1.0 / s;
    for (let c: i32 = 0; c < classes; c++) {
      const p = classes == 2 ? p_c2(zp, c) : exp_f32(load<f32>(zp + (<usize>c << 2)) - m) * r;
      const y = label_value(labels, labelKind, i, c, classes);
      const cs = sums + (<usize>(c * SUMS) << 3);
      store<f64>(cs, load<f64>(cs) + <f64>(y * p));
      store<f64>(cs, load<f64>(cs, 8) + <f64>(sq ? y * y : y), 8);
      store<f64>(cs, load<f64>(cs, 16) + <f64>(sq ? p * p : p), 16);
      if (grad) store<f32>(grad + <usize>i * rowBytes + (<usize>c << 2), p);
    }
  }
}

/** p_c of a 2-class pixel via the sigmoid, rounding like the f32x4 path. */
// @ts-ignore: decorator
@inline function p_c2(zp: usize, c: i32): f32 {
  const d = load<f32>(zp, 4) - load<f32>(zp);
  const t = exp_neg_f32(-abs<f32>(d));
  const r: f32 = 1.0 / (1.0 + t);
  const pMin = t * r;
  const isMax = c == 1 ? d > 0 : !(d > 0);
  return isMax ? r : pMin;
}

/** Pass 2, C = 2, four pixels per step: p (in `grad`) becomes ∂L/∂z in place. */
function dice_grad_c2_f32x4(
  labels: usize, labelKind: i32, grad: usize, start: i32, end: i32, sq: bool, coefs: usize,
): void {
  const a0 = f32x4.splat(<f32>load<f64>(coefs));
  const b0 = f32x4.splat(<f32>load<f64>(coefs, 8));
  const a1 = f32x4.splat(<f32>load<f64>(coefs, 16));
  const b1 = f32x4.splat(<f32>load<f64>(coefs, 24));
  const two = f32x4.splat(2.0);
  for (let i = start; i < end; i += 4) {
    const gp = grad + (<usize>i << 3);
    const pa = v128.load(gp);
    const pb = v128.load(gp, 16);
    const p0 = even_f32x4(pa, pb);
    const p1 = odd_f32x4(pa, pb);
    const y0 = labels_c2_f32x4(labels, labelKind, i, 0);
    const y1 = labels_c2_f32x4(labels, labelKind, i, 1);
    let q0 = b0, q1 = b1;
    if (sq) {
      q0 = f32x4.mul(b0, f32x4.mul(two, p0));
      q1 = f32x4.mul(b1, f32x4.mul(two, p1));
    }
    const g0 = f32x4.sub(q0, f32x4.mul(a0, y0));
    const g1 = f32x4.sub(q1, f32x4.mul(a1, y1));
    const dz1 = f32x4.mul(f32x4.mul(p0, p1), f32x4.sub(g1, g0));
    store_interleaved_f32x4(gp, f32x4.neg(dz1), dz1);
  }
}

/** Pass 2, any C, one pixel at a time. */
function dice_grad_scalar(
  labels: usize, labelKind: i32, grad: usize, start: i32, end: i32, classes: i32, sq: bool, coefs: usize,
): void {
  const rowBytes = <usize>classes << 2;
  for (let i = start; i < end; i++) {
    const gp = grad + <usize>i * rowBytes;
    if (classes == 2) {
      const p0 = load<f32>(gp);
      const p1 = load<f32>(gp, 4);
      const g0 = dice_g(labels, labelKind, i, 0, 2, p0, sq, coefs);
      const g1 = dice_g(labels, labelKind, i, 1, 2, p1, sq, coefs);
      const dz1 = (p0 * p1) * (g1 - g0);
      store<f32>(gp, -dz1);
      store<f32>(gp, dz1, 4);
      continue;
    }
    let dot: f32 = 0;
    for (let c: i32 = 0; c < classes; c++) {
      const p = load<f32>(gp + (<usize>c << 2));
      dot += p * dice_g(labels, labelKind, i, c, classes, p, sq, coefs);
    }
    for (let c: i32 = 0; c < classes; c++) {
      const p = load<f32>(gp + (<usize>c << 2));
      store<f32>(gp + (<usize>c << 2), p * (dice_g(labels, labelKind, i, c, classes, p, sq, coefs) - dot));
    }
  }
}

/** g_c = −A_c y_c + B_c q p_c^{q−1}. */
// @ts-ignore: decorator
@inline function dice_g(
  labels: usize, labelKind: i32, i: i32, c: i32, classes: i32, p: f32, sq: bool, coefs: usize,
): f32 {
  const k = coefs + (<usize>(c * 2) << 3);
  const a = <f32>load<f64>(k);
  const b = <f32>load<f64>(k, 8);
  const y = label_value(labels, labelKind, i, c, classes);
  return (sq ? b * (2 * p) : b) - a * y;
}
