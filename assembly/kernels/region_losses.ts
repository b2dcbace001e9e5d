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
 * Pixel terms. The same two passes also carry one pixel loss (cross-entropy, binary cross-entropy or
 * focal), alone or beside a region loss (the compounds Dice + CE, Dice + focal): pass 1 adds up its
 * value and its mean's denominator per group (and writes per-pixel or per-element values for
 * reduction 'none'), pass 2 adds its gradient, scaled, to the region part's. The pixel term has its
 * own activation (MONAI's Dice + focal takes a softmax Dice and a sigmoid focal of the same logits);
 * with PX_ACT_NONE the input is p. With q_c = w_c ((1 − s) y_c + s/C), y' = (1 − s) y + s/2:
 *   PX_CE            ℓ_i = Σ_c q_c (−log p_c),  denominator Σ_c w_c y_c (1 without weights)
 *                    ∂/∂z_j = p_j Σ_c q_c − q_j;            with p given: ∂/∂p_c = −q_c / p_c
 *   PX_BCE           ℓ_ic = a_c y' softplus(−z) + (1 − y') softplus(z)   (a = posWeight), per element
 *                    ∂/∂z = σ(z) (a_c y' + 1 − y') − a_c y'
 *   PX_FOCAL_SOFTMAX ℓ_i = Σ_c −a_c y_c (1 − p_c)^γ log p_c   (a = alpha per class)
 *                    with h_c = a_c y_c (γ p_c (1 − p_c)^(γ−1) log p_c − (1 − p_c)^γ) = p_c ∂ℓ/∂p_c:
 *                    ∂/∂z_j = h_j − p_j Σ_c h_c
 *   PX_FOCAL_SIGMOID ℓ_ic = α_t (1 − p_t)^γ ce,  ce = y softplus(−z) + (1 − y) softplus(z),
 *                    p_t = p y + (1 − p)(1 − y), α_t = a_c y + (1 − a_c)(1 − y) (1 without alpha)
 *                    ∂/∂z = α_t ((p − y) m^γ − ce γ m^(γ−1) p (1 − p)(2y − 1)),  m = 1 − p_t
 * With p given (PX_ACT_NONE) the logs are clamped at −100 and the derivatives taken in p (torch's
 * convention for probabilities).
 *
 * SIMD (the simd build): a softmax over two channels is the sigmoid of their difference, four
 * pixels at a time (as softmax_dice.ts); a softmax over more channels turns four pixels into channel
 * vectors (4×4 transposes for C % 4 = 0, as softmax_cce.ts; lane by lane otherwise); a sigmoid or
 * no activation works on four consecutive elements, whose classes repeat every C / gcd(C, 4)
 * vectors (with class indices, the lanes' pixels and classes come from one division per vector
 * unless C | 4 or 4 | C). The tail of each group runs the scalar loops, which are also the whole
 * scalar build.
 *
 * Error: sums accumulate in f32 for blocks of FLUSH_EVERY pixels, then in f64 (≈ 1e-6 relative,
 * as the Dice kernel). The seed's Dice options keep their specialised kernel (softmax_dice.ts).
 */
import { exp_f32, exp_f32x4, exp_neg_f32, exp_neg_f32x4 } from '../math/exp';
import { log_f32, log_f32x4, log1p_f32, log1p_unit_f32x4 } from '../math/log';
import {
  even_f32x4, gather_tile_f32x4, hsum_f32x4, mask_to_f32x4, odd_f32x4, scatter_tile_f32x4, store_interleaved_f32x4,
} from '../math/lanes';
import { tile_exp_sum_f32x4 } from '../math/softmax';
import { LABELS_INDEX, label_value, labels_c2_f32x4 } from './labels';

/** y_c of pixel i; for a single channel, index labels are a binary mask (1 = the class). */
// @ts-ignore: decorator
@inline function region_label(labels: usize, labelKind: i32, i: i32, c: i32, classes: i32): f32 {
  if (classes == 1 && labelKind == LABELS_INDEX) return load<i32>(labels + (<usize>i << 2)) == 1 ? 1 : 0;
  return label_value(labels, labelKind, i, c, classes);
}

export const ACT_SOFTMAX: i32 = 0;
export const ACT_SIGMOID: i32 = 1;
export const ACT_NONE: i32 = 2;

export const PX_NONE: i32 = 0;
export const PX_CE: i32 = 1;
export const PX_BCE: i32 = 2;
export const PX_FOCAL_SOFTMAX: i32 = 3;
export const PX_FOCAL_SIGMOID: i32 = 4;
/** How the pixel term gets p: from logits (its own softmax or sigmoid, by its kind), or given. */
export const PX_ACT_LOGITS: i32 = 0;
export const PX_ACT_NONE: i32 = 1;

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
 * A pixel term's parameters, f32 at `params`: w [C] (class weights), a [C] (posWeight, or focal
 * alpha), then γ, s (label smoothing), hasAlpha (sigmoid focal: 1 when alpha is given), hasWeights
 * (CE: 1 when class weights are given; the mean then divides by Σ w_c y_c).
 */
// @ts-ignore: decorator
@inline function param(params: usize, k: i32): f32 {
  return load<f32>(params + (<usize>k << 2));
}

/** softplus(x) = log(1 + e^x), stable for any x. */
// @ts-ignore: decorator
@inline function softplus_f32(x: f32): f32 {
  return max<f32>(x, 0) + log1p_f32(exp_neg_f32(-abs<f32>(x)));
}

/** log p clamped at −100, for probabilities given as input. */
// @ts-ignore: decorator
@inline function log_clamped(p: f32): f32 {
  return p > 0 ? max<f32>(log_f32(p), -100) : -100;
}

/**
 * The pixel term of pixel i: adds its value(s) to `loss` (or writes them to `out` for reduction
 * 'none': one value per pixel, or per element for the sigmoid kinds) and returns the value and the
 * mean's denominator of the pixel in `acc` (f32 [2]: loss, denominator).
 * `row` holds scratch for C f32 (log-softmax).
 */
function pixel_loss(
  kind: i32, pxAct: i32, labels: usize, labelKind: i32, i: i32, x: usize, classes: i32, params: usize,
  out: usize, row: usize, acc: usize,
): void {
  const C = classes;
  const gamma = param(params, 2 * C);
  const s = param(params, 2 * C + 1);
  let loss: f32 = 0;
  let den: f32 = 0;
  if (kind == PX_CE || kind == PX_FOCAL_SOFTMAX) {
    // log p_c: log-softmax of the logits, or log of the given p.
    if (pxAct == PX_ACT_NONE) {
      for (let c: i32 = 0; c < C; c++) store<f32>(row + (<usize>c << 2), log_clamped(load<f32>(x + (<usize>c << 2))));
    } else {
      let m = load<f32>(x);
      for (let c: i32 = 1; c < C; c++) m = max<f32>(m, load<f32>(x + (<usize>c << 2)));
      let total: f32 = 0;
      for (let c: i32 = 0; c < C; c++) total += exp_neg_f32(load<f32>(x + (<usize>c << 2)) - m);
      const lse = m + log_f32(total);
      for (let c: i32 = 0; c < C; c++) store<f32>(row + (<usize>c << 2), load<f32>(x + (<usize>c << 2)) - lse);
    }
    for (let c: i32 = 0; c < C; c++) {
      const y = region_label(labels, labelKind, i, c, classes);
      const logp = load<f32>(row + (<usize>c << 2));
      if (kind == PX_CE) {
        const w = param(params, c);
        loss += -w * ((1.0 - s) * y + s / <f32>C) * logp;
        den += w * y;
      } else if (y != 0) {
        const p = exp_neg_f32(min<f32>(logp, 0));
        loss += -param(params, C + c) * y * pow_f32(1.0 - p, gamma) * logp;
      }
    }
    // Without class weights every counted pixel weighs 1 in the mean (and always for focal).
    if (kind == PX_FOCAL_SOFTMAX || param(params, 2 * C + 3) == 0) den = 1;
    if (out) store<f32>(out + (<usize>i << 2), loss);
  } else {
    for (let c: i32 = 0; c < C; c++) {
      const z = load<f32>(x + (<usize>c << 2));
      const y = region_label(labels, labelKind, i, c, classes);
      const a = param(params, C + c);
      let v: f32;
      let spNeg: f32; // −log p
      let spPos: f32; // −log (1 − p)
      if (pxAct == PX_ACT_NONE) {
        spNeg = -log_clamped(z);
        spPos = -log_clamped(1.0 - z);
      } else {
        spNeg = softplus_f32(-z);
        spPos = softplus_f32(z);
      }
      if (kind == PX_BCE) {
        const ys: f32 = (1.0 - s) * y + s * 0.5;
        v = a * ys * spNeg + (1.0 - ys) * spPos;
      } else {
        const p = pxAct == PX_ACT_NONE ? z : sigmoid_f32(z);
        const ce = y * spNeg + (1.0 - y) * spPos;
        const m: f32 = 1.0 - (p * y + (1.0 - p) * (1.0 - y));
        const alphaT: f32 = param(params, 2 * C + 2) != 0 ? a * y + (1.0 - a) * (1.0 - y) : 1;
        v = alphaT * pow_f32(m, gamma) * ce;
      }
      loss += v;
      if (out) store<f32>(out + ((<usize>i * <usize>C + <usize>c) << 2), v);
    }
    den = <f32>C;
  }
  store<f32>(acc, loss);
  store<f32>(acc, den, 4);
}

/** x^γ for x ≥ 0 and any γ (0^0 = 1, as torch; callers never form 0 to a negative power). */
// @ts-ignore: decorator
@inline function pow_f32(x: f32, gamma: f32): f32 {
  if (gamma == 0) return 1;
  if (gamma == 1) return x;
  if (gamma == 2) return x * x;
  return x > 0 ? exp_f32(gamma * log_f32(x)) : 0;
}

/**
 * Adds the pixel term's gradient at pixel i, times `scale` (or times the per-pixel / per-element
 * upstream gradient at `dy`), to the C values at `out`. `row` is C f32 of scratch.
 */
