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
 * pixels at a time (math/softmax.ts); a softmax over more channels turns four pixels into channel
 * vectors (4×4 transposes for C % 4 = 0, as softmax_cce.ts; lane by lane otherwise); a sigmoid or
 * no activation works on four consecutive elements, whose classes repeat every C / gcd(C, 4)
 * vectors (with class indices, the lanes' pixels and classes come from one division per vector
 * unless C | 4 or 4 | C). The tail of each group runs the scalar loops, which are also the whole
 * scalar build.
 *
 * Error: sums accumulate in f32 for blocks of FLUSH_EVERY pixels, then in f64 (≈ 1e-6 relative).
 *
 * This is the one place of every region loss, the seed's Dice forms included: the seed's own Dice
 * kernel (softmax_dice.ts until issue #25) was folded in once this engine ran within 10 % of it —
 * forward + backward, raw kernels in one process: 1.03–1.09× at C = 2, 0.96–1.04× at C = 4,
 * 0.92–0.96× in 3D, 0.97–0.98× at C = 8 (square Dice 0.92–1.02×). What closed the gap at C = 2:
 * S2 and Y2 only when the loss reads them (REGION_SQUARES) and a loop of its own for a plain region
 * loss.
 */
import { exp_f32, exp_neg_f32 } from '../math/exp';
import { log1p_f32, log_f32 } from '../math/log';
import { softmax2_nll0_f32, softmax2_p1_f32, softmax2_pmax_f32, softmax2_t_f32 } from '../math/softmax';
import { LABELS_INDEX, label_value } from './labels';
import {
  REGION_SQUARES, ACT_SIGMOID, ACT_SOFTMAX, COEFS, FLUSH_EVERY, PX_ACT_LOGITS, PX_ACT_NONE, PX_BCE, PX_CE, PX_FOCAL_SIGMOID, PX_FOCAL_SOFTMAX, PX_NONE, STATS, param,
} from './region_common';
import { period, whole_periods } from './region_lanes';
import {
  pixel_grad_c2_f32x4, pixel_grad_elementwise_f32x4, pixel_grad_prob_tile_f32x4, pixel_grad_tile_f32x4, pixel_stats_c2_f32x4, pixel_stats_elementwise_f32x4, pixel_stats_prob_tile_f32x4, pixel_stats_tile_f32x4,
} from './pixel_simd';
import {
  grad_elementwise_f32x4, grad_sigmoid_pixel_f32x4, grad_softmax_c2_f32x4, grad_softmax_tile_f32x4, stats_elementwise_f32x4, stats_sigmoid_pixel_f32x4, stats_softmax_c2_f32x4, stats_softmax_tile_f32x4,
} from './region_simd';
export { ACT_NONE, ACT_SIGMOID, ACT_SOFTMAX } from './region_common';

/** y_c of pixel i; for a single channel, index labels are a binary mask (1 = the class). */
// @ts-ignore: decorator
@inline function region_label(labels: usize, labelKind: i32, i: i32, c: i32, classes: i32): f32 {
  if (classes == 1 && labelKind == LABELS_INDEX) return load<i32>(labels + (<usize>i << 2)) == 1 ? 1 : 0;
  return label_value(labels, labelKind, i, c, classes);
}

// @ts-ignore: decorator
@inline function ignored(labels: usize, labelKind: i32, i: i32, hasIgnore: i32, ignoreIndex: i32): bool {
  return hasIgnore != 0 && labelKind == LABELS_INDEX && load<i32>(labels + (<usize>i << 2)) == ignoreIndex;
}

/** The logistic sigmoid, stable for any x: only e^−|x| is ever formed. */
// @ts-ignore: decorator
@inline function sigmoid_f32(x: f32): f32 {
  const t = softmax2_t_f32(x);
  return softmax2_p1_f32(x, t, softmax2_pmax_f32(t));
}


/** softplus(x) = log(1 + e^x), stable for any x. */
// @ts-ignore: decorator
@inline function softplus_f32(x: f32): f32 {
  return softmax2_nll0_f32(x, log1p_f32(softmax2_t_f32(x)));
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
 * @param regionOn       0, or REGION_ON to accumulate the region sums (| REGION_SQUARES for S2 and Y2)
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
 * @param saved          float32 output, or 0: what a compound's focal term saves for pass 2 on its
 *                       SIMD path (softmax focal with class indices: h of the labelled class, [P];
 *                       sigmoid focal: ce = softplus(z) − y z, [P, C])
 */
export function region_stats(
  labels: usize, labelKind: i32, input: usize, probs: usize, activation: i32, groups: i32,
  pixelsPerGroup: i32, classes: i32, hasIgnore: i32, ignoreIndex: i32, regionOn: i32, sums: usize,
  pixelKind: i32, pxAct: i32, params: usize, pixelOut: usize, scratch: usize, simd: usize,
  gradOut: usize, gradScale: f32, saved: usize,
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
      const squares = (regionOn & REGION_SQUARES) != 0;
      if (activation == ACT_SOFTMAX && classes == 2) {
        const quads = pixelsPerGroup >> 2;
        stats_softmax_c2_f32x4(labels, labelKind, input, probs, start, quads, hasIgnore, ignoreIndex, out, kind, params, pixelOut, ps, squares);
        iRegion += quads << 2;
      } else if (activation == ACT_SOFTMAX && classes > 2) {
        const quads = pixelsPerGroup >> 2;
        stats_softmax_tile_f32x4(labels, labelKind, input, probs, start, quads, classes, hasIgnore, ignoreIndex, out, simd,
          simd + (<usize>(classes * STATS) << 4), kind, params, pixelOut, ps, saved, squares);
        iRegion += quads << 2;
      } else if (activation != ACT_SOFTMAX) {
        const vectors = whole_periods(pixelsPerGroup, classes);
        if (fused) {
          stats_sigmoid_pixel_f32x4(pixelKind, labels, labelKind, input, probs, start * classes, vectors, classes, hasIgnore, ignoreIndex,
            out, simd, params, pixelOut, ps, simd + (<usize>(period(classes) * STATS) << 4), saved);
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
 * @param saved      what pass 1 saved for a compound's focal term (see `region_stats`), or 0
 */
export function region_grad(
  labels: usize, labelKind: i32, input: usize, probs: usize, grad: usize, activation: i32, groups: i32,
  pixelsPerGroup: i32, classes: i32, hasIgnore: i32, ignoreIndex: i32, regionOn: i32, coefs: usize,
  pixelKind: i32, pxAct: i32, params: usize, pixelScale: f32, pixelDy: usize, scratch: usize, simd: usize,
  saved: usize,
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
          params, pixelScale, pixelDy, saved);
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
            ignoreIndex, simd, params, pixelScale, pixelDy, simd + (<usize>(V * COEFS) << 4), saved);
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
