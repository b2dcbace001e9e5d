/**
 * The region-loss engine: every loss that is a function of per-class sums over a group of pixels —
 * Dice with its square, Jaccard and log forms, generalized Dice, Tversky and focal Tversky — in
 * two passes that know nothing of the loss itself.
 *
 * Pass 1, `region_stats`. p = act(x) for every element: softmax over the C channels of a pixel
 * (stable: the pixel's max is subtracted), the logistic sigmoid of each element (stable on both
 * sides: e^−|x| only), or x itself ('none': the input already is a probability map). Over each
 * group G of pixels (the whole batch, or one image) and each class c:
 *   I_c = Σ_G p_c y_c,   S_c = Σ_G p_c,   Y_c = Σ_G y_c,   S2_c = Σ_G p_c²,   Y2_c = Σ_G y_c²
 * A pixel whose index label is ignoreIndex counts nowhere (y = p = 0 for every class, as smp's
 * ignore_index). Index labels are one-hot, y_c = [label = c], except for a single channel (C = 1,
 * binary): there they are the mask itself, y = [label = 1], as smp's binary mode. p is stored for
 * pass 2.
 *
 * Between the passes the loss's own formula (src/losses/region.ts) turns the sums into the loss and,
 * for an upstream gradient, into per group and class coefficients of
 *   ∂L/∂p_c = a_c + b_c y_c + k_c p_c
 * which is affine because L depends on p only through I (∂I/∂p = y), S (∂S/∂p = 1) and S2 (2p).
 *
 * Pass 2, `region_grad`. g_c = a_c + b_c y_c + k_c p_c, then the activation's Jacobian:
 *   softmax  ∂L/∂x_j = p_j (g_j − Σ_c p_c g_c)
 *   sigmoid  ∂L/∂x_c = g_c p_c (1 − p_c)
 *   none     ∂L/∂x_c = g_c
 * and 0 for every element of an ignored pixel.
 *
 * Error: sums accumulate in f32 for blocks of FLUSH_EVERY pixels, then in f64 (≈ 1e-6 relative,
 * as the Dice kernel). This file is the scalar engine, in both builds; the seed's Dice options keep
 * their specialised SIMD kernel (softmax_dice.ts).
 */
import { exp_neg_f32 } from '../math/exp';
import { LABELS_INDEX, label_value } from './labels';

/** y_c of pixel i; for a single channel, index labels are a binary mask (1 = the class). */
// @ts-ignore: decorator
@inline function region_label(labels: usize, labelKind: i32, i: i32, c: i32, classes: i32): f32 {
  if (classes == 1 && labelKind == LABELS_INDEX) return load<i32>(labels + (<usize>i << 2)) == 1 ? 1 : 0;
  return label_value(labels, labelKind, i, c, classes);
}

export const ACT_SOFTMAX: i32 = 0;
export const ACT_SIGMOID: i32 = 1;
export const ACT_NONE: i32 = 2;

/** The five sums per group and class, in this order: I, S, Y, S2, Y2 (f64 each). */
// @ts-ignore: decorator
@inline const STATS: i32 = 5;
/** The three gradient coefficients per group and class: a, b, k (f64 each). */
// @ts-ignore: decorator
@inline const COEFS: i32 = 3;
// @ts-ignore: decorator
@inline const FLUSH_EVERY: i32 = 256;

// @ts-ignore: decorator
@inline function ignored(labels: usize, labelKind: i32, i: i32, hasIgnore: i32, ignoreIndex: i32): bool {
  return hasIgnore != 0 && labelKind == LABELS_INDEX && load<i32>(labels + (<usize>i << 2)) == ignoreIndex;
}

/** The logistic sigmoid, stable for any x: only e^−|x| is ever formed. */
// @ts-ignore: decorator
@inline function sigmoid_f32(x: f32): f32 {
  const t = exp_neg_f32(-abs<f32>(x));
  const r: f32 = 1.0 / (1.0 + t);
  return x >= 0 ? r : t * r;
}

/**
 * Pass 1: p = act(input) into `probs` (when not 0) and the sums.
 *
 * @param labels         float32 one-hot / soft / multi-label [P, C], or int32 class indices [P]
 * @param labelKind      LABELS_ONE_HOT or LABELS_INDEX (indices validated to [0, C) or ignoreIndex)
 * @param input          float32 [P, C]: logits, or probabilities for ACT_NONE
 * @param probs          float32 [P, C] output for p (0: not stored)
 * @param activation     ACT_SOFTMAX, ACT_SIGMOID or ACT_NONE
 * @param groups         pixel groups (1, or N per image); pixelsPerGroup = P / groups
 * @param hasIgnore      1 when pixels labelled ignoreIndex are left out
 * @param sums           f64 [groups, C, 5] output
 * @param scratch        C·6 f32 of scratch (a row of p and the f32 block sums)
 */
