/**
 * The region engine's SIMD region paths (formulas in region_losses.ts's header): the per-class sums
 * of pass 1 and the gradient of pass 2, for a softmax over two classes (σ of the difference), over
 * more (four-pixel channel tiles), and for a sigmoid or no activation (four-element vectors); with
 * a softmax / sigmoid pixel term of the same logits riding along (the compounds).
 */
import { log_f32x4 } from '../math/log';
import {
  even_f32x4, gather_tile_f32x4, hsum_f32x4, mask_to_f32x4, odd_f32x4, scatter_tile_f32x4, store_interleaved_f32x4,
} from '../math/lanes';
import {
  softmax2_p0_f32x4, softmax2_p1_f32x4, softmax2_pmax_f32x4, softmax2_t_f32x4, tile_exp_sum_f32x4,
} from '../math/softmax';
import { LABELS_INDEX, labels_c2_f32x4 } from './labels';
import {
  ACT_SIGMOID, COEFS, FLUSH_EVERY, PX_BCE, PX_CE, PX_FOCAL_SIGMOID, PX_FOCAL_SOFTMAX, PX_NONE, STATS, param,
} from './region_common';
import {
  accumulate_stats_f32x4, add_f64, element_keep, flush_period_stats, element_y_f32x4, index_y_f32x4, lane_f32, period, period_params, pixel_labels_i32x4, sigmoid_f32x4, tile_keep, tile_labels, tile_y,
} from './region_lanes';
import {
  focal_h_f32x4, focal_h_tile_f32x4, focal_index_tile_f32x4, sigmoid_focal_grad_f32x4, pixel_den_tile_f32x4, sigmoid_of_t_f32x4, sigmoid_term_grad_f32x4, sigmoid_term_tp_f32x4, softmax_c2_term_f32x4, softmax_pixel_grad_tile_f32x4, softmax_pixel_value_tile_f32x4,
} from './pixel_simd';

/**
 * Sums of a sigmoid / no-activation group over the elements [e0, e0 + 4·vectors), e0 at a pixel
 * boundary: accumulators at `acc` (5 vectors per position of the class period), flushed into the
 * group's f64 sums.
 */
export function stats_elementwise_f32x4(
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
      accumulate_stats_f32x4(a, p, y);
    }
    flush_period_stats(acc, sums, classes);
    done = blockEnd;
  }
}

