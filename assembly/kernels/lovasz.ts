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
 * The sort: an LSD radix sort of 11-bit digits on the bits of e, complemented (for e ≥ 0 the float
 * bits order as unsigned integers; complementing makes ascending order descending in e). It is
 * stable: equal errors keep the pixels' order (ascending index) — the tie order, which changes the
 * gradient's split among tied pixels but not the loss.
 */
import { LABELS_INDEX, label_value } from './labels';
import { ACT_NONE, ACT_SOFTMAX, activate_row } from './region_losses';

// @ts-ignore: decorator
@inline const DIGIT_BITS: u64 = 11;
// @ts-ignore: decorator
@inline const BUCKETS: i32 = 1 << <i32>DIGIT_BITS;
// @ts-ignore: decorator
@inline const MASK: u64 = <u64>BUCKETS - 1;
/** Bytes of the three digits' counts. */
// @ts-ignore: decorator
@inline const COUNT_BYTES: i32 = 3 * BUCKETS * 4;

/**
 * Sorts n u64 items by their high 32 bits (the key) ascending, stable: an LSD radix sort of three
 * 11-bit digits (bits 32–42, 43–53, 54–63). One pass over the items counts all three digits; a
 * digit that is the same for every key skips its pass. Key and payload move as one u64 (one store
 * per item, one write stream per bucket). `tmp`: n u64; `counts`: COUNT_BYTES. Returns where the
 * sorted items are (`items` or `tmp`).
 */
