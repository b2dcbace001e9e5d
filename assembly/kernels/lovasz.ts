/**
 * Lovász-softmax (Berman et al. 2018, as smp's LovaszLoss in multiclass mode), forward and backward
 * in one call.
 *
 * For each group G (the batch, or one image with perImage), over its counted pixels (ignoreIndex
 * drops a pixel entirely), and each class c (every class, or those present in G's labels):
 *   e_i = |y_ic − p_ic|,  sorted descending: e_(1) ≥ e_(2) ≥ …, with y sorted alike
 *   J_k = 1 − (Σy − Σ_{j≤k} y_(j)) / (Σy + Σ_{j≤k} (1 − y_(j))),   g_k = J_k − J_{k−1} (g_1 = J_1)
 *   loss_Gc = Σ_k e_(k) g_k
 * The loss is the mean over G of the mean over G's classes (a group with no class counts 0).
 * The loss is piecewise linear in e: ∂loss_Gc/∂e_(k) = g_k, ∂e_i/∂p_ic = sign(p_ic − y_ic); then
 * the softmax's Jacobian (or none, for probabilities given).
 *
 * The sort: an LSD radix sort on the bits of e, complemented (for e ≥ 0 the float bits order as
 * unsigned integers; complementing makes ascending order descending in e). It is stable: equal
 * errors keep the pixels' order (ascending index) — the tie order, which changes the gradient's
 * split among tied pixels but not the loss.
 *
 * Layout: p and ∂L/∂p are class-major planes over the group's pixels, so that building one class's
 * sort items and the gradient read them as vectors, and the walk's scattered writes stay within one
 * plane. An ignored pixel has no sort item; its ∂L/∂p stays 0 and its gradient is 0.
 *
 * SIMD (the simd build): p by four-pixel channel tiles (softmax: one exp per element), a class's
 * sort items four pixels at a time (class indices without ignored pixels), the gradient by tiles.
 * The sort and the walk are scalar in both builds.
 */
import { gather_tile_f32x4, mask_to_f32x4, scatter_tile_f32x4 } from '../math/lanes';
import { tile_exp_sum_f32x4 } from '../math/softmax';
import { LABELS_INDEX, label_value } from './labels';
import { ACT_NONE, ACT_SOFTMAX, activate_row } from './region_losses';

/** Digits of the keys: three of 10 bits (bits 0–29), then bits 30–31, constant for e < 2. */
// @ts-ignore: decorator
@inline const DIGIT_BITS: u64 = 10;
// @ts-ignore: decorator
@inline const BUCKETS: i32 = 1 << <i32>DIGIT_BITS;
// @ts-ignore: decorator
@inline const MASK: u64 = <u64>BUCKETS - 1;
// @ts-ignore: decorator
@inline const DIGITS: i32 = 4;
// @ts-ignore: decorator
@inline const Y_BIT: u32 = 0x80000000;
// @ts-ignore: decorator
@inline const ABOVE_BIT: u32 = 0x40000000;
// @ts-ignore: decorator
@inline const PIXEL_BITS: u32 = 0x3fffffff;
/** Bytes of the digits' counts (u32 each). */
// @ts-ignore: decorator
@inline const COUNT_BYTES: i32 = DIGITS * BUCKETS * 4;

/**
 * Sorts n u64 items by their high 32 bits (the key) ascending, stable: an LSD radix sort of 10-bit
 * digits. The keys are complemented errors e ∈ [0, 1], whose top two bits are always set, so three
 * passes sort them; a fourth digit (the top two bits) guards e ≥ 2 (probabilities given as input
 * may be anything). One pass over the items counts every digit; a digit that is the same for every
 * key skips its pass. Key and payload move as one u64 (one store per item, one write stream per
 * bucket). `tmp`: n u64; `counts`: COUNT_BYTES. Returns where the sorted items are (`items` or `tmp`).
 */