export function region_stats(
  labels: usize, labelKind: i32, input: usize, probs: usize, activation: i32, groups: i32,
  pixelsPerGroup: i32, classes: i32, hasIgnore: i32, ignoreIndex: i32, sums: usize, scratch: usize,
): void {
  const row = scratch;
  const block = scratch + (<usize>classes << 2);
  const rowBytes = <usize>classes << 2;
  memory.fill(sums, 0, <usize>(groups * classes * STATS) << 3);
  for (let g: i32 = 0; g < groups; g++) {
    const out = sums + (<usize>(g * classes * STATS) << 3);
    const end = (g + 1) * pixelsPerGroup;
    let i = g * pixelsPerGroup;
    while (i < end) {
      const blockEnd = min<i32>(end, i + FLUSH_EVERY);
      memory.fill(block, 0, rowBytes * STATS);
      for (; i < blockEnd; i++) {
        const x = input + <usize>i * rowBytes;
        if (ignored(labels, labelKind, i, hasIgnore, ignoreIndex)) {
          if (probs) memory.fill(probs + <usize>i * rowBytes, 0, rowBytes);
          continue;
        }
        activate_row(x, row, activation, classes);
        if (probs) memory.copy(probs + <usize>i * rowBytes, row, rowBytes);
        for (let c: i32 = 0; c < classes; c++) {
          const p = load<f32>(row + (<usize>c << 2));
          const y = region_label(labels, labelKind, i, c, classes);
          const b = block + (<usize>(c * STATS) << 2);
          store<f32>(b, load<f32>(b) + p * y);
          store<f32>(b, load<f32>(b, 4) + p, 4);
          store<f32>(b, load<f32>(b, 8) + y, 8);
          store<f32>(b, load<f32>(b, 12) + p * p, 12);
          store<f32>(b, load<f32>(b, 16) + y * y, 16);
        }
      }
      for (let k: i32 = 0; k < classes * STATS; k++) {
        const s = out + (<usize>k << 3);
        store<f64>(s, load<f64>(s) + <f64>load<f32>(block + (<usize>k << 2)));
      }
    }
  }
}

/** p of one pixel's C inputs at `x` into `row`. */
// @ts-ignore: decorator
@inline function activate_row(x: usize, row: usize, activation: i32, classes: i32): void {
  if (activation == ACT_SOFTMAX) {
    let m = load<f32>(x);
    for (let c: i32 = 1; c < classes; c++) m = max<f32>(m, load<f32>(x + (<usize>c << 2)));
    let total: f32 = 0;
    for (let c: i32 = 0; c < classes; c++) {
      const e = exp_neg_f32(load<f32>(x + (<usize>c << 2)) - m);
      store<f32>(row + (<usize>c << 2), e);
      total += e;
    }
    const inv: f32 = 1.0 / total;
    for (let c: i32 = 0; c < classes; c++) store<f32>(row + (<usize>c << 2), load<f32>(row + (<usize>c << 2)) * inv);
  } else if (activation == ACT_SIGMOID) {
    for (let c: i32 = 0; c < classes; c++) store<f32>(row + (<usize>c << 2), sigmoid_f32(load<f32>(x + (<usize>c << 2))));
  } else {
    memory.copy(row, x, <usize>classes << 2);
  }
}

/**
 * Pass 2: the gradient with respect to the input, from p and the coefficients.
 *
 * @param probs    float32 [P, C]: p from pass 1
 * @param grad     float32 [P, C] output (may be `probs`: written in place)
 * @param coefs    f64 [groups, C, 3]: a, b, k per group and class
 * @param scratch  C·4 f32 of scratch (the coefficients as f32, and a row of g)
 */
export function region_grad(
  labels: usize, labelKind: i32, probs: usize, grad: usize, activation: i32, groups: i32,
  pixelsPerGroup: i32, classes: i32, hasIgnore: i32, ignoreIndex: i32, coefs: usize, scratch: usize,
): void {
  const rowBytes = <usize>classes << 2;
  const k32 = scratch;
  const gRow = scratch + <usize>(classes * COEFS) * 4;
  for (let g: i32 = 0; g < groups; g++) {
    for (let j: i32 = 0; j < classes * COEFS; j++) {
      store<f32>(k32 + (<usize>j << 2), <f32>load<f64>(coefs + (<usize>(g * classes * COEFS + j) << 3)));
    }
    const end = (g + 1) * pixelsPerGroup;
    for (let i = g * pixelsPerGroup; i < end; i++) {
      const pRow = probs + <usize>i * rowBytes;
      const out = grad + <usize>i * rowBytes;
      if (ignored(labels, labelKind, i, hasIgnore, ignoreIndex)) {
        memory.fill(out, 0, rowBytes);
        continue;
      }
      let pg: f32 = 0;
      for (let c: i32 = 0; c < classes; c++) {
        const k = k32 + (<usize>(c * COEFS) << 2);
        const p = load<f32>(pRow + (<usize>c << 2));
        const y = region_label(labels, labelKind, i, c, classes);
        const gc = load<f32>(k) + load<f32>(k, 4) * y + load<f32>(k, 8) * p;
        store<f32>(gRow + (<usize>c << 2), gc);
        pg += p * gc;
      }
      for (let c: i32 = 0; c < classes; c++) {
        const p = load<f32>(pRow + (<usize>c << 2));
        const gc = load<f32>(gRow + (<usize>c << 2));
        let d: f32;
        if (activation == ACT_SOFTMAX) d = p * (gc - pg);
        else if (activation == ACT_SIGMOID) d = gc * p * (1.0 - p);
        else d = gc;
        store<f32>(out + (<usize>c << 2), d);
      }
    }
  }
}