function pixel_grad(
  kind: i32, pxAct: i32, labels: usize, labelKind: i32, i: i32, x: usize, classes: i32, params: usize,
  scale: f32, dy: usize, out: usize, row: usize,
): void {
  const C = classes;
  const gamma = param(params, 2 * C);
  const s = param(params, 2 * C + 1);
  if (kind == PX_CE || kind == PX_FOCAL_SOFTMAX) {
    const f = dy ? load<f32>(dy + (<usize>i << 2)) : scale;
    // p into row.
    if (pxAct == PX_ACT_NONE) {
      memory.copy(row, x, <usize>C << 2);
    } else {
      let m = load<f32>(x);
      for (let c: i32 = 1; c < C; c++) m = max<f32>(m, load<f32>(x + (<usize>c << 2)));
      let total: f32 = 0;
      for (let c: i32 = 0; c < C; c++) {
        const e = exp_neg_f32(load<f32>(x + (<usize>c << 2)) - m);
        store<f32>(row + (<usize>c << 2), e);
        total += e;
      }
      const inv: f32 = 1.0 / total;
      for (let c: i32 = 0; c < C; c++) store<f32>(row + (<usize>c << 2), load<f32>(row + (<usize>c << 2)) * inv);
    }
    // q_c (CE) or h_c (focal) into the second half of the scratch, and their sum.
    const h = row + (<usize>C << 2);
    let total: f32 = 0;
    for (let c: i32 = 0; c < C; c++) {
      const y = region_label(labels, labelKind, i, c, classes);
      const p = load<f32>(row + (<usize>c << 2));
      let v: f32 = 0;
      if (kind == PX_CE) {
        v = param(params, c) * ((1.0 - s) * y + s / <f32>C);
      } else if (y != 0) {
        const logp = pxAct == PX_ACT_NONE ? log_clamped(p) : (p > 0 ? log_f32(p) : 0);
        const om: f32 = 1.0 - p;
        const lead: f32 = gamma == 0 || p == 0 ? 0 : gamma * p * pow_f32(om, gamma - 1.0) * logp;
        v = param(params, C + c) * y * (lead - pow_f32(om, gamma));
      }
      store<f32>(h + (<usize>c << 2), v);
      total += v;
    }
    for (let c: i32 = 0; c < C; c++) {
      const p = load<f32>(row + (<usize>c << 2));
      const v = load<f32>(h + (<usize>c << 2));
      let d: f32;
      if (pxAct == PX_ACT_NONE) {
        // ∂/∂p_c: −q_c/p_c (CE), h_c/p_c (focal).
        d = v == 0 ? 0 : (kind == PX_CE ? -v : v) / max<f32>(p, 1e-30);
      } else {
        d = kind == PX_CE ? p * total - v : v - p * total;
      }
      const o = out + (<usize>c << 2);
      store<f32>(o, load<f32>(o) + f * d);
    }
  } else {
    for (let c: i32 = 0; c < C; c++) {
      const f = dy ? load<f32>(dy + ((<usize>i * <usize>C + <usize>c) << 2)) : scale;
      const z = load<f32>(x + (<usize>c << 2));
      const y = region_label(labels, labelKind, i, c, classes);
      const a = param(params, C + c);
      let d: f32;
      if (kind == PX_BCE) {
        const ys: f32 = (1.0 - s) * y + s * 0.5;
        if (pxAct == PX_ACT_NONE) {
          const pq = max<f32>(z * (1.0 - z), 1e-12);
          d = (z * (a * ys + 1 - ys) - a * ys) / pq;
        } else {
          d = sigmoid_f32(z) * (a * ys + 1 - ys) - a * ys;
        }
      } else {
        const p = pxAct == PX_ACT_NONE ? z : sigmoid_f32(z);
        const spNeg = pxAct == PX_ACT_NONE ? -log_clamped(z) : softplus_f32(-z);
        const spPos = pxAct == PX_ACT_NONE ? -log_clamped(1.0 - z) : softplus_f32(z);
        const ce = y * spNeg + (1.0 - y) * spPos;
        const m: f32 = 1.0 - (p * y + (1.0 - p) * (1.0 - y));
        const alphaT: f32 = param(params, 2 * C + 2) != 0 ? a * y + (1.0 - a) * (1.0 - y) : 1;
        // d ce and d m with respect to z (logits) or p (given).
        const pq = pxAct == PX_ACT_NONE ? max<f32>(p * (1.0 - p), 1e-12) : p * (1.0 - p);
        const dce: f32 = pxAct == PX_ACT_NONE ? (p - y) / pq : p - y;
        const dm: f32 = pxAct == PX_ACT_NONE ? -(2.0 * y - 1.0) : -p * (1.0 - p) * (2.0 * y - 1.0);
        const second: f32 = gamma == 0 || m == 0 ? 0 : ce * gamma * pow_f32(m, gamma - 1.0) * dm;
        d = alphaT * (dce * pow_f32(m, gamma) + second);
      }
      const o = out + (<usize>c << 2);
      store<f32>(o, load<f32>(o) + f * d);
    }
  }
}

/**
 * Pass 1: p = act(input) into `probs` (when not 0), the region sums (when `regionOn`), and the
 * pixel term's value and denominator per group (when `pixelKind` is not PX_NONE).
 *
 * @param labels         float32 one-hot / soft / multi-label [P, C], or int32 class indices [P]
 * @param labelKind      LABELS_ONE_HOT or LABELS_INDEX (indices validated to [0, C) or ignoreIndex)
 * @param input          float32 [P, C]: logits, or probabilities for ACT_NONE
 * @param probs          float32 [P, C] output for p (0: not stored)
 * @param activation     ACT_SOFTMAX, ACT_SIGMOID or ACT_NONE (the region part's)
 * @param groups         pixel groups (1, or N per image); pixelsPerGroup = P / groups
 * @param hasIgnore      1 when pixels labelled ignoreIndex are left out
 * @param regionOn       1 to accumulate the region sums
 * @param sums           f64 [groups, C, 5] output (region sums), then f64 [groups, 2] (pixel term:
 *                       value, denominator)
 * @param pixelKind      PX_NONE, PX_CE, PX_BCE, PX_FOCAL_SOFTMAX or PX_FOCAL_SIGMOID
 * @param pxAct          PX_ACT_LOGITS or PX_ACT_NONE
 * @param params         the pixel term's parameters (see `param`)
 * @param pixelOut       float32 output for reduction 'none': [P] (CE, softmax focal) or [P, C]; or 0
 * @param scratch        C·7 + 4 f32 of scratch
 * @param simd           9·C vectors (16 B each) of scratch for the SIMD paths
 * @param gradOut        float32 [P, C]: with a pixel loss alone (no region part, reduction mean or
 *                       sum), its gradient `gradScale`·∂ℓ/∂input in this same pass; or 0
 */
