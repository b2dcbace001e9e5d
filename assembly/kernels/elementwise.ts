/**
 * Elementwise exp and log over float32 arrays, through the same approximations the loss kernels
 * use (assembly/math). They let the tests measure those approximations' error over millions of
 * points and let the benchmarks measure their throughput, the bound of every loss kernel.
 */
import { exp_f32, exp_f32x4, exp_neg_f32, exp_neg_f32x4 } from '../math/exp';
import { log_f32, log_f32x4, log1p_unit_f32, log1p_unit_f32x4 } from '../math/log';

/** dst[i] = exp(src[i]) for i < n; f32x4 in the SIMD build, `exp_f32` for the tail and the scalar build. */
export function exp_f32_array(src: usize, dst: usize, n: i32): void {
  let i: i32 = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(dst + o, exp_f32x4(v128.load(src + o)));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dst + o, exp_f32(load<f32>(src + o)));
  }
}

/** dst[i] = log(src[i]) for i < n, like `exp_f32_array`. */
export function log_f32_array(src: usize, dst: usize, n: i32): void {
  let i: i32 = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(dst + o, log_f32x4(v128.load(src + o)));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dst + o, log_f32(load<f32>(src + o)));
  }
}

/** dst[i] = exp(src[i]) for src[i] ≤ 0 through `exp_neg_f32x4` / `exp_neg_f32`, the softmax exp. */
export function exp_neg_f32_array(src: usize, dst: usize, n: i32): void {
  let i: i32 = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(dst + o, exp_neg_f32x4(v128.load(src + o)));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dst + o, exp_neg_f32(load<f32>(src + o)));
  }
}

/** dst[i] = log(1 + src[i]) for src[i] ∈ [0, 1] through `log1p_unit_f32x4` / `log1p_unit_f32`. */
export function log1p_unit_f32_array(src: usize, dst: usize, n: i32): void {
  let i: i32 = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(dst + o, log1p_unit_f32x4(v128.load(src + o)));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dst + o, log1p_unit_f32(load<f32>(src + o)));
  }
}

/** Σ x² over n floats, in f64: one tensor's share of a global gradient norm. */
export function sum_squares_f32(src: usize, n: i32): f64 {
  let total: f64 = 0;
  for (let i: i32 = 0; i < n; i++) {
    const v = <f64>load<f32>(src + (<usize>i << 2));
    total += v * v;
  }
  return total;
}
