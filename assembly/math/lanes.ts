/**
 * Small f32x4 lane helpers shared by the kernels. All are `@inline`: they compile to a few
 * shuffles and arithmetic ops at each use.
 */

/** Sum of the four lanes, accumulated in f64. */
// @ts-ignore: decorator
@inline export function hsum_f32x4(v: v128): f64 {
  return (<f64>f32x4.extract_lane(v, 0) + <f64>f32x4.extract_lane(v, 1))
    + (<f64>f32x4.extract_lane(v, 2) + <f64>f32x4.extract_lane(v, 3));
}

/** Maximum of the four lanes (NaN if any lane is NaN). */
// @ts-ignore: decorator
@inline export function hmax_f32x4(v: v128): f32 {
  const m = f32x4.max(v, v128.shuffle<f32>(v, v, 2, 3, 0, 1));
  return f32x4.extract_lane(f32x4.max(m, v128.shuffle<f32>(m, m, 1, 0, 3, 2)), 0);
}

/** Sum of the four lanes in f32: ((v0 + v2) + (v1 + v3)). */
// @ts-ignore: decorator
@inline export function hsum32_f32x4(v: v128): f32 {
  const s = f32x4.add(v, v128.shuffle<f32>(v, v, 2, 3, 0, 1));
  return f32x4.extract_lane(f32x4.add(s, v128.shuffle<f32>(s, s, 1, 0, 3, 2)), 0);
}

/** Even lanes of the pair (a, b): [a0, a2, b0, b2] — channel 0 of four 2-channel pixels. */
// @ts-ignore: decorator
@inline export function even_f32x4(a: v128, b: v128): v128 {
  return v128.shuffle<f32>(a, b, 0, 2, 4, 6);
}

/** Odd lanes of the pair (a, b): [a1, a3, b1, b3] — channel 1 of four 2-channel pixels. */
// @ts-ignore: decorator
@inline export function odd_f32x4(a: v128, b: v128): v128 {
  return v128.shuffle<f32>(a, b, 1, 3, 5, 7);
}

/** Interleaves channel vectors c0, c1 of four pixels and stores the eight floats at `ptr`. */
// @ts-ignore: decorator
@inline export function store_interleaved_f32x4(ptr: usize, c0: v128, c1: v128): void {
  v128.store(ptr, v128.shuffle<f32>(c0, c1, 0, 4, 1, 5));
  v128.store(ptr, v128.shuffle<f32>(c0, c1, 2, 6, 3, 7), 16);
}

/** 1.0 in the lanes where `mask` is set, 0.0 elsewhere. */
// @ts-ignore: decorator
@inline export function mask_to_f32x4(mask: v128): v128 {
  return v128.and(mask, f32x4.splat(1.0));
}

/**
 * Loads four vectors at `src + j·srcStride` (j = 0..3), transposes the 4×4 block and stores row j
 * of the result at `dst + j·dstStride`. With src = four pixels' rows it gathers four channels into
 * channel-major vectors (one lane per pixel); applied again it scatters them back.
 */
// @ts-ignore: decorator
@inline export function transpose4x4_f32(src: usize, srcStride: usize, dst: usize, dstStride: usize): void {
  const r0 = v128.load(src);
  const r1 = v128.load(src + srcStride);
  const r2 = v128.load(src + 2 * srcStride);
  const r3 = v128.load(src + 3 * srcStride);
  const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5);
  const t1 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
  const t2 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
  const t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
  v128.store(dst, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5));
  v128.store(dst + dstStride, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7));
  v128.store(dst + 2 * dstStride, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5));
  v128.store(dst + 3 * dstStride, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7));
}

/**
 * Four pixels' rows of C floats → C channel vectors at `tile` (16 B each; lane = pixel): 4×4
 * transposes when C % 4 = 0, lane by lane otherwise (C = 3, 5, …).
 */
// @ts-ignore: decorator
@inline export function gather_tile_f32x4(rows: usize, rowBytes: usize, tile: usize): void {
  if ((rowBytes & 15) == 0) {
    for (let o: usize = 0; o < rowBytes; o += 16) transpose4x4_f32(rows + o, rowBytes, tile + (o << 2), 16);
    return;
  }
  for (let o: usize = 0; o < rowBytes; o += 4) {
    const at = rows + o;
    let v = f32x4.splat(load<f32>(at));
    v = f32x4.replace_lane(v, 1, load<f32>(at + rowBytes));
    v = f32x4.replace_lane(v, 2, load<f32>(at + 2 * rowBytes));
    v = f32x4.replace_lane(v, 3, load<f32>(at + 3 * rowBytes));
    v128.store(tile + (o << 2), v);
  }
}

/** The inverse of `gather_tile_f32x4`: C channel vectors at `tile` → four pixels' rows. */
// @ts-ignore: decorator
@inline export function scatter_tile_f32x4(tile: usize, rows: usize, rowBytes: usize): void {
  if ((rowBytes & 15) == 0) {
    for (let o: usize = 0; o < rowBytes; o += 16) transpose4x4_f32(tile + (o << 2), 16, rows + o, rowBytes);
    return;
  }
  for (let o: usize = 0; o < rowBytes; o += 4) {
    const at = rows + o;
    const v = v128.load(tile + (o << 2));
    store<f32>(at, f32x4.extract_lane(v, 0));
    store<f32>(at + rowBytes, f32x4.extract_lane(v, 1));
    store<f32>(at + 2 * rowBytes, f32x4.extract_lane(v, 2));
    store<f32>(at + 3 * rowBytes, f32x4.extract_lane(v, 3));
  }
}