function radix_sort(items: usize, tmp: usize, n: i32, counts: usize): usize {
  memory.fill(counts, 0, <usize>COUNT_BYTES);
  const c1 = counts + (<usize>BUCKETS << 2);
  const c2 = c1 + (<usize>BUCKETS << 2);
  const c3 = c2 + (<usize>BUCKETS << 2);
  for (let i: i32 = 0; i < n; i++) {
    const k = load<u64>(items + (<usize>i << 3));
    const a0 = counts + (<usize>((k >> 32) & MASK) << 2);
    const a1 = c1 + (<usize>((k >> 42) & MASK) << 2);
    const a2 = c2 + (<usize>((k >> 52) & MASK) << 2);
    const a3 = c3 + (<usize>(k >> 62) << 2);
    store<u32>(a0, load<u32>(a0) + 1);
    store<u32>(a1, load<u32>(a1) + 1);
    store<u32>(a2, load<u32>(a2) + 1);
    store<u32>(a3, load<u32>(a3) + 1);
  }
  let src = items, dst = tmp;
  for (let pass: i32 = 0; pass < DIGITS; pass++) {
    const count = counts + (<usize>(pass * BUCKETS) << 2);
    const shift: u64 = 32 + <u64>pass * DIGIT_BITS;
    // Every key has this digit: the order stands.
    if (n == 0 || load<u32>(count + (<usize>((load<u64>(src) >> shift) & MASK) << 2)) == <u32>n) continue;
    let total: u32 = 0;
    for (let d: i32 = 0; d < BUCKETS; d++) {
      const at = count + (<usize>d << 2);
      const c = load<u32>(at);
      store<u32>(at, total);
      total += c;
    }
    for (let i: i32 = 0; i < n; i++) {
      const k = load<u64>(src + (<usize>i << 3));
      const at = count + (<usize>((k >> shift) & MASK) << 2);
      const pos = load<u32>(at);
      store<u32>(at, pos + 1);
      store<u64>(dst + (<usize>pos << 3), k);
    }
    const t = src; src = dst; dst = t;
  }
  return src;
}

/**
 * A sort item: key ~bits(e) in the high half; in the low half the pixel, with y (0 or 1, class
 * indices) in bit 31 and whether p > y (the sign of ∂e/∂p) in bit 30, so that the walk reads
 * neither the labels nor p at random.
 */
// @ts-ignore: decorator
@inline function sort_item(e: f32, pixel: i32, yBit: bool, above: bool): u64 {
  return (<u64>(~reinterpret<u32>(e)) << 32) | <u64>(<u32>pixel | (yBit ? Y_BIT : 0) | (above ? ABOVE_BIT : 0));
}

/**
 * p of the group's pixels [start, start + P) into class planes (`pBuf` + c·P·4): softmax or a copy,
 * four pixels at a time in the simd build (`tile`: C vectors), then pixel by pixel (`tile` as a row).
 */
function probability_planes(input: usize, start: i32, P: i32, classes: i32, softmax: bool, pBuf: usize, tile: usize): void {
  const rowBytes = <usize>classes << 2;
  const plane = <usize>P << 2;
  let i: i32 = 0;
  if (ASC_FEATURE_SIMD) {
    const tileBytes = <usize>classes << 4;
    for (; i + 4 <= P; i += 4) {
      gather_tile_f32x4(input + <usize>(start + i) * rowBytes, rowBytes, tile);
      if (softmax) {
        const inv = f32x4.div(f32x4.splat(1.0), tile_exp_sum_f32x4(tile, tile, tileBytes, false));
        for (let c: i32 = 0; c < classes; c++) {
          v128.store(pBuf + <usize>c * plane + (<usize>i << 2), f32x4.mul(v128.load(tile + (<usize>c << 4)), inv));
        }
      } else {
        for (let c: i32 = 0; c < classes; c++) v128.store(pBuf + <usize>c * plane + (<usize>i << 2), v128.load(tile + (<usize>c << 4)));
      }
    }
  }
  for (; i < P; i++) {
    activate_row(input + <usize>(start + i) * rowBytes, tile, softmax ? ACT_SOFTMAX : ACT_NONE, classes);
    for (let c: i32 = 0; c < classes; c++) store<f32>(pBuf + <usize>c * plane + (<usize>i << 2), load<f32>(tile + (<usize>c << 2)));
  }
}

/**
 * Class c's sort items of the group's counted pixels into `items`, in pixel order; their number
 * (i32) goes to `out` and Σy (f64) to `out + 8`.
 */