/** `stats_elementwise_f32x4` for C ∈ {1, 2, 4} (one vector per period): the accumulators stay in registers. */
export function stats_elementwise_v1_f32x4(
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

/**
 * Sums of a softmax group over the pixels [i0, i0 + 4·quads), C > 2: four pixels at a time as
 * channel vectors. `acc`: 5·C vectors; `tile`: 3·C vectors. With a softmax pixel term (`kind` CE or
 * focal, the compounds), its value and denominator go to `ps` from the same exp per element.
 */
export function stats_softmax_tile_f32x4(
  labels: usize, labelKind: i32, input: usize, probs: usize, i0: i32, quads: i32, classes: i32,
  hasIgnore: i32, ignoreIndex: i32, sums: usize, acc: usize, tile: usize,
  kind: i32, params: usize, pixelOut: usize, ps: usize, saved: usize, squares: bool,
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
        accumulate_stats_f32x4(a, p, y, squares);
      }
      if (probs) scatter_tile_f32x4(pTile, probs + <usize>i * rowBytes, rowBytes);
      if (withPixel) {
        // With class indices, focal's h of the labelled class goes to `saved` for the gradient pass.
        const hAt = saved && kind == PX_FOCAL_SOFTMAX && labelKind == LABELS_INDEX ? saved + (<usize>i << 2) : 0;
        const v = v128.and(softmax_pixel_value_tile_f32x4(kind, l, labelKind, yTile, zTile, pTile, 0, log_f32x4(total), classes, params, false, hAt), keep);
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
      add_f64(ps, 0, loss);
      add_f64(ps, 1, den);
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
export function stats_sigmoid_pixel_f32x4(
  kind: i32, labels: usize, labelKind: i32, input: usize, probs: usize, e0: i32, vectors: i32, classes: i32,
  hasIgnore: i32, ignoreIndex: i32, sums: usize, acc: usize, params: usize, pixelOut: usize, ps: usize, aAt: usize,
  saved: usize,
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
      const t = softmax2_t_f32x4(z);
      const p0 = sigmoid_of_t_f32x4(z, t);
      // Sigmoid focal's ce goes to `saved` for the gradient pass.
      const ceAt = saved && kind == PX_FOCAL_SIGMOID ? saved + (<usize>e << 2) : 0;
      const v = v128.and(sigmoid_term_tp_f32x4(kind, z, t, p0, y, v128.load(aAt + (<usize>j << 4)), gamma, s, hasAlpha, 0, zero, keep, ceAt), keep);
      if (pixelOut) v128.store(pixelOut + (<usize>e << 2), v);
      loss = f32x4.add(loss, v);
      count = f32x4.add(count, v128.and(f32x4.splat(1.0), keep));
      const p = v128.and(p0, keep);
      const ym = v128.and(y, keep);
      if (probs) v128.store(probs + (<usize>e << 2), p);
      const a = acc + (<usize>(j * STATS) << 4);
      if (++j == V) j = 0;
      accumulate_stats_f32x4(a, p, ym);
    }
    flush_period_stats(acc, sums, classes);
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
export function grad_sigmoid_pixel_f32x4(
  kind: i32, labels: usize, labelKind: i32, input: usize, probs: usize, grad: usize, e0: i32, vectors: i32, classes: i32,
  hasIgnore: i32, ignoreIndex: i32, coefs: usize, params: usize, scale: f32, pixelDy: usize, aAt: usize, saved: usize,
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
    } else if (saved) {
      // Sigmoid focal from p and the ce the statistics pass saved (no exp, log or division here).
      const m = f32x4.sub(f32x4.add(p, y), f32x4.mul(f32x4.mul(f32x4.splat(2.0), p), y));
      const alphaT = hasAlpha ? f32x4.add(f32x4.mul(a, y), f32x4.mul(f32x4.sub(one, a), f32x4.sub(one, y))) : one;
      d = f32x4.add(d, f32x4.mul(f, sigmoid_focal_grad_f32x4(p, y, v128.load(saved + at), m, alphaT, gamma)));
    } else {
      sigmoid_term_grad_f32x4(kind, v128.load(input + at), y, a, gamma, s, hasAlpha, tmp, f, keep);
      d = f32x4.add(d, v128.load(tmp));
    }
    v128.store(grad + at, v128.and(d, keep));
  }
}