export function region_stats(
  labels: usize, labelKind: i32, input: usize, probs: usize, activation: i32, groups: i32,
  pixelsPerGroup: i32, classes: i32, hasIgnore: i32, ignoreIndex: i32, regionOn: i32, sums: usize,
  pixelKind: i32, pxAct: i32, params: usize, pixelOut: usize, scratch: usize, simd: usize,
  gradOut: usize, gradScale: f32,
): void {
  const rowBytes = <usize>classes << 2;
  const row = scratch;
  const block = row + rowBytes;
  const pxRow = block + rowBytes * STATS;
  const acc = pxRow + rowBytes;
  const pxBlock = acc + 8;
  const pixelSums = sums + (<usize>(groups * classes * STATS) << 3);
  const perPixelOut: usize = pixelKind == PX_CE || pixelKind == PX_FOCAL_SOFTMAX ? 4 : rowBytes;
  memory.fill(sums, 0, <usize>(groups * classes * STATS + groups * 2) << 3);
  for (let g: i32 = 0; g < groups; g++) {
    const out = sums + (<usize>(g * classes * STATS) << 3);
    const end = (g + 1) * pixelsPerGroup;
    const start = g * pixelsPerGroup;
    // The SIMD paths take what they can from the start of the group; the scalar loop below does the
    // rest: the region part from iRegion on, the pixel part from iPixel on.
    let iRegion = regionOn != 0 ? start : end;
    let iPixel = pixelKind != PX_NONE ? start : end;
    const ps = pixelSums + (<usize>(g * 2) << 3);
    // A softmax pixel term of the same logits rides in the region part's softmax (the compounds).
    const fused = fused_pixel(regionOn, activation, classes, pixelKind, pxAct);
    if (ASC_FEATURE_SIMD && regionOn != 0) {
      const kind = fused ? pixelKind : PX_NONE;
      if (activation == ACT_SOFTMAX && classes == 2) {
        const quads = pixelsPerGroup >> 2;
        stats_softmax_c2_f32x4(labels, labelKind, input, probs, start, quads, hasIgnore, ignoreIndex, out, kind, params, pixelOut, ps);
        iRegion += quads << 2;
      } else if (activation == ACT_SOFTMAX && classes > 2) {
        const quads = pixelsPerGroup >> 2;
        stats_softmax_tile_f32x4(labels, labelKind, input, probs, start, quads, classes, hasIgnore, ignoreIndex, out, simd,
          simd + (<usize>(classes * STATS) << 4), kind, params, pixelOut, ps);
        iRegion += quads << 2;
      } else if (activation != ACT_SOFTMAX) {
        const vectors = whole_periods(pixelsPerGroup, classes);
        if (fused) {
          stats_sigmoid_pixel_f32x4(pixelKind, labels, labelKind, input, probs, start * classes, vectors, classes, hasIgnore, ignoreIndex,
            out, simd, params, pixelOut, ps, simd + (<usize>(period(classes) * STATS) << 4));
        } else {
          stats_elementwise_f32x4(labels, labelKind, input, probs, activation, start * classes, vectors, classes, hasIgnore, ignoreIndex, out, simd);
        }
        iRegion += (vectors << 2) / classes;
      }
    }
    if (fused) {
      iPixel = iRegion;
    } else if (ASC_FEATURE_SIMD && pixelKind != PX_NONE) {
      if ((pixelKind == PX_CE || pixelKind == PX_FOCAL_SOFTMAX) && pxAct == PX_ACT_NONE && classes >= 2) {
        const quads = pixelsPerGroup >> 2;
        pixel_stats_prob_tile_f32x4(pixelKind, labels, labelKind, input, start, quads, classes, hasIgnore, ignoreIndex, params, pixelOut, ps, simd, gradOut, gradScale);
        iPixel += quads << 2;
      } else if ((pixelKind == PX_CE || pixelKind == PX_FOCAL_SOFTMAX) && classes == 2) {
        const quads = pixelsPerGroup >> 2;
        pixel_stats_c2_f32x4(pixelKind, labels, labelKind, input, start, quads, hasIgnore, ignoreIndex, params, pixelOut, ps, simd, gradOut, gradScale);
        iPixel += quads << 2;
      } else if ((pixelKind == PX_CE || pixelKind == PX_FOCAL_SOFTMAX) && classes > 2) {
        const quads = pixelsPerGroup >> 2;
        pixel_stats_tile_f32x4(pixelKind, labels, labelKind, input, start, quads, classes, hasIgnore, ignoreIndex, params, pixelOut, ps, simd, gradOut, gradScale);
        iPixel += quads << 2;
      } else if ((pixelKind == PX_BCE || pixelKind == PX_FOCAL_SIGMOID)) {
        const vectors = whole_periods(pixelsPerGroup, classes);
        pixel_stats_elementwise_f32x4(pixelKind, pxAct, labels, labelKind, input, start * classes, vectors, classes, hasIgnore, ignoreIndex, params, pixelOut, ps, simd, gradOut, gradScale);
        iPixel += (vectors << 2) / classes;
      }
    }
    let i = min<i32>(iRegion, iPixel);
    while (i < end) {
      const blockEnd = min<i32>(end, i + FLUSH_EVERY);
      memory.fill(block, 0, rowBytes * STATS);
      memory.fill(pxBlock, 0, 8);
      for (; i < blockEnd; i++) {
        const x = input + <usize>i * rowBytes;
        const doRegion = i >= iRegion;
        const doPixel = i >= iPixel;
        if (ignored(labels, labelKind, i, hasIgnore, ignoreIndex)) {
          if (probs && doRegion) memory.fill(probs + <usize>i * rowBytes, 0, rowBytes);
          if (pixelOut && doPixel) memory.fill(pixelOut + <usize>i * perPixelOut, 0, perPixelOut);
          if (gradOut && doPixel) memory.fill(gradOut + <usize>i * rowBytes, 0, rowBytes);
          continue;
        }
        if (doRegion) {
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
        if (doPixel) {
          if (gradOut) {
            // The one-pass mode: the scalar tail's gradient too (`block` is free without a region part).
            memory.fill(gradOut + <usize>i * rowBytes, 0, rowBytes);
            pixel_grad(pixelKind, pxAct, labels, labelKind, i, x, classes, params, gradScale, 0, gradOut + <usize>i * rowBytes, block);
          }
          pixel_loss(pixelKind, pxAct, labels, labelKind, i, x, classes, params, pixelOut, pxRow, acc);
          store<f32>(pxBlock, load<f32>(pxBlock) + load<f32>(acc));
          store<f32>(pxBlock, load<f32>(pxBlock, 4) + load<f32>(acc, 4), 4);
        }
      }
      for (let k: i32 = 0; k < classes * STATS; k++) {
        const s = out + (<usize>k << 3);
        store<f64>(s, load<f64>(s) + <f64>load<f32>(block + (<usize>k << 2)));
      }
      store<f64>(ps, load<f64>(ps) + <f64>load<f32>(pxBlock));
      store<f64>(ps, load<f64>(ps, 8) + <f64>load<f32>(pxBlock, 4), 8);
    }
  }
}

/**
 * Whether the pixel term is carried by the region part's SIMD paths (stats and gradient): a softmax
 * CE or focal of the same logits beside a softmax region loss, or BCE / sigmoid focal beside a
 * sigmoid one (Dice + CE, Dice + focal, in either activation).
 */
// @ts-ignore: decorator
@inline function fused_pixel(regionOn: i32, activation: i32, classes: i32, pixelKind: i32, pxAct: i32): bool {
  if (!ASC_FEATURE_SIMD || regionOn == 0 || pxAct != PX_ACT_LOGITS) return false;
  if (activation == ACT_SOFTMAX) return classes >= 2 && (pixelKind == PX_CE || pixelKind == PX_FOCAL_SOFTMAX);
  return activation == ACT_SIGMOID && (pixelKind == PX_BCE || pixelKind == PX_FOCAL_SIGMOID);
}

/** p of one pixel's C inputs at `x` into `row` (lovasz.ts uses it too). */
// @ts-ignore: decorator
@inline export function activate_row(x: usize, row: usize, activation: i32, classes: i32): void {
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
 * Pass 2: the gradient with respect to the input, from p and the region coefficients, plus the
 * pixel term's gradient.
 *
 * @param input      float32 [P, C]: the input of pass 1 (the pixel term's gradient needs it)
 * @param probs      float32 [P, C]: p from pass 1 (when `regionOn`)
 * @param grad       float32 [P, C] output
 * @param coefs      f64 [groups, C, 3]: a, b, k per group and class (when `regionOn`)
 * @param pixelScale the pixel term's factor (upstream gradient · λ / the mean's denominator)
 * @param pixelDy    float32 per-pixel ([P]) or per-element ([P, C]) factors instead, or 0
 * @param scratch    C·6 f32 of scratch
 * @param simd       5·C vectors (16 B each) of scratch for the SIMD paths
 */
export function region_grad(
  labels: usize, labelKind: i32, input: usize, probs: usize, grad: usize, activation: i32, groups: i32,
  pixelsPerGroup: i32, classes: i32, hasIgnore: i32, ignoreIndex: i32, regionOn: i32, coefs: usize,
  pixelKind: i32, pxAct: i32, params: usize, pixelScale: f32, pixelDy: usize, scratch: usize, simd: usize,
): void {
  const rowBytes = <usize>classes << 2;
  const k32 = scratch;
  const gRow = scratch + <usize>(classes * COEFS) * 4;
  const pxRow = gRow + rowBytes;
  for (let g: i32 = 0; g < groups; g++) {
    if (regionOn != 0) {
      for (let j: i32 = 0; j < classes * COEFS; j++) {
        store<f32>(k32 + (<usize>j << 2), <f32>load<f64>(coefs + (<usize>(g * classes * COEFS + j) << 3)));
      }
    }
    const end = (g + 1) * pixelsPerGroup;
    const groupStart = g * pixelsPerGroup;
    let start = groupStart;
    const fused = fused_pixel(regionOn, activation, classes, pixelKind, pxAct);
    if (ASC_FEATURE_SIMD && regionOn != 0) {
      const kind = fused ? pixelKind : PX_NONE;
      if (activation == ACT_SOFTMAX && classes == 2) {
        const quads = pixelsPerGroup >> 2;
        grad_softmax_c2_f32x4(labels, labelKind, probs, grad, start, quads, hasIgnore, ignoreIndex, k32, kind, input, params,
          pixelScale, pixelDy, simd);
        start += quads << 2;
      } else if (activation == ACT_SOFTMAX && classes > 2) {
        const quads = pixelsPerGroup >> 2;
        grad_softmax_tile_f32x4(labels, labelKind, probs, grad, start, quads, classes, hasIgnore, ignoreIndex, k32, simd, kind,
          params, pixelScale, pixelDy);
        start += quads << 2;
      } else if (activation != ACT_SOFTMAX) {
        // a, b, k as vectors per position of the class period: lane l of position j is class (4j + l) mod C.
        const V = period(classes);
        for (let j: i32 = 0; j < V; j++) {
          for (let l: i32 = 0; l < 4; l++) {
            const c = (4 * j + l) % classes;
            for (let t: i32 = 0; t < COEFS; t++) {
              store<f32>(simd + (<usize>((j * COEFS + t) * 4 + l) << 2), load<f32>(k32 + (<usize>(c * COEFS + t) << 2)));
            }
          }
        }
        const vectors = whole_periods(pixelsPerGroup, classes);
        if (fused) {
          grad_sigmoid_pixel_f32x4(pixelKind, labels, labelKind, input, probs, grad, start * classes, vectors, classes, hasIgnore,
            ignoreIndex, simd, params, pixelScale, pixelDy, simd + (<usize>(V * COEFS) << 4));
        } else {
          grad_elementwise_f32x4(labels, labelKind, probs, grad, activation, start * classes, vectors, classes, hasIgnore, ignoreIndex, simd);
        }
        start += (vectors << 2) / classes;
      }
    }
    // The pixel part's SIMD path adds into (or, alone, writes) what the region part wrote.
    let iPixel = pixelKind != PX_NONE ? groupStart : end;
    if (fused) {
      iPixel = start;
    } else if (ASC_FEATURE_SIMD && pixelKind != PX_NONE) {
      // Elements before `start` hold the region part already; the scalar loop below must not redo them.
      if ((pixelKind == PX_CE || pixelKind == PX_FOCAL_SOFTMAX) && classes >= 2) {
        const quads = pixelsPerGroup >> 2;
        iPixel += quads << 2;
      } else if ((pixelKind == PX_BCE || pixelKind == PX_FOCAL_SIGMOID)) {
        iPixel += ((whole_periods(pixelsPerGroup, classes)) << 2) / classes;
      }
    }
    // Without a region part, the pixel part's SIMD path writes what it covers: the loop starts after it.
    for (let i = regionOn != 0 ? min<i32>(start, iPixel) : iPixel; i < end; i++) {
      const out = grad + <usize>i * rowBytes;
      const doRegion = i >= start;
      if (ignored(labels, labelKind, i, hasIgnore, ignoreIndex)) {
        if (doRegion || regionOn == 0) memory.fill(out, 0, rowBytes);
        continue;
      }
      if (!doRegion) {
        // The region part's SIMD path wrote this pixel; only the pixel part's scalar tail may remain.
      } else if (regionOn != 0) {
        const pRow = probs + <usize>i * rowBytes;
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
      } else {
        memory.fill(out, 0, rowBytes);
      }
      if (i >= iPixel) {
        pixel_grad(pixelKind, pxAct, labels, labelKind, i, input + <usize>i * rowBytes, classes, params, pixelScale,
          pixelDy, out, pxRow);
      }
    }
    // The pixel part's SIMD path, after the region part is written everywhere.
    if (ASC_FEATURE_SIMD && !fused && pixelKind != PX_NONE && iPixel > groupStart) {
      if ((pixelKind == PX_CE || pixelKind == PX_FOCAL_SOFTMAX) && pxAct == PX_ACT_NONE) {
        pixel_grad_prob_tile_f32x4(pixelKind, labels, labelKind, input, grad, groupStart, pixelsPerGroup >> 2, classes, hasIgnore,
          ignoreIndex, params, pixelScale, pixelDy, regionOn, simd);
      } else if ((pixelKind == PX_CE || pixelKind == PX_FOCAL_SOFTMAX) && classes == 2) {
        pixel_grad_c2_f32x4(pixelKind, labels, labelKind, input, grad, groupStart, pixelsPerGroup >> 2, hasIgnore, ignoreIndex,
          params, pixelScale, pixelDy, regionOn, simd);
      } else if ((pixelKind == PX_CE || pixelKind == PX_FOCAL_SOFTMAX) && classes > 2) {
        pixel_grad_tile_f32x4(pixelKind, labels, labelKind, input, grad, groupStart, pixelsPerGroup >> 2, classes, hasIgnore,
          ignoreIndex, params, pixelScale, pixelDy, regionOn, simd);
      } else {
        pixel_grad_elementwise_f32x4(pixelKind, pxAct, labels, labelKind, input, grad, groupStart * classes, whole_periods(pixelsPerGroup, classes),
          classes, hasIgnore, ignoreIndex, params, pixelScale, pixelDy, regionOn, simd);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// SIMD paths (region losses without a pixel term).

/**
 * Four pixels' labels for a channel tile: class indices are returned (with float labels the rows
 * are gathered into `yTile` and zeros returned); `tile_keep` and `tile_y` read them.
 */
// @ts-ignore: decorator
@inline function tile_labels(labels: usize, labelKind: i32, i: i32, rowBytes: usize, yTile: usize, classes: i32): v128 {
  if (labelKind == LABELS_INDEX) return v128.load(labels + (<usize>i << 2));
  gather_tile_f32x4(labels + <usize>i * rowBytes, rowBytes, yTile);
  return i32x4.splat(0);
}

/** All ones on the lanes whose pixel counts: not the ignored class index. */
// @ts-ignore: decorator
@inline function tile_keep(l: v128, labelKind: i32, hasIgnore: i32, ignoreIndex: i32): v128 {
  return labelKind == LABELS_INDEX && hasIgnore ? v128.not(i32x4.eq(l, i32x4.splat(ignoreIndex))) : i32x4.splat(-1);
}

/** Class c's labels for the four pixels of `tile_labels`. */
// @ts-ignore: decorator
@inline function tile_y(l: v128, labelKind: i32, yTile: usize, c: i32): v128 {
  return labelKind == LABELS_INDEX ? mask_to_f32x4(i32x4.eq(l, i32x4.splat(c))) : v128.load(yTile + (<usize>c << 4));
}

/** The vectors of a group's elements in whole periods (so whole pixels), for the four-element paths. */
// @ts-ignore: decorator
@inline function whole_periods(pixels: i32, classes: i32): i32 {
  const V = period(classes);
  return ((pixels * classes) / (V << 2)) * V;
}

/** Vectors per period of classes along the elements: lcm(C, 4) / 4 = C / gcd(C, 4). */
// @ts-ignore: decorator
@inline function period(classes: i32): i32 {
  return (classes & 3) == 0 ? classes >> 2 : (classes & 1) == 0 ? classes >> 1 : classes;
}

/** The sigmoid of four lanes, as `sigmoid_f32`. */
// @ts-ignore: decorator
@inline function sigmoid_f32x4(x: v128): v128 {
  const t = exp_neg_f32x4(f32x4.neg(f32x4.abs(x)));
  const r = f32x4.div(f32x4.splat(1.0), f32x4.add(f32x4.splat(1.0), t));
  return v128.bitselect(r, f32x4.mul(t, r), f32x4.ge(x, f32x4.splat(0)));
}

/**
 * The int32 label of the pixel of each of four consecutive elements starting at element e (e at a
 * period's vector: for C ∤ 4 and 4 ∤ C the four lanes span two pixels at most, as C ≥ 3).
 */
// @ts-ignore: decorator
@inline function pixel_labels_i32x4(labels: usize, e: i32, classes: i32): v128 {
  if (classes == 1) return v128.load(labels + (<usize>e << 2));
  if (classes == 2) {
    const pair = v128.load64_zero(labels + (<usize>(e >> 1) << 2));
    return v128.shuffle<i32>(pair, pair, 0, 0, 1, 1);
  }
  const pixel = e / classes;
  const first = i32x4.splat(load<i32>(labels + (<usize>pixel << 2)));
  if ((classes & 3) == 0) return first;
  const r = e - pixel * classes;
  if (r + 3 < classes) return first;
  // Lanes l with r + l ≥ C belong to the next pixel.
  const next = i32x4.splat(load<i32>(labels + (<usize>(pixel + 1) << 2)));
  return v128.bitselect(next, first, i32x4.ge_s(i32x4.add(i32x4.splat(r), i32x4(0, 1, 2, 3)), i32x4.splat(classes)));
}

/**
 * y of four consecutive elements starting at element e from their pixels' class indices `l`: the
 * mask itself for C = 1 (binary), else [l = class of the lane]; c0 is e's class when C % 4 = 0.
 */
// @ts-ignore: decorator
@inline function index_y_f32x4(l: v128, e: i32, c0: i32, classes: i32): v128 {
  if (classes == 1) return mask_to_f32x4(i32x4.eq(l, i32x4.splat(1)));
  if (classes == 2) return mask_to_f32x4(i32x4.eq(l, i32x4(0, 1, 0, 1)));
  const iota = i32x4(0, 1, 2, 3);
  if ((classes & 3) == 0) return mask_to_f32x4(i32x4.eq(l, i32x4.add(i32x4.splat(c0), iota)));
  // Lane l's class is (r + l) mod C with r = e mod C; r + l < 2C as C ≥ 3.
  const C = i32x4.splat(classes);
  const rl = i32x4.add(i32x4.splat(e % classes), iota);
  return mask_to_f32x4(i32x4.eq(l, i32x4.sub(rl, v128.and(i32x4.ge_s(rl, C), C))));
}

/**
 * Sums of a sigmoid / no-activation group over the elements [e0, e0 + 4·vectors), e0 at a pixel
 * boundary: accumulators at `acc` (5 vectors per position of the class period), flushed into the
 * group's f64 sums.
 */
function stats_elementwise_f32x4(
  labels: usize, labelKind: i32, input: usize, probs: usize, activation: i32, e0: i32, vectors: i32,
  classes: i32, hasIgnore: i32, ignoreIndex: i32, sums: usize, acc: usize,
): void {
  const V = period(classes);
  if (V == 1) {
    stats_elementwise_v1_f32x4(labels, labelKind, input, probs, activation, e0, vectors, classes, hasIgnore, ignoreIndex, sums);
    return;
  }
  const one = i32x4.splat(1);
  const ignore = i32x4.splat(ignoreIndex);
  let done: i32 = 0;
  while (done < vectors) {
    const blockEnd = min<i32>(vectors, done + FLUSH_EVERY * V);
    memory.fill(acc, 0, <usize>(V * STATS) << 4);
    let j: i32 = 0;
    for (let k = done; k < blockEnd; k++) {
      const e = e0 + (k << 2);
      const x = v128.load(input + (<usize>e << 2));
      let p = activation == ACT_SIGMOID ? sigmoid_f32x4(x) : x;
      let y: v128;
      if (labelKind == LABELS_INDEX) {
        const l = pixel_labels_i32x4(labels, e, classes);
        y = index_y_f32x4(l, e, j << 2, classes); // (e − e0) mod C = 4j when C % 4 = 0
        if (hasIgnore) {
          const keep = v128.not(i32x4.eq(l, ignore));
          p = v128.and(p, keep);
          y = v128.and(y, keep);
        }
      } else {
        y = v128.load(labels + (<usize>e << 2));
      }
      if (probs) v128.store(probs + (<usize>e << 2), p);
      const a = acc + (<usize>(j * STATS) << 4);
      if (++j == V) j = 0;
      v128.store(a, f32x4.add(v128.load(a), f32x4.mul(p, y)));
      v128.store(a, f32x4.add(v128.load(a, 16), p), 16);
      v128.store(a, f32x4.add(v128.load(a, 32), y), 32);
      v128.store(a, f32x4.add(v128.load(a, 48), f32x4.mul(p, p)), 48);
      v128.store(a, f32x4.add(v128.load(a, 64), f32x4.mul(y, y)), 64);
    }
    // Lane l of position j holds class (4j + l) mod C.
    for (let j: i32 = 0; j < V; j++) {
      for (let l: i32 = 0; l < 4; l++) {
        const c = (4 * j + l) % classes;
        for (let stat: i32 = 0; stat < STATS; stat++) {
          const s = sums + (<usize>(c * STATS + stat) << 3);
          store<f64>(s, load<f64>(s) + <f64>load<f32>(acc + (<usize>((j * STATS + stat) * 4 + l) << 2)));
        }
      }
    }
    done = blockEnd;
  }
}

/** `stats_elementwise_f32x4` for C ∈ {1, 2, 4} (one vector per period): the accumulators stay in registers. */
function stats_elementwise_v1_f32x4(
  labels: usize, labelKind: i32, input: usize, probs: usize, activation: i32, e0: i32, vectors: i32,
  classes: i32, hasIgnore: i32, ignoreIndex: i32, sums: usize,
): void {
  const zero = f32x4.splat(0);
  const one = i32x4.splat(1);
  const ignore = i32x4.splat(ignoreIndex);
  const classOfLane = classes == 1 ? i32x4.splat(1) : classes == 2 ? v128.shuffle<i32>(i32x4.splat(0), one, 0, 4, 0, 4) : i32x4(0, 1, 2, 3);
  let done: i32 = 0;
  while (done < vectors) {
    const blockEnd = min<i32>(vectors, done + FLUSH_EVERY);
    let aI = zero, aS = zero, aY = zero, aS2 = zero, aY2 = zero;
    for (let k = done; k < blockEnd; k++) {
      const e = e0 + (k << 2);
      let p = v128.load(input + (<usize>e << 2));
      if (activation == ACT_SIGMOID) p = sigmoid_f32x4(p);
      let y: v128;
      if (labelKind == LABELS_INDEX) {
        const l = pixel_labels_i32x4(labels, e, classes);
        y = mask_to_f32x4(i32x4.eq(l, classOfLane));
        if (hasIgnore) {
          const keep = v128.not(i32x4.eq(l, ignore));
          p = v128.and(p, keep);
          y = v128.and(y, keep);
        }
      } else {
        y = v128.load(labels + (<usize>e << 2));
      }
      if (probs) v128.store(probs + (<usize>e << 2), p);
      aI = f32x4.add(aI, f32x4.mul(p, y));
      aS = f32x4.add(aS, p);
      aY = f32x4.add(aY, y);
      aS2 = f32x4.add(aS2, f32x4.mul(p, p));
      aY2 = f32x4.add(aY2, f32x4.mul(y, y));
    }
    // Lane l holds class l mod C.
    for (let l: i32 = 0; l < 4; l++) {
      const s = sums + (<usize>((l % classes) * STATS) << 3);
      store<f64>(s, load<f64>(s) + <f64>lane_f32(aI, l));
      store<f64>(s, load<f64>(s, 8) + <f64>lane_f32(aS, l), 8);
      store<f64>(s, load<f64>(s, 16) + <f64>lane_f32(aY, l), 16);
      store<f64>(s, load<f64>(s, 24) + <f64>lane_f32(aS2, l), 24);
      store<f64>(s, load<f64>(s, 32) + <f64>lane_f32(aY2, l), 32);
    }
    done = blockEnd;
  }
}

/** Lane l (0..3, a run-time index) of a vector. */
// @ts-ignore: decorator
@inline function lane_f32(v: v128, l: i32): f32 {
  return l == 0 ? f32x4.extract_lane(v, 0) : l == 1 ? f32x4.extract_lane(v, 1) : l == 2 ? f32x4.extract_lane(v, 2) : f32x4.extract_lane(v, 3);
}

/**
 * Sums of a softmax group over the pixels [i0, i0 + 4·quads), C > 2: four pixels at a time as
 * channel vectors. `acc`: 5·C vectors; `tile`: 3·C vectors. With a softmax pixel term (`kind` CE or
 * focal, the compounds), its value and denominator go to `ps` from the same exp per element.
 */
function stats_softmax_tile_f32x4(
  labels: usize, labelKind: i32, input: usize, probs: usize, i0: i32, quads: i32, classes: i32,
  hasIgnore: i32, ignoreIndex: i32, sums: usize, acc: usize, tile: usize,
  kind: i32, params: usize, pixelOut: usize, ps: usize,
): void {
  const rowBytes = <usize>classes << 2;
  const tileBytes = <usize>classes << 4;
  const pTile = tile;
  const yTile = tile + tileBytes;
  const withPixel = kind != PX_NONE;
  const zTile = withPixel ? yTile + tileBytes : pTile; // z − m for the pixel term's log p
  let done: i32 = 0;
  while (done < quads) {
    const blockEnd = min<i32>(quads, done + (FLUSH_EVERY >> 2));
    memory.fill(acc, 0, <usize>(classes * STATS) << 4);
    let loss = f32x4.splat(0);
    let den = f32x4.splat(0);
    for (let q = done; q < blockEnd; q++) {
      const i = i0 + (q << 2);
      gather_tile_f32x4(input + <usize>i * rowBytes, rowBytes, zTile);
      const total = tile_exp_sum_f32x4(zTile, pTile, tileBytes, withPixel);
      const inv = f32x4.div(f32x4.splat(1.0), total);
      const l = tile_labels(labels, labelKind, i, rowBytes, yTile, classes);
      const keep = tile_keep(l, labelKind, hasIgnore, ignoreIndex);
      for (let c: i32 = 0; c < classes; c++) {
        const pc = pTile + (<usize>c << 4);
        const p = v128.and(f32x4.mul(v128.load(pc), inv), keep);
        v128.store(pc, p);
        const y = v128.and(tile_y(l, labelKind, yTile, c), keep); // keep is all ones with float labels
        const a = acc + (<usize>(c * STATS) << 4);
        v128.store(a, f32x4.add(v128.load(a), f32x4.mul(p, y)));
        v128.store(a, f32x4.add(v128.load(a, 16), p), 16);
        v128.store(a, f32x4.add(v128.load(a, 32), y), 32);
        v128.store(a, f32x4.add(v128.load(a, 48), f32x4.mul(p, p)), 48);
        v128.store(a, f32x4.add(v128.load(a, 64), f32x4.mul(y, y)), 64);
      }
      if (probs) scatter_tile_f32x4(pTile, probs + <usize>i * rowBytes, rowBytes);
      if (withPixel) {
        const v = v128.and(softmax_pixel_value_tile_f32x4(kind, l, labelKind, yTile, zTile, pTile, 0, log_f32x4(total), classes, params, false), keep);
        if (pixelOut) v128.store(pixelOut + (<usize>i << 2), v);
        loss = f32x4.add(loss, v);
        den = f32x4.add(den, v128.and(pixel_den_tile_f32x4(kind, l, labelKind, yTile, classes, params), keep));
      }
    }
    for (let k: i32 = 0; k < classes * STATS; k++) {
      const s = sums + (<usize>k << 3);
      store<f64>(s, load<f64>(s) + hsum_f32x4(v128.load(acc + (<usize>k << 4))));
    }
    if (withPixel) {
      store<f64>(ps, load<f64>(ps) + hsum_f32x4(loss));
      store<f64>(ps, load<f64>(ps, 8) + hsum_f32x4(den), 8);
    }
    done = blockEnd;
  }
}

/**
 * A sigmoid compound's statistics pass over the elements [e0, e0 + 4·vectors): the region sums of
 * p = σ(z) (as `stats_elementwise_f32x4`) and the BCE / sigmoid focal value and denominator into
 * `ps`, from one e^−|z| per element. `acc`: 5 vectors per position of the class period; `aAt`: the
 * period's posWeight / alpha vectors.
 */
function stats_sigmoid_pixel_f32x4(
  kind: i32, labels: usize, labelKind: i32, input: usize, probs: usize, e0: i32, vectors: i32, classes: i32,
  hasIgnore: i32, ignoreIndex: i32, sums: usize, acc: usize, params: usize, pixelOut: usize, ps: usize, aAt: usize,
): void {
  const V = period(classes);
  period_params(params, classes, aAt);
  const gamma = param(params, 2 * classes);
  const s = param(params, 2 * classes + 1);
  const hasAlpha = param(params, 2 * classes + 2) != 0;
  const zero = f32x4.splat(0);
  let done: i32 = 0;
  while (done < vectors) {
    const blockEnd = min<i32>(vectors, done + FLUSH_EVERY * V);
    memory.fill(acc, 0, <usize>(V * STATS) << 4);
    let loss = zero;
    let count = zero;
    let j: i32 = 0;
    for (let k = done; k < blockEnd; k++) {
      const e = e0 + (k << 2);
      const z = v128.load(input + (<usize>e << 2));
      const y = element_y_f32x4(labels, labelKind, e, j << 2, classes);
      const keep = element_keep(labels, labelKind, e, classes, hasIgnore, ignoreIndex);
      const t = exp_neg_f32x4(f32x4.neg(f32x4.abs(z)));
      const p0 = sigmoid_of_t_f32x4(z, t);
      const v = v128.and(sigmoid_term_tp_f32x4(kind, z, t, p0, y, v128.load(aAt + (<usize>j << 4)), gamma, s, hasAlpha, 0, zero, keep), keep);
      if (pixelOut) v128.store(pixelOut + (<usize>e << 2), v);
      loss = f32x4.add(loss, v);
      count = f32x4.add(count, v128.and(f32x4.splat(1.0), keep));
      const p = v128.and(p0, keep);
      const ym = v128.and(y, keep);
      if (probs) v128.store(probs + (<usize>e << 2), p);
      const a = acc + (<usize>(j * STATS) << 4);
      if (++j == V) j = 0;
      v128.store(a, f32x4.add(v128.load(a), f32x4.mul(p, ym)));
      v128.store(a, f32x4.add(v128.load(a, 16), p), 16);
      v128.store(a, f32x4.add(v128.load(a, 32), ym), 32);
      v128.store(a, f32x4.add(v128.load(a, 48), f32x4.mul(p, p)), 48);
      v128.store(a, f32x4.add(v128.load(a, 64), f32x4.mul(ym, ym)), 64);
    }
    // Lane l of position j holds class (4j + l) mod C.
    for (let j: i32 = 0; j < V; j++) {
      for (let l: i32 = 0; l < 4; l++) {
        const c = (4 * j + l) % classes;
        for (let stat: i32 = 0; stat < STATS; stat++) {
          const at = sums + (<usize>(c * STATS + stat) << 3);
          store<f64>(at, load<f64>(at) + <f64>load<f32>(acc + (<usize>((j * STATS + stat) * 4 + l) << 2)));
        }
      }
    }
    add_f64(ps, 0, loss);
    add_f64(ps, 1, count);
    done = blockEnd;
  }
}

/**
 * A sigmoid compound's gradient pass over the elements [e0, e0 + 4·vectors): the region part from p
 * and the period's a, b, k vectors at `coefs` (as `grad_elementwise_f32x4`), plus f·∂ℓ/∂z of the
 * pixel term: BCE's from p alone (σ(z) (a y' + 1 − y') − a y'), sigmoid focal's from the logits.
 * `aAt`: V + 1 vectors of scratch (the period's posWeight / alpha, one for focal).
 */
function grad_sigmoid_pixel_f32x4(
  kind: i32, labels: usize, labelKind: i32, input: usize, probs: usize, grad: usize, e0: i32, vectors: i32, classes: i32,
  hasIgnore: i32, ignoreIndex: i32, coefs: usize, params: usize, scale: f32, pixelDy: usize, aAt: usize,
): void {
  const V = period(classes);
  period_params(params, classes, aAt);
  const tmp = aAt + (<usize>V << 4);
  const gamma = param(params, 2 * classes);
  const s = param(params, 2 * classes + 1);
  const hasAlpha = param(params, 2 * classes + 2) != 0;
  const one = f32x4.splat(1.0);
  let j: i32 = 0;
  for (let k: i32 = 0; k < vectors; k++) {
    const e = e0 + (k << 2);
    const at = <usize>e << 2;
    const p = v128.load(probs + at);
    const y = element_y_f32x4(labels, labelKind, e, j << 2, classes);
    const keep = element_keep(labels, labelKind, e, classes, hasIgnore, ignoreIndex);
    const a = v128.load(aAt + (<usize>j << 4));
    const c = coefs + (<usize>(j * COEFS) << 4);
    if (++j == V) j = 0;
    const g = f32x4.add(f32x4.add(v128.load(c), f32x4.mul(v128.load(c, 16), y)), f32x4.mul(v128.load(c, 32), p));
    let d = f32x4.mul(g, f32x4.mul(p, f32x4.sub(one, p)));
    const f = pixelDy ? v128.load(pixelDy + at) : f32x4.splat(scale);
    if (kind == PX_BCE) {
      const ys = f32x4.add(f32x4.mul(y, f32x4.splat(1.0 - s)), f32x4.splat(s * 0.5));
      const ay = f32x4.mul(a, ys);
      d = f32x4.add(d, f32x4.mul(f, f32x4.sub(f32x4.mul(p, f32x4.add(ay, f32x4.sub(one, ys))), ay)));
    } else {
      sigmoid_term_grad_f32x4(kind, v128.load(input + at), y, a, gamma, s, hasAlpha, tmp, f, keep);
      d = f32x4.add(d, v128.load(tmp));
    }
    v128.store(grad + at, v128.and(d, keep));
  }
}

/**
 * `sigmoid_term_f32x4`'s gradient alone, as a call of its own: inlined into the compound's gradient
 * loop it took [8,128,128,4] Dice + sigmoid focal's gradient pass to 3.9 ms (register pressure).
 */
function sigmoid_term_grad_f32x4(
  kind: i32, z: v128, y: v128, a: v128, gamma: f32, s: f32, hasAlpha: bool, gradAt: usize, scale: v128, keep: v128,
): void {
  sigmoid_term_f32x4(kind, z, y, a, gamma, s, hasAlpha, gradAt, scale, keep);
}

/** The gradient of a sigmoid / no-activation group over elements [e0, e0 + 4·vectors); `k` holds a, b, k vectors per period position. */
function grad_elementwise_f32x4(
  labels: usize, labelKind: i32, probs: usize, grad: usize, activation: i32, e0: i32, vectors: i32,
  classes: i32, hasIgnore: i32, ignoreIndex: i32, coefs: usize,
): void {
  const V = period(classes);
  const one = i32x4.splat(1);
  let j: i32 = 0;
  for (let k: i32 = 0; k < vectors; k++) {
    const e = e0 + (k << 2);
    const p = v128.load(probs + (<usize>e << 2));
    let y: v128;
    let keep = i32x4.splat(-1);
    if (labelKind == LABELS_INDEX) {
      const l = pixel_labels_i32x4(labels, e, classes);
      y = index_y_f32x4(l, e, j << 2, classes); // (e − e0) mod C = 4j when C % 4 = 0
      if (hasIgnore) keep = v128.not(i32x4.eq(l, i32x4.splat(ignoreIndex)));
    } else {
      y = v128.load(labels + (<usize>e << 2));
    }
    const c = coefs + (<usize>(j * COEFS) << 4);
    if (++j == V) j = 0;
    const g = f32x4.add(f32x4.add(v128.load(c), f32x4.mul(v128.load(c, 16), y)), f32x4.mul(v128.load(c, 32), p));
    const d = activation == ACT_SIGMOID ? f32x4.mul(g, f32x4.mul(p, f32x4.sub(f32x4.splat(1.0), p))) : g;
    v128.store(grad + (<usize>e << 2), v128.and(d, keep));
  }
}

/**
 * The gradient of a softmax group over pixels [i0, i0 + 4·quads), C > 2; `k32` the f32 coefficients,
 * `tile` 4·C vectors. With a softmax pixel term (the compounds), f·∂ℓ/∂z is added from p alone (CE:
 * no exp; focal: log p per element), f = `scale` or the pixel's upstream gradient at `pixelDy`.
 */
function grad_softmax_tile_f32x4(
  labels: usize, labelKind: i32, probs: usize, grad: usize, i0: i32, quads: i32, classes: i32,
  hasIgnore: i32, ignoreIndex: i32, k32: usize, tile: usize,
  kind: i32, params: usize, scale: f32, pixelDy: usize,
): void {
  const rowBytes = <usize>classes << 2;
  const tileBytes = <usize>classes << 4;
  const pTile = tile;
  const yTile = tile + tileBytes;
  const gTile = yTile + tileBytes;
  const hTile = gTile + tileBytes;
  for (let q: i32 = 0; q < quads; q++) {
    const i = i0 + (q << 2);
    gather_tile_f32x4(probs + <usize>i * rowBytes, rowBytes, pTile);
    const l = tile_labels(labels, labelKind, i, rowBytes, yTile, classes);
    const keep = tile_keep(l, labelKind, hasIgnore, ignoreIndex);
    let pg = f32x4.splat(0);
    for (let c: i32 = 0; c < classes; c++) {
      const p = v128.load(pTile + (<usize>c << 4));
      const y = tile_y(l, labelKind, yTile, c);
      const k = k32 + (<usize>(c * COEFS) << 2);
      const g = f32x4.add(f32x4.add(f32x4.splat(load<f32>(k)), f32x4.mul(f32x4.splat(load<f32>(k, 4)), y)),
        f32x4.mul(f32x4.splat(load<f32>(k, 8)), p));
      v128.store(gTile + (<usize>c << 4), g);
      pg = f32x4.add(pg, f32x4.mul(p, g));
    }
    for (let c: i32 = 0; c < classes; c++) {
      const gc = gTile + (<usize>c << 4);
      v128.store(gc, v128.and(f32x4.mul(v128.load(pTile + (<usize>c << 4)), f32x4.sub(v128.load(gc), pg)), keep));
    }
    if (kind != PX_NONE) {
      const f = v128.and(pixelDy ? v128.load(pixelDy + (<usize>i << 2)) : f32x4.splat(scale), keep);
      add_pixel_grad_from_p_tile_f32x4(kind, l, labelKind, yTile, pTile, hTile, f, classes, params, gTile);
    }
    scatter_tile_f32x4(gTile, grad + <usize>i * rowBytes, rowBytes);
  }
}

/**
 * Adds f·∂ℓ/∂z of a softmax pixel term to the tile at `gTile`, from p alone (`pTile`): CE needs no
 * transcendental, focal a log per pixel (class indices) or per element. A call of its own, so that
 * the region-only loop of `grad_softmax_tile_f32x4` stays as lean as before the compounds fused
 * (inlined, it cost that loop 0.36 → 0.61 ms at [8,128,128,4]).
 */
function add_pixel_grad_from_p_tile_f32x4(
  kind: i32, l: v128, labelKind: i32, yTile: usize, pTile: usize, hTile: usize, f: v128, classes: i32, params: usize,
  gTile: usize,
): void {
  const gamma = param(params, 2 * classes);
  if (kind == PX_FOCAL_SOFTMAX) {
    if (labelKind == LABELS_INDEX) {
      focal_index_tile_f32x4(l, pTile, 0, f32x4.splat(0), false, hTile, classes, params, gamma);
    } else {
      for (let c: i32 = 0; c < classes; c++) {
        const p = v128.load(pTile + (<usize>c << 4));
        const y = tile_y(l, labelKind, yTile, c);
        const h = focal_h_f32x4(p, log_f32x4(p), f32x4.mul(f32x4.splat(param(params, classes + c)), y), f32x4.ne(y, f32x4.splat(0)), gamma);
        v128.store(hTile + (<usize>c << 4), h);
      }
    }
  }
  softmax_pixel_grad_tile_f32x4(kind, l, labelKind, yTile, pTile, hTile, f, classes, params, gTile, true);
}

// ---------------------------------------------------------------------------------------------
// SIMD pixel terms (from logits): BCE and sigmoid focal on four-element vectors, cross-entropy and
// softmax focal on four-pixel channel tiles (C > 2) or as σ of the difference (C = 2).

/**
 * x^γ on four lanes, x ≥ 0 (0 where x = 0 and γ > 0). The general case is a call of its own: inlined,
 * binaryen turns the branches into selects and every γ pays for an exp and a log (measured: Dice +
 * focal's gradient pass at γ = 2 took 2.4 ms instead of 1.1).
 */
// @ts-ignore: decorator
@inline function pow_f32x4(x: v128, gamma: f32): v128 {
  if (gamma == 0) return f32x4.splat(1.0);
  if (gamma == 1) return x;
  if (gamma == 2) return f32x4.mul(x, x);
  return pow_general_f32x4(x, gamma);
}

function pow_general_f32x4(x: v128, gamma: f32): v128 {
  const positive = f32x4.gt(x, f32x4.splat(0));
  return v128.and(exp_f32x4(f32x4.mul(f32x4.splat(gamma), log_f32x4(x))), positive);
}

/** y of four consecutive elements starting at element e, whose first class is c0 (when C % 4 = 0). */
// @ts-ignore: decorator
@inline function element_y_f32x4(labels: usize, labelKind: i32, e: i32, c0: i32, classes: i32): v128 {
  if (labelKind != LABELS_INDEX) return v128.load(labels + (<usize>e << 2));
  return index_y_f32x4(pixel_labels_i32x4(labels, e, classes), e, c0, classes);
}

// @ts-ignore: decorator
@inline function element_keep(labels: usize, labelKind: i32, e: i32, classes: i32, hasIgnore: i32, ignoreIndex: i32): v128 {
  if (hasIgnore == 0 || labelKind != LABELS_INDEX) return i32x4.splat(-1);
  return v128.not(i32x4.eq(pixel_labels_i32x4(labels, e, classes), i32x4.splat(ignoreIndex)));
}

/** The per-channel parameters a (posWeight / alpha) as vectors per position of the class period, at `at`. */
function period_params(params: usize, classes: i32, at: usize): void {
  const V = period(classes);
  for (let j: i32 = 0; j < V; j++) {
    for (let l: i32 = 0; l < 4; l++) {
      store<f32>(at + (<usize>(j * 4 + l) << 2), param(params, classes + (4 * j + l) % classes));
    }
  }
}

/**
 * BCE or sigmoid focal value of four elements; when `gradAt` is not 0, `scale`·∂ℓ/∂z (masked by
 * `keep`) is stored there. e^−|z|, softplus and σ are shared by both (what a caller does not use,
 * the optimiser drops).
 */
// @ts-ignore: decorator
@inline function sigmoid_term_f32x4(
  kind: i32, z: v128, y: v128, a: v128, gamma: f32, s: f32, hasAlpha: bool, gradAt: usize, scale: v128, keep: v128,
): v128 {
  const t = exp_neg_f32x4(f32x4.neg(f32x4.abs(z)));
  return sigmoid_term_tp_f32x4(kind, z, t, sigmoid_of_t_f32x4(z, t), y, a, gamma, s, hasAlpha, gradAt, scale, keep);
}

/** σ(z) from t = e^−|z|: 1/(1 + t) for z ≥ 0, t/(1 + t) below (as `sigmoid_f32x4`). */
// @ts-ignore: decorator
@inline function sigmoid_of_t_f32x4(z: v128, t: v128): v128 {
  const r = f32x4.div(f32x4.splat(1.0), f32x4.add(f32x4.splat(1.0), t));
  return v128.bitselect(r, f32x4.mul(t, r), f32x4.ge(z, f32x4.splat(0)));
}

/** `sigmoid_term_f32x4` with t = e^−|z| and p = σ(z) already formed (the sigmoid compounds share them). */
// @ts-ignore: decorator
@inline function sigmoid_term_tp_f32x4(
  kind: i32, z: v128, t: v128, p: v128, y: v128, a: v128, gamma: f32, s: f32, hasAlpha: bool, gradAt: usize, scale: v128, keep: v128,
): v128 {
  const one = f32x4.splat(1.0);
  const sp = f32x4.add(f32x4.pmax(z, f32x4.splat(0)), log1p_unit_f32x4(t));
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
    // ℓ = α_t (1 − p_t)^γ ce; ∂/∂z = α_t ((p − y) m^γ + ce γ m^(γ−1) dm), dm = −p (1 − p)(2y − 1)
    const ce = f32x4.sub(sp, f32x4.mul(y, z));
    const m = f32x4.sub(f32x4.add(p, y), f32x4.mul(f32x4.mul(f32x4.splat(2.0), p), y));
    const alphaT = hasAlpha ? f32x4.add(f32x4.mul(a, y), f32x4.mul(f32x4.sub(one, a), f32x4.sub(one, y))) : one;
    const mg = pow_f32x4(m, gamma);
    value = f32x4.mul(alphaT, f32x4.mul(mg, ce));
    const dm = f32x4.neg(f32x4.mul(f32x4.mul(p, f32x4.sub(one, p)), f32x4.sub(f32x4.mul(f32x4.splat(2.0), y), one)));
    let second = f32x4.splat(0);
    if (gamma != 0) second = f32x4.mul(f32x4.mul(ce, f32x4.mul(f32x4.splat(gamma), pow_f32x4(m, gamma - 1.0))), dm);
    d = f32x4.mul(alphaT, f32x4.add(f32x4.mul(f32x4.sub(p, y), mg), second));
  }
  if (gradAt) v128.store(gradAt, v128.and(f32x4.mul(scale, d), keep));
  return value;
}

/** `log_clamped` on four lanes: log p, at least −100, and −100 where p ≤ 0 (or NaN). */
// @ts-ignore: decorator
@inline function log_clamped_f32x4(p: v128): v128 {
  return v128.bitselect(f32x4.pmax(log_f32x4(p), f32x4.splat(-100.0)), f32x4.splat(-100.0), f32x4.gt(p, f32x4.splat(0)));
}

/**
 * BCE or sigmoid focal of four elements given as probabilities p (PX_ACT_NONE), as the scalar
 * `pixel_loss` / `pixel_grad`: the logs clamped at −100, ∂/∂p over max(p (1 − p), 1e-12). Returns
 * the value; with `gradAt`, stores `scale`·∂ℓ/∂p masked by `keep`.
 */
// @ts-ignore: decorator
@inline function probability_term_f32x4(
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
function pixel_stats_elementwise_f32x4(
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
    store<f64>(ps, load<f64>(ps) + hsum_f32x4(loss));
    store<f64>(ps, load<f64>(ps, 8) + hsum_f32x4(count), 8);
    done = blockEnd;
  }
}

/** Pass 2 of BCE / sigmoid focal: adds (or, with `accumulate` 0, writes) f·∂ℓ/∂z into grad. */
function pixel_grad_elementwise_f32x4(
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
@inline function focal_h_f32x4(p: v128, logp: v128, ay: v128, present: v128, gamma: f32): v128 {
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
@inline function focal_index_tile_f32x4(
  l: v128, pTile: usize, zmTile: usize, logTotal: v128, fromLogits: bool, hTile: usize, classes: i32, params: usize, gamma: f32,
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
  if (hTile) {
    const h = focal_h_f32x4(pk, logp, ak, present, gamma);
    for (let c: i32 = 0; c < classes; c++) {
      v128.store(hTile + (<usize>c << 4), f32x4.mul(mask_to_f32x4(i32x4.eq(l, i32x4.splat(c))), h));
    }
  }
  return v128.and(f32x4.neg(f32x4.mul(f32x4.mul(ak, pow_f32x4(f32x4.sub(f32x4.splat(1.0), pk), gamma)), logp)), present);
}

/** q_c = w_c ((1 − s) y_c + s/C), CE's target weight of class c. */
// @ts-ignore: decorator
@inline function ce_q_f32x4(y: v128, params: usize, c: i32, s: f32, classes: i32): v128 {
  return f32x4.mul(f32x4.splat(param(params, c)), f32x4.add(f32x4.mul(y, f32x4.splat(1.0 - s)), f32x4.splat(s / <f32>classes)));
}

/**
 * The value of cross-entropy / softmax focal for the four pixels of a channel tile (not yet masked
 * by keep), from log p_c = (z_c − m) − log Σe: `zmTile` holds z − m, `pTile` p (read by focal only).
 * With `wantH`, focal's h_c go to `hTile` for the gradient.
 */
// @ts-ignore: decorator
@inline function softmax_pixel_value_tile_f32x4(
  kind: i32, l: v128, labelKind: i32, yTile: usize, zmTile: usize, pTile: usize, hTile: usize, logTotal: v128,
  classes: i32, params: usize, wantH: bool,
): v128 {
  const gamma = param(params, 2 * classes);
  const s = param(params, 2 * classes + 1);
  if (kind == PX_FOCAL_SOFTMAX && labelKind == LABELS_INDEX) {
    return focal_index_tile_f32x4(l, pTile, zmTile, logTotal, true, wantH ? hTile : 0, classes, params, gamma);
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
@inline function softmax_pixel_grad_tile_f32x4(
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
@inline function weighted_labels_tile_f32x4(l: v128, labelKind: i32, yTile: usize, classes: i32, params: usize): v128 {
  let d = f32x4.splat(0);
  for (let c: i32 = 0; c < classes; c++) d = f32x4.add(d, f32x4.mul(f32x4.splat(param(params, c)), tile_y(l, labelKind, yTile, c)));
  return d;
}

/** The mean's denominator of a pixel term for four pixels (before the keep mask). */
// @ts-ignore: decorator
@inline function pixel_den_tile_f32x4(kind: i32, l: v128, labelKind: i32, yTile: usize, classes: i32, params: usize): v128 {
  return kind == PX_CE && param(params, 2 * classes + 3) != 0 ? weighted_labels_tile_f32x4(l, labelKind, yTile, classes, params) : f32x4.splat(1.0);
}

/**
 * Pass 1 of cross-entropy / softmax focal over the pixels [i0, i0 + 4·quads), C > 2: value and
 * denominator into `ps`; `tile` holds 4·C vectors. One exp per element: log p_c = (z_c − m) − log Σe
 * and p_c = e_c / Σe share it.
 */
function pixel_stats_tile_f32x4(
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
    store<f64>(ps, load<f64>(ps) + hsum_f32x4(loss));
    store<f64>(ps, load<f64>(ps, 8) + hsum_f32x4(den), 8);
    done = blockEnd;
  }
}

/** Pass 2 of cross-entropy / softmax focal, C > 2: adds (or writes) f·∂ℓ/∂z; `tile` holds 4·C vectors. */
function pixel_grad_tile_f32x4(
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
@inline function softmax_probability_tile_f32x4(
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
function pixel_stats_prob_tile_f32x4(
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
    store<f64>(ps, load<f64>(ps) + hsum_f32x4(loss));
    store<f64>(ps, load<f64>(ps, 8) + hsum_f32x4(den), 8);
    done = blockEnd;
  }
}

/** Pass 2 of cross-entropy / softmax focal with probabilities given: adds (or writes) f·∂ℓ/∂p; `tile` holds 4·C vectors. */
function pixel_grad_prob_tile_f32x4(
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
 * Sums of a two-class softmax group over the pixels [i0, i0 + 4·quads): p_1 = σ(z_1 − z_0),
 * p_0 = 1 − p_1, both from e^−|z_1 − z_0| (no cancellation), four pixels per step. With a softmax
 * pixel term (`kind` CE or focal, the compounds), its value and denominator go to `ps`.
 */
function stats_softmax_c2_f32x4(
  labels: usize, labelKind: i32, input: usize, probs: usize, i0: i32, quads: i32, hasIgnore: i32, ignoreIndex: i32,
  sums: usize, kind: i32, params: usize, pixelOut: usize, ps: usize,
): void {
  const zero = f32x4.splat(0);
  const one = f32x4.splat(1.0);
  const gamma = param(params, 4);
  const smoothing = param(params, 5);
  const weighted = kind == PX_CE && param(params, 7) != 0;
  const w0 = f32x4.splat(param(params, 0));
  const w1 = f32x4.splat(param(params, 1));
  let done: i32 = 0;
  while (done < quads) {
    const blockEnd = min<i32>(quads, done + (FLUSH_EVERY >> 2));
    let i0v = zero, s0 = zero, y0s = zero, q0 = zero, w0s = zero;
    let i1v = zero, s1 = zero, y1s = zero, q1 = zero, w1s = zero;
    let loss = zero, den = zero;
    for (let q = done; q < blockEnd; q++) {
      const i = i0 + (q << 2);
      const zp = input + (<usize>i << 3);
      const za = v128.load(zp);
      const zb = v128.load(zp, 16);
      const d = f32x4.sub(odd_f32x4(za, zb), even_f32x4(za, zb));
      const t = exp_neg_f32x4(f32x4.neg(f32x4.abs(d)));
      const r = f32x4.div(one, f32x4.add(one, t));
      const pMin = f32x4.mul(t, r);
      const oneIsMax = f32x4.gt(d, zero);
      let p0 = v128.bitselect(pMin, r, oneIsMax);
      let p1 = v128.bitselect(r, pMin, oneIsMax);
      let y0 = labels_c2_f32x4(labels, labelKind, i, 0);
      let y1 = labels_c2_f32x4(labels, labelKind, i, 1);
      let keep = i32x4.splat(-1);
      if (hasIgnore && labelKind == LABELS_INDEX) keep = v128.not(i32x4.eq(v128.load(labels + (<usize>i << 2)), i32x4.splat(ignoreIndex)));
      if (kind != PX_NONE) {
        const v = v128.and(softmax_c2_term_f32x4(kind, d, y0, y1, params, gamma, smoothing, 0, zero), keep);
        if (pixelOut) v128.store(pixelOut + (<usize>i << 2), v);
        loss = f32x4.add(loss, v);
        den = f32x4.add(den, v128.and(weighted ? f32x4.add(f32x4.mul(w0, y0), f32x4.mul(w1, y1)) : one, keep));
      }
      if (hasIgnore && labelKind == LABELS_INDEX) {
        p0 = v128.and(p0, keep);
        p1 = v128.and(p1, keep);
        y0 = v128.and(y0, keep);
        y1 = v128.and(y1, keep);
      }
      if (probs) store_interleaved_f32x4(probs + (<usize>i << 3), p0, p1);
      i0v = f32x4.add(i0v, f32x4.mul(p0, y0));
      i1v = f32x4.add(i1v, f32x4.mul(p1, y1));
      s0 = f32x4.add(s0, p0);
      s1 = f32x4.add(s1, p1);
      y0s = f32x4.add(y0s, y0);
      y1s = f32x4.add(y1s, y1);
      q0 = f32x4.add(q0, f32x4.mul(p0, p0));
      q1 = f32x4.add(q1, f32x4.mul(p1, p1));
      w0s = f32x4.add(w0s, f32x4.mul(y0, y0));
      w1s = f32x4.add(w1s, f32x4.mul(y1, y1));
    }
    add_f64(sums, 0, i0v);
    add_f64(sums, 1, s0);
    add_f64(sums, 2, y0s);
    add_f64(sums, 3, q0);
    add_f64(sums, 4, w0s);
    add_f64(sums, STATS, i1v);
    add_f64(sums, STATS + 1, s1);
    add_f64(sums, STATS + 2, y1s);
    add_f64(sums, STATS + 3, q1);
    add_f64(sums, STATS + 4, w1s);
    if (kind != PX_NONE) {
      add_f64(ps, 0, loss);
      add_f64(ps, 1, den);
    }
    done = blockEnd;
  }
}

/** sums[k] += the horizontal sum of `v`. */
// @ts-ignore: decorator
@inline function add_f64(sums: usize, k: i32, v: v128): void {
  const at = sums + (<usize>k << 3);
  store<f64>(at, load<f64>(at) + hsum_f32x4(v));
}

/**
 * The gradient of a two-class softmax group: ∂L/∂z_1 = p_0 p_1 (g_1 − g_0) = −∂L/∂z_0, four pixels per
 * step. With a softmax pixel term (the compounds), f·∂ℓ/∂z_1 is added: CE's from p (p_1 Σq − q_1),
 * focal's from the logits at `input`; f = `scale` or the pixel's upstream gradient at `pixelDy`.
 * `scratch`: one vector.
 */
function grad_softmax_c2_f32x4(
  labels: usize, labelKind: i32, probs: usize, grad: usize, i0: i32, quads: i32, hasIgnore: i32, ignoreIndex: i32,
  k32: usize, kind: i32, input: usize, params: usize, scale: f32, pixelDy: usize, scratch: usize,
): void {
  const a0 = f32x4.splat(load<f32>(k32)), b0 = f32x4.splat(load<f32>(k32, 4)), c0 = f32x4.splat(load<f32>(k32, 8));
  const a1 = f32x4.splat(load<f32>(k32, 12)), b1 = f32x4.splat(load<f32>(k32, 16)), c1 = f32x4.splat(load<f32>(k32, 20));
  const gamma = param(params, 4);
  const s = param(params, 5);
  for (let q: i32 = 0; q < quads; q++) {
    const i = i0 + (q << 2);
    const pp = probs + (<usize>i << 3);
    const pa = v128.load(pp);
    const pb = v128.load(pp, 16);
    const p0 = even_f32x4(pa, pb);
    const p1 = odd_f32x4(pa, pb);
    const y0 = labels_c2_f32x4(labels, labelKind, i, 0);
    const y1 = labels_c2_f32x4(labels, labelKind, i, 1);
    const g0 = f32x4.add(f32x4.add(a0, f32x4.mul(b0, y0)), f32x4.mul(c0, p0));
    const g1 = f32x4.add(f32x4.add(a1, f32x4.mul(b1, y1)), f32x4.mul(c1, p1));
    let dz1 = f32x4.mul(f32x4.mul(p0, p1), f32x4.sub(g1, g0));
    if (kind != PX_NONE) {
      const f = pixelDy ? v128.load(pixelDy + (<usize>i << 2)) : f32x4.splat(scale);
      if (kind == PX_CE) {
        const q0 = f32x4.mul(f32x4.splat(param(params, 0)), f32x4.add(f32x4.mul(y0, f32x4.splat(1.0 - s)), f32x4.splat(s * 0.5)));
        const q1 = f32x4.mul(f32x4.splat(param(params, 1)), f32x4.add(f32x4.mul(y1, f32x4.splat(1.0 - s)), f32x4.splat(s * 0.5)));
        dz1 = f32x4.add(dz1, f32x4.mul(f, f32x4.sub(f32x4.mul(p1, f32x4.add(q0, q1)), q1)));
      } else if (labelKind == LABELS_INDEX) {
        // Focal with class indices: h_c = y_c H with H = h(p_k) of the labelled class k, so
        // ∂ℓ/∂z_1 = h_1 − p_1 (h_0 + h_1) = H (y_1 − p_1): one log per pixel, from p.
        const pk = f32x4.add(f32x4.mul(y0, p0), f32x4.mul(y1, p1));
        const ak = f32x4.add(f32x4.mul(y0, f32x4.splat(param(params, 2))), f32x4.mul(y1, f32x4.splat(param(params, 3))));
        const h = focal_h_f32x4(pk, log_f32x4(pk), ak, f32x4.ne(f32x4.add(y0, y1), f32x4.splat(0)), gamma);
        dz1 = f32x4.add(dz1, f32x4.mul(f, f32x4.mul(h, f32x4.sub(y1, p1))));
      } else {
        const zp = input + (<usize>i << 3);
        const za = v128.load(zp);
        const zb = v128.load(zp, 16);
        softmax_c2_term_f32x4(kind, f32x4.sub(odd_f32x4(za, zb), even_f32x4(za, zb)), y0, y1, params, gamma, s, scratch, f);
        dz1 = f32x4.add(dz1, v128.load(scratch));
      }
    }
    if (hasIgnore && labelKind == LABELS_INDEX) {
      dz1 = v128.and(dz1, v128.not(i32x4.eq(v128.load(labels + (<usize>i << 2)), i32x4.splat(ignoreIndex))));
    }
    store_interleaved_f32x4(grad + (<usize>i << 3), f32x4.neg(dz1), dz1);
  }
}

/**
 * A two-class softmax pixel term of four pixels: with d = z_1 − z_0, p_1 = σ(d), p_0 = σ(−d),
 * log p_1 = −softplus(−d), log p_0 = −softplus(d) (one exp and one log for both classes). Returns the
 * value; stores ∂ℓ/∂z_1 (= −∂ℓ/∂z_0) times `scale` at `dz1At` when it is not 0.
 */
// @ts-ignore: decorator
@inline function softmax_c2_term_f32x4(
  kind: i32, d: v128, y0: v128, y1: v128, params: usize, gamma: f32, s: f32, dz1At: usize, scale: v128,
): v128 {
  const one = f32x4.splat(1.0);
  const zero = f32x4.splat(0);
  const t = exp_neg_f32x4(f32x4.neg(f32x4.abs(d)));
  const l = log1p_unit_f32x4(t);
  const logp1 = f32x4.neg(f32x4.add(f32x4.pmax(f32x4.neg(d), zero), l));
  const logp0 = f32x4.neg(f32x4.add(f32x4.pmax(d, zero), l));
  if (kind == PX_CE) {
    const share = f32x4.splat(s * 0.5);
    const q0 = f32x4.mul(f32x4.splat(param(params, 0)), f32x4.add(f32x4.mul(y0, f32x4.splat(1.0 - s)), share));
    const q1 = f32x4.mul(f32x4.splat(param(params, 1)), f32x4.add(f32x4.mul(y1, f32x4.splat(1.0 - s)), share));
    if (dz1At) {
      const r = f32x4.div(one, f32x4.add(one, t));
      const p1 = v128.bitselect(r, f32x4.mul(t, r), f32x4.gt(d, zero));
      v128.store(dz1At, f32x4.mul(scale, f32x4.sub(f32x4.mul(p1, f32x4.add(q0, q1)), q1)));
    }
    return f32x4.neg(f32x4.add(f32x4.mul(q0, logp0), f32x4.mul(q1, logp1)));
  }
  const r = f32x4.div(one, f32x4.add(one, t));
  const pMin = f32x4.mul(t, r);
  const oneIsMax = f32x4.gt(d, zero);
  const p1 = v128.bitselect(r, pMin, oneIsMax);
  const p0 = v128.bitselect(pMin, r, oneIsMax);
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

/** Pass 1 of a two-class softmax CE / focal over pixels [i0, i0 + 4·quads); with `gradOut`, the one-pass gradient. */
function pixel_stats_c2_f32x4(
  kind: i32, labels: usize, labelKind: i32, input: usize, i0: i32, quads: i32, hasIgnore: i32, ignoreIndex: i32,
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
      if (hasIgnore && labelKind == LABELS_INDEX) keep = v128.not(i32x4.eq(v128.load(labels + (<usize>i << 2)), i32x4.splat(ignoreIndex)));
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
    store<f64>(ps, load<f64>(ps) + hsum_f32x4(loss));
    store<f64>(ps, load<f64>(ps, 8) + hsum_f32x4(den), 8);
    done = blockEnd;
  }
}

/** Pass 2 of a two-class softmax CE / focal: adds (or writes) f·∂ℓ/∂z. */
function pixel_grad_c2_f32x4(
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