function sort_items(
  labels: usize, labelKind: i32, start: i32, P: i32, c: i32, classes: i32, hasIgnore: i32, ignoreIndex: i32,
  pPlane: usize, items: usize, out: usize,
): void {
  const hard = labelKind == LABELS_INDEX;
  let n: i32 = 0;
  let gts: f64 = 0;
  let i: i32 = 0;
  if (ASC_FEATURE_SIMD && hard && hasIgnore == 0) {
    // Four pixels per step: e = |y − p|, y from the class index; items interleave (payload, key).
    const cV = i32x4.splat(c);
    const yBit = i32x4.splat(Y_BIT);
    const aboveBit = i32x4.splat(ABOVE_BIT);
    let pixel = i32x4(0, 1, 2, 3);
    let ones = i32x4.splat(0);
    for (; i + 4 <= P; i += 4) {
      const isC = i32x4.eq(v128.load(labels + (<usize>(start + i) << 2)), cV);
      const y = mask_to_f32x4(isC);
      const p = v128.load(pPlane + (<usize>i << 2));
      const key = v128.not(f32x4.abs(f32x4.sub(y, p)));
      const payload = v128.or(v128.or(pixel, v128.and(isC, yBit)), v128.and(f32x4.gt(p, y), aboveBit));
      v128.store(items + (<usize>i << 3), v128.shuffle<i32>(payload, key, 0, 4, 1, 5));
      v128.store(items + (<usize>i << 3), v128.shuffle<i32>(payload, key, 2, 6, 3, 7), 16);
      ones = i32x4.sub(ones, isC);
      pixel = i32x4.add(pixel, i32x4.splat(4));
    }
    n = i;
    gts = <f64>(i32x4.extract_lane(ones, 0) + i32x4.extract_lane(ones, 1) + i32x4.extract_lane(ones, 2) + i32x4.extract_lane(ones, 3));
  }
  for (; i < P; i++) {
    if (hasIgnore != 0 && hard && load<i32>(labels + (<usize>(start + i) << 2)) == ignoreIndex) continue;
    const y = label_value(labels, labelKind, start + i, c, classes);
    gts += <f64>y;
    const p = load<f32>(pPlane + (<usize>i << 2));
    store<u64>(items + (<usize>n << 3), sort_item(abs<f32>(y - p), i, hard && y != 0, p > y));
    n++;
  }
  store<i32>(out, n);
  store<f64>(out, gts, 8);
}

/**
 * The gradient of the group's pixels from the planes of p and ∂L/∂p, times `scale`: softmax's
 * Jacobian p (d − Σ p d), or d itself; 0 at ignored pixels. Four pixels per step in the simd build.
 */
function write_gradient(
  labels: usize, labelKind: i32, grad: usize, start: i32, P: i32, classes: i32, softmax: bool, hasIgnore: i32,
  ignoreIndex: i32, pBuf: usize, dBuf: usize, scale: f32, tile: usize,
): void {
  const rowBytes = <usize>classes << 2;
  const plane = <usize>P << 2;
  const checkIgnore = hasIgnore != 0 && labelKind == LABELS_INDEX;
  let i: i32 = 0;
  if (ASC_FEATURE_SIMD) {
    const sc = f32x4.splat(scale);
    for (; i + 4 <= P; i += 4) {
      const at = <usize>i << 2;
      let pd = f32x4.splat(0);
      if (softmax) {
        for (let c: i32 = 0; c < classes; c++) {
          pd = f32x4.add(pd, f32x4.mul(v128.load(pBuf + <usize>c * plane + at), v128.load(dBuf + <usize>c * plane + at)));
        }
      }
      const keep = checkIgnore ? v128.not(i32x4.eq(v128.load(labels + (<usize>(start + i) << 2)), i32x4.splat(ignoreIndex))) : i32x4.splat(-1);
      for (let c: i32 = 0; c < classes; c++) {
        const d = v128.load(dBuf + <usize>c * plane + at);
        const g = softmax ? f32x4.mul(f32x4.mul(sc, v128.load(pBuf + <usize>c * plane + at)), f32x4.sub(d, pd)) : f32x4.mul(sc, d);
        v128.store(tile + (<usize>c << 4), v128.and(g, keep));
      }
      scatter_tile_f32x4(tile, grad + <usize>(start + i) * rowBytes, rowBytes);
    }
  }
  for (; i < P; i++) {
    const out = grad + <usize>(start + i) * rowBytes;
    if (checkIgnore && load<i32>(labels + (<usize>(start + i) << 2)) == ignoreIndex) {
      memory.fill(out, 0, rowBytes);
      continue;
    }
    const at = <usize>i << 2;
    let pd: f32 = 0;
    if (softmax) {
      for (let c: i32 = 0; c < classes; c++) pd += load<f32>(pBuf + <usize>c * plane + at) * load<f32>(dBuf + <usize>c * plane + at);
    }
    for (let c: i32 = 0; c < classes; c++) {
      const d = load<f32>(dBuf + <usize>c * plane + at);
      store<f32>(out + (<usize>c << 2), softmax ? scale * load<f32>(pBuf + <usize>c * plane + at) * (d - pd) : scale * d);
    }
  }
}