/** The gradient of a sigmoid / no-activation group over elements [e0, e0 + 4·vectors); `k` holds a, b, k vectors per period position. */
export function grad_elementwise_f32x4(
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
export function grad_softmax_tile_f32x4(
  labels: usize, labelKind: i32, probs: usize, grad: usize, i0: i32, quads: i32, classes: i32,
  hasIgnore: i32, ignoreIndex: i32, k32: usize, tile: usize,
  kind: i32, params: usize, scale: f32, pixelDy: usize, saved: usize,
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
      add_pixel_grad_from_p_tile_f32x4(kind, l, labelKind, yTile, pTile, hTile, f, classes, params, gTile,
        saved ? saved + (<usize>i << 2) : 0);
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
export function add_pixel_grad_from_p_tile_f32x4(
  kind: i32, l: v128, labelKind: i32, yTile: usize, pTile: usize, hTile: usize, f: v128, classes: i32, params: usize,
  gTile: usize, hAt: usize,
): void {
  const gamma = param(params, 2 * classes);
  if (kind == PX_FOCAL_SOFTMAX) {
    if (labelKind == LABELS_INDEX && hAt) {
      // The labelled class's h, saved by the statistics pass (no log here).
      focal_h_tile_f32x4(l, v128.load(hAt), hTile, classes);
    } else if (labelKind == LABELS_INDEX) {
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

/**
 * Sums of a two-class softmax group over the pixels [i0, i0 + 4·quads): p_1 = σ(z_1 − z_0),
 * p_0 = σ(z_0 − z_1), both from e^−|z_1 − z_0| (math/softmax.ts), four pixels per step. With a
 * softmax pixel term (`kind` CE or focal, the compounds), its value and denominator go to `ps`;
 * without `squares`, S2 and Y2 are left out. A plain region loss (no pixel term, nothing ignored)
 * runs a loop of its own, free of their branches and registers: Dice on it went from 0.81–0.86× to
 * 1.03–1.09× the seed's specialised Dice kernel, which it then replaced (bench/RESULTS.md, issue #25).
 */
export function stats_softmax_c2_f32x4(
  labels: usize, labelKind: i32, input: usize, probs: usize, i0: i32, quads: i32, hasIgnore: i32, ignoreIndex: i32,
  sums: usize, kind: i32, params: usize, pixelOut: usize, ps: usize, squares: bool,
): void {
  const ignoring = hasIgnore != 0 && labelKind == LABELS_INDEX;
  if (kind == PX_NONE && !ignoring) {
    if (squares) stats_softmax_c2_loop(labels, labelKind, input, probs, i0, quads, false, 0, sums, PX_NONE, params, pixelOut, ps, true);
    else stats_softmax_c2_loop(labels, labelKind, input, probs, i0, quads, false, 0, sums, PX_NONE, params, pixelOut, ps, false);
  } else {
    stats_softmax_c2_loop(labels, labelKind, input, probs, i0, quads, ignoring, ignoreIndex, sums, kind, params, pixelOut, ps, squares);
  }
}

/** `stats_softmax_c2_f32x4`'s loop; inlined with constant `ignoring`, `kind` and `squares` where it can be. */
// @ts-ignore: decorator
@inline function stats_softmax_c2_loop(
  labels: usize, labelKind: i32, input: usize, probs: usize, i0: i32, quads: i32, ignoring: bool, ignoreIndex: i32,
  sums: usize, kind: i32, params: usize, pixelOut: usize, ps: usize, squares: bool,
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
      const t = softmax2_t_f32x4(d);
      const pMax = softmax2_pmax_f32x4(t);
      let p0 = softmax2_p0_f32x4(d, t, pMax);
      let p1 = softmax2_p1_f32x4(d, t, pMax);
      let y0 = labels_c2_f32x4(labels, labelKind, i, 0);
      let y1 = labels_c2_f32x4(labels, labelKind, i, 1);
      let keep = i32x4.splat(-1);
      if (ignoring) keep = v128.not(i32x4.eq(v128.load(labels + (<usize>i << 2)), i32x4.splat(ignoreIndex)));
      if (kind != PX_NONE) {
        const v = v128.and(softmax_c2_term_f32x4(kind, d, y0, y1, params, gamma, smoothing, 0, zero), keep);
        if (pixelOut) v128.store(pixelOut + (<usize>i << 2), v);
        loss = f32x4.add(loss, v);
        den = f32x4.add(den, v128.and(weighted ? f32x4.add(f32x4.mul(w0, y0), f32x4.mul(w1, y1)) : one, keep));
      }
      if (ignoring) {
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
      if (squares) {
        q0 = f32x4.add(q0, f32x4.mul(p0, p0));
        q1 = f32x4.add(q1, f32x4.mul(p1, p1));
        w0s = f32x4.add(w0s, f32x4.mul(y0, y0));
        w1s = f32x4.add(w1s, f32x4.mul(y1, y1));
      }
    }
    add_f64(sums, 0, i0v);
    add_f64(sums, 1, s0);
    add_f64(sums, 2, y0s);
    add_f64(sums, STATS, i1v);
    add_f64(sums, STATS + 1, s1);
    add_f64(sums, STATS + 2, y1s);
    if (squares) {
      add_f64(sums, 3, q0);
      add_f64(sums, 4, w0s);
      add_f64(sums, STATS + 3, q1);
      add_f64(sums, STATS + 4, w1s);
    }
    if (kind != PX_NONE) {
      add_f64(ps, 0, loss);
      add_f64(ps, 1, den);
    }
    done = blockEnd;
  }
}

/**
 * The gradient of a two-class softmax group: ∂L/∂z_1 = p_0 p_1 (g_1 − g_0) = −∂L/∂z_0, four pixels per
 * step. With a softmax pixel term (the compounds), f·∂ℓ/∂z_1 is added: CE's from p (p_1 Σq − q_1),
 * focal's from the logits at `input`; f = `scale` or the pixel's upstream gradient at `pixelDy`.
 * `scratch`: one vector.
 */
export function grad_softmax_c2_f32x4(
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
