/**
 * Natural logarithm in float32, one lane (`log_f32`) and four lanes (`log_f32x4`), plus
 * `log1p_f32(x)` for the x ∈ [0, C) that softmax normalisers produce.
 *
 * Method (Cephes `logf`, S. L. Moshier): x = m·2^e with m ∈ [√½, √2); with f = m − 1,
 * log m ≈ f − f²/2 + f³·Q(f) where Q is the degree-8 minimax polynomial below; then
 * log x = log m + e·ln2 with ln2 split into head and tail.
 *
 * Error: ≤ 2 ulp for finite x > 0 that are normal floats (Cephes states 7.6e-8 rms; measured in
 * `test/math.test.ts`). The losses only take logs of softmax normalisers s ∈ [1, C].
 * NaN and +∞ come out as NaN (the `x − x` term), which is what the losses need: NaN in, NaN out.
 *
 * log1p: log(1 + t) loses t's low bits when 1 + t rounds. With u = fl(1 + t), the rounding error
 * is d = (u − 1) − t exactly (Sterbenz), and log(1 + t) = log(u) − d/u to first order, so the
 * result keeps the relative accuracy of t itself (the classic correction of Goldberg / HP-15C).
 */

// @ts-ignore: decorator
@inline const SQRT_HALF: f32 = 0.707106781186547524;
// @ts-ignore: decorator
@inline const SQRT2_MINUS_1: f32 = 0.41421356237309503;
// @ts-ignore: decorator
@inline const LN2_HI: f32 = 0.693359375;
// @ts-ignore: decorator
@inline const LN2_LO: f32 = -2.12194440e-4;
// Q(f) coefficients, highest degree first (Cephes logf.c).
// @ts-ignore: decorator
@inline const Q0: f32 = 7.0376836292e-2;
// @ts-ignore: decorator
@inline const Q1: f32 = -1.1514610310e-1;
// @ts-ignore: decorator
@inline const Q2: f32 = 1.1676998740e-1;
// @ts-ignore: decorator
@inline const Q3: f32 = -1.2420140846e-1;
// @ts-ignore: decorator
@inline const Q4: f32 = 1.4249322787e-1;
// @ts-ignore: decorator
@inline const Q5: f32 = -1.6668057665e-1;
// @ts-ignore: decorator
@inline const Q6: f32 = 2.0000714765e-1;
// @ts-ignore: decorator
@inline const Q7: f32 = -2.4999993993e-1;
// @ts-ignore: decorator
@inline const Q8: f32 = 3.3333331174e-1;

/** log(x) for one float32 lane; see the file comment for error bound and domain. */
// @ts-ignore: decorator
@inline export function log_f32(x: f32): f32 {
  const bits = reinterpret<i32>(x);
  // Mantissa scaled into [0.5, 1) and the matching exponent.
  let e = (bits >> 23) - 126;
  const m = reinterpret<f32>((bits & 0x007fffff) | 0x3f000000);
  const small = m < SQRT_HALF;
  e -= <i32>small;
  const f: f32 = small ? m + m - 1.0 : m - 1.0;
  return log_parts_f32(f, <f32>e) + (x - x);
}

/** log(1 + f) + e·ln2 for f ∈ [√½ − 1, √2 − 1]: the polynomial all scalar logs share. */
// @ts-ignore: decorator
@inline function log_parts_f32(f: f32, e: f32): f32 {
  const z = f * f;
  // Q(f) by Estrin's scheme (pairs, then powers f², f⁴, f⁸): the same terms as Horner's rule in a
  // dependency chain a third as long, which the SIMD twin needs (see `log_parts_f32x4`).
  const z2 = z * z;
  const b0 = (Q8 + Q7 * f) + (Q6 + Q5 * f) * z;
  const b1 = (Q4 + Q3 * f) + (Q2 + Q1 * f) * z;
  const q = (b0 + b1 * z2) + Q0 * (z2 * z2);
  const y = q * f * z + e * LN2_LO - 0.5 * z;
  return f + y + e * LN2_HI;
}