/**
 * Lovász-softmax loss, and when `grad` is not 0, dLoss/dinput (for an upstream gradient of 1).
 *
 * @param input          float32 [P, C] logits (or probabilities with `softmax` 0)
 * @param grad           float32 [P, C] output, or 0
 * @param softmax        1: p = softmax(input); 0: p = input
 * @param allClasses     1: every class; 0: the classes present in the group's labels
 * @param scratch        bytes: P_g·C·8 (planes of p and ∂L/∂p) + 8 (alignment) + P_g·16 (sort items
 *                       and their copies) + 16,384 (counts) + C·16 + 32 (a tile), P_g = pixelsPerGroup
 * @returns              the loss
 */
export function lovasz_softmax(
  labels: usize, labelKind: i32, input: usize, grad: usize, softmax: i32, groups: i32, pixelsPerGroup: i32,
  classes: i32, hasIgnore: i32, ignoreIndex: i32, allClasses: i32, scratch: usize,
): f64 {
  const C = classes;
  const P = pixelsPerGroup;
  const plane = <usize>P << 2;
  const pBuf = scratch;
  const dBuf = pBuf + <usize>C * plane;
  const items = (dBuf + <usize>C * plane + 7) & ~<usize>7;
  const tmp = items + (<usize>P << 3);
  const counts = tmp + (<usize>P << 3);
  const tile = (counts + <usize>COUNT_BYTES + 15) & ~<usize>15;
  // (A pixel index fits the payload's 30 bits: a group of 2^30 pixels would need 16 GiB of scratch.)
  const found = tile + (<usize>C << 4); // n (i32) and Σy (f64) of `sort_items`
  const hard = labelKind == LABELS_INDEX;
  let total: f64 = 0;
  for (let g: i32 = 0; g < groups; g++) {
    const start = g * P;
    probability_planes(input, start, P, C, softmax != 0, pBuf, tile);
    if (grad) memory.fill(dBuf, 0, <usize>C * plane);
    // Which classes count: every class, or those present among the counted pixels.
    let counted: i32 = 0;
    let groupLoss: f64 = 0;
    for (let c: i32 = 0; c < C; c++) {
      sort_items(labels, labelKind, start, P, c, C, hasIgnore, ignoreIndex, pBuf + <usize>c * plane, items, found);
      const n = load<i32>(found);
      const gts = load<f64>(found, 8);
      if (allClasses == 0 && gts == 0) continue;
      counted++;
      const sorted = radix_sort(items, tmp, n, counts);
      // Walk the sorted errors: the Lovász extension's gradient g_k, the loss, and ∂/∂e into the
      // class's plane of dBuf.
      const dPlane = dBuf + <usize>c * plane;
      let cumY: f64 = 0;
      let cumNotY: f64 = 0;
      let previous: f64 = 0;
      let loss: f64 = 0;
      for (let k: i32 = 0; k < n; k++) {
        const item = load<u64>(sorted + (<usize>k << 3));
        const payload = <u32>item;
        const i = <i32>(payload & PIXEL_BITS);
        const y: f64 = hard ? <f64>(payload >> 31) : <f64>label_value(labels, labelKind, start + i, c, C);
        cumY += y;
        cumNotY += 1 - y;
        const jaccard = 1 - (gts - cumY) / (gts + cumNotY);
        const gk = jaccard - previous;
        previous = jaccard;
        const e = <f64>reinterpret<f32>(~<u32>(item >> 32));
        loss += e * gk;
        if (grad) {
          // ∂e/∂p = sign(p − y): 0 where e = 0 (p = y), else the item's sign bit.
          const d: f64 = e == 0 ? 0 : (payload & ABOVE_BIT) != 0 ? gk : -gk;
          store<f32>(dPlane + (<usize>i << 2), <f32>d);
        }
      }
      groupLoss += loss;
    }
    // The group's mean over its classes; the loss is the mean over groups.
    const scale: f64 = counted > 0 ? 1.0 / (<f64>counted * <f64>groups) : 0;
    total += groupLoss * scale;
    if (grad) write_gradient(labels, labelKind, grad, start, P, C, softmax != 0, hasIgnore, ignoreIndex, pBuf, dBuf, <f32>scale, tile);
  }
  return total;
}