function radix_sort(items: usize, tmp: usize, n: i32, counts: usize): usize {
  memory.fill(counts, 0, <usize>COUNT_BYTES);
  const c1 = counts + (<usize>BUCKETS << 2);
  const c2 = c1 + (<usize>BUCKETS << 2);
  for (let i: i32 = 0; i < n; i++) {
    const k = load<u64>(items + (<usize>i << 3));
    const a0 = counts + (<usize>((k >> 32) & MASK) << 2);
    const a1 = c1 + (<usize>((k >> 43) & MASK) << 2);
    const a2 = c2 + (<usize>(k >> 54) << 2);
    store<u32>(a0, load<u32>(a0) + 1);
    store<u32>(a1, load<u32>(a1) + 1);
    store<u32>(a2, load<u32>(a2) + 1);
  }
  let src = items, dst = tmp;
  for (let pass: i32 = 0; pass < 3; pass++) {
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

/** y_c of pixel i (index labels one-hot). */
// @ts-ignore: decorator
@inline function y_of(labels: usize, labelKind: i32, i: i32, c: i32, classes: i32): f32 {
  return label_value(labels, labelKind, i, c, classes);
}

/**
 * Lovász-softmax loss, and when `grad` is not 0, dLoss/dinput (for an upstream gradient of 1).
 *
 * @param input          float32 [P, C] logits (or probabilities with `softmax` 0)
 * @param grad           float32 [P, C] output, or 0
 * @param softmax        1: p = softmax(input); 0: p = input
 * @param allClasses     1: every class; 0: the classes present in the group's labels
 * @param scratch        bytes: P_g·C·4 (p) + P_g·C·4 (dL/dp) + P_g·4 (valid pixels) + 8 (alignment) +
 *                       P_g·16 (sort items and their copies) + COUNT_BYTES, P_g = pixelsPerGroup
 * @returns              the loss
 */
export function lovasz_softmax(
  labels: usize, labelKind: i32, input: usize, grad: usize, softmax: i32, groups: i32, pixelsPerGroup: i32,
  classes: i32, hasIgnore: i32, ignoreIndex: i32, allClasses: i32, scratch: usize,
): f64 {
  const C = classes;
  const rowBytes = <usize>C << 2;
  const planeBytes = <usize>pixelsPerGroup << 2;
  // p row-major as activate_row writes it; ∂L/∂p class-major (plane c holds class c of every
  // counted pixel), so the walk's scattered writes stay within one plane.
  const pBuf = scratch;
  const dBuf = pBuf + <usize>pixelsPerGroup * rowBytes;
  const valid = dBuf + <usize>pixelsPerGroup * rowBytes;
  const items = (valid + planeBytes + 7) & ~<usize>7;
  const tmp = items + (<usize>pixelsPerGroup << 3);
  const counts = tmp + (<usize>pixelsPerGroup << 3);
  const hard = labelKind == LABELS_INDEX;
  let total: f64 = 0;
  for (let g: i32 = 0; g < groups; g++) {
    const start = g * pixelsPerGroup;
    // p of the group's counted pixels (compacted: row v is pixel valid[v]).
    let n: i32 = 0;
    for (let i = start; i < start + pixelsPerGroup; i++) {
      if (hasIgnore != 0 && hard && load<i32>(labels + (<usize>i << 2)) == ignoreIndex) continue;
      store<i32>(valid + (<usize>n << 2), i);
      activate_row(input + <usize>i * rowBytes, pBuf + <usize>n * rowBytes, softmax != 0 ? ACT_SOFTMAX : ACT_NONE, C);
      n++;
    }
    const nPlane = <usize>n << 2;
    if (grad) memory.fill(dBuf, 0, <usize>C * nPlane);
    // Which classes count: every class, or those present among the counted pixels.
    let counted: i32 = 0;
    let groupLoss: f64 = 0;
    for (let c: i32 = 0; c < C; c++) {
      // The sort's items: key ~bits(e) (for e ≥ 0 the float bits order as unsigned integers;
      // complemented, ascending is descending in e), payload v, and with class indices y (0 or 1)
      // in the payload's top bit, so the walk below reads neither the labels nor p at random.
      let gts: f64 = 0;
      for (let v: i32 = 0; v < n; v++) {
        const y = y_of(labels, labelKind, load<i32>(valid + (<usize>v << 2)), c, C);
        gts += <f64>y;
        const e = abs<f32>(y - load<f32>(pBuf + <usize>v * rowBytes + (<usize>c << 2)));
        const payload: u32 = hard && y != 0 ? <u32>v | 0x80000000 : <u32>v;
        store<u64>(items + (<usize>v << 3), (<u64>(~reinterpret<u32>(e)) << 32) | <u64>payload);
      }
      if (allClasses == 0 && gts == 0) continue;
      counted++;
      const sorted = radix_sort(items, tmp, n, counts);
      // Walk the sorted errors: the Lovász extension's gradient g_k, the loss, and ∂/∂e into dBuf.
      const plane = dBuf + <usize>c * nPlane;
      let cumY: f64 = 0;
      let cumNotY: f64 = 0;
      let previous: f64 = 0;
      let loss: f64 = 0;
      for (let k: i32 = 0; k < n; k++) {
        const item = load<u64>(sorted + (<usize>k << 3));
        const payload = <u32>item;
        const v = <i32>(hard ? payload & 0x7fffffff : payload);
        const y: f64 = hard ? <f64>(payload >> 31) : <f64>y_of(labels, labelKind, load<i32>(valid + (<usize>v << 2)), c, C);
        cumY += y;
        cumNotY += 1 - y;
        const jaccard = 1 - (gts - cumY) / (gts + cumNotY);
        const gk = jaccard - previous;
        previous = jaccard;
        const e = <f64>reinterpret<f32>(~<u32>(item >> 32));
        loss += e * gk;
        if (grad) {
          // ∂e/∂p = sign(p − y); with y ∈ {0, 1}, p ≠ y exactly when e ≠ 0, and p > y when y = 0.
          let d: f64;
          if (hard) {
            d = e == 0 ? 0 : y != 0 ? -gk : gk;
          } else {
            const p = <f64>load<f32>(pBuf + <usize>v * rowBytes + (<usize>c << 2));
            d = p > y ? gk : p < y ? -gk : 0;
          }
          store<f32>(plane + (<usize>v << 2), <f32>d);
        }
      }
      groupLoss += loss;
    }
    // The group's mean over its classes; the loss is the mean over groups.
    const scale: f64 = counted > 0 ? 1.0 / (<f64>counted * <f64>groups) : 0;
    total += groupLoss * scale;
    if (grad) {
      memory.fill(grad + <usize>start * rowBytes, 0, <usize>pixelsPerGroup * rowBytes);
      const sc = <f32>scale;
      for (let v: i32 = 0; v < n; v++) {
        const i = load<i32>(valid + (<usize>v << 2));
        const row = pBuf + <usize>v * rowBytes;
        const d = dBuf + (<usize>v << 2);
        const out = grad + <usize>i * rowBytes;
        if (softmax != 0) {
          let pd: f32 = 0;
          for (let c: i32 = 0; c < C; c++) pd += load<f32>(row + (<usize>c << 2)) * load<f32>(d + <usize>c * nPlane);
          for (let c: i32 = 0; c < C; c++) {
            const p = load<f32>(row + (<usize>c << 2));
            store<f32>(out + (<usize>c << 2), sc * p * (load<f32>(d + <usize>c * nPlane) - pd));
          }
        } else {
          for (let c: i32 = 0; c < C; c++) store<f32>(out + (<usize>c << 2), sc * load<f32>(d + <usize>c * nPlane));
        }
      }
    }
  }
  return total;
}