/** log(x) for four float32 lanes; the same arithmetic as `log_f32`, lane by lane. */
// @ts-ignore: decorator
@inline export function log_f32x4(x: v128): v128 {
  let e = i32x4.sub(i32x4.shr_s(x, 23), i32x4.splat(126));
  const m = v128.or(v128.and(x, i32x4.splat(0x007fffff)), i32x4.splat(0x3f000000));
  const small = f32x4.lt(m, f32x4.splat(SQRT_HALF));
  // `small` lanes are all ones, i.e. −1 as i32.
  e = i32x4.add(e, small);
  const f = f32x4.add(f32x4.sub(m, f32x4.splat(1.0)), v128.and(m, small));
  return f32x4.add(log_parts_f32x4(f, f32x4.convert_i32x4_s(e)), f32x4.sub(x, x));
}

/** `log_parts_f32` on four lanes. */
// @ts-ignore: decorator
@inline function log_parts_f32x4(f: v128, e: v128): v128 {
  const z = f32x4.mul(f, f);
  // Estrin's scheme, as `log_parts_f32`: Horner's nine dependent multiply-adds made the log the
  // critical path of the kernels that take one per element (BCE: half its time).
  const z2 = f32x4.mul(z, z);
  const b0 = f32x4.add(f32x4.add(f32x4.splat(Q8), f32x4.mul(f32x4.splat(Q7), f)),
    f32x4.mul(f32x4.add(f32x4.splat(Q6), f32x4.mul(f32x4.splat(Q5), f)), z));
  const b1 = f32x4.add(f32x4.add(f32x4.splat(Q4), f32x4.mul(f32x4.splat(Q3), f)),
    f32x4.mul(f32x4.add(f32x4.splat(Q2), f32x4.mul(f32x4.splat(Q1), f)), z));
  const q = f32x4.add(f32x4.add(b0, f32x4.mul(b1, z2)), f32x4.mul(f32x4.splat(Q0), f32x4.mul(z2, z2)));
  let y = f32x4.mul(f32x4.mul(q, f), z);
  y = f32x4.add(y, f32x4.mul(e, f32x4.splat(LN2_LO)));
  y = f32x4.sub(y, f32x4.mul(f32x4.splat(0.5), z));
  return f32x4.add(f32x4.add(f, y), f32x4.mul(e, f32x4.splat(LN2_HI)));
}

/**
 * log(1 + t) for t ∈ [0, 1] — the softmax normaliser of two classes, t = e^{−|z1 − z0|} — with no
 * division and no exponent extraction: 1 + t ∈ [1, 2] is m·2^e with e ∈ {0, 1}, and f = m − 1 is
 * t itself (t ≤ √2 − 1) or (t − 1)/2 (otherwise), both exact in float32 (t − 1 is exact for
 * t ∈ (0.41, 1] because its result keeps t's exponent or finer). Then log(1 + f) + e·ln2 with the
 * `log_f32` polynomial: ≤ 2 ulp, and t's full relative accuracy kept when t ≪ 1. NaN propagates.
 */
// @ts-ignore: decorator
@inline export function log1p_unit_f32x4(t: v128): v128 {
  const big = f32x4.gt(t, f32x4.splat(SQRT2_MINUS_1));
  const f = v128.bitselect(f32x4.mul(f32x4.sub(t, f32x4.splat(1.0)), f32x4.splat(0.5)), t, big);
  return log_parts_f32x4(f, v128.and(big, f32x4.splat(1.0)));
}

/** `log1p_unit_f32x4` for one lane (the scalar twin, same arithmetic). */
// @ts-ignore: decorator
@inline export function log1p_unit_f32(t: f32): f32 {
  const big = t > SQRT2_MINUS_1;
  return log_parts_f32(big ? (t - 1.0) * 0.5 : t, big ? 1.0 : 0.0);
}

/** log(1 + t) for t ≥ 0, accurate to a few ulp of the result even when t ≪ 1. */
// @ts-ignore: decorator
@inline export function log1p_f32(t: f32): f32 {
  const u: f32 = 1.0 + t;
  return log_f32(u) - ((u - 1.0) - t) / u;
}

/** `log1p_f32` on four lanes. */
// @ts-ignore: decorator
@inline export function log1p_f32x4(t: v128): v128 {
  const u = f32x4.add(f32x4.splat(1.0), t);
  const d = f32x4.sub(f32x4.sub(u, f32x4.splat(1.0)), t);
  return f32x4.sub(log_f32x4(u), f32x4.div(d, u));
}
