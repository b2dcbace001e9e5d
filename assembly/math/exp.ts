/**
 * exp(x) in float32, one lane (`exp_f32`) and four lanes (`exp_f32x4`), with the same constants so
 * that the SIMD and scalar builds round identically.
 *
 * Method (Cephes `expf`, S. L. Moshier): x = n·ln2 + r with n = nearest(x·log2 e) and
 * |r| ≤ ln2/2; ln2 is split into a 9-bit head and a tail so that r is exact; e^r ≈ 1 + r + r²·P(r)
 * with the degree-5 minimax P below; 2^n is built by writing n + 127 into the exponent bits.
 *
 * Error: ≤ 2 ulp relative on [−87.3, 88] (Cephes states 1.6e-7 rms for its version; our test
 * `test/math.test.ts` measures the maximum over a dense grid against Math.exp and checks ≤ 2 ulp).
 * Domain: x > 88 saturates to e^88 ≈ 1.65e38 (the losses only ever call it with x ≤ 0);
 * x < −87.33 (below the smallest normal float) flushes to +0; NaN propagates.
 *
 * No lookup tables: the kernels run inside tfjs's own memory and must carry no data segment.
 */

// @ts-ignore: decorator
@inline const LOG2E: f32 = 1.44269504088896341;
// ln 2 = LN2_HI + LN2_LO; LN2_HI has 9 significant bits so n·LN2_HI is exact for |n| < 2^15.
// @ts-ignore: decorator
@inline const LN2_HI: f32 = 0.693359375;
// @ts-ignore: decorator
@inline const LN2_LO: f32 = -2.12194440e-4;
// @ts-ignore: decorator
@inline const EXP_HI: f32 = 88.0;
// @ts-ignore: decorator
@inline const EXP_LO: f32 = -87.33654;
// 1.5·2^23: adding it rounds a float of magnitude < 2^22 to an integer held in the low bits.
// @ts-ignore: decorator
@inline const ROUND_MAGIC: f32 = 12582912.0;
// @ts-ignore: decorator
@inline const ROUND_MAGIC_BITS: i32 = 0x4b400000;
// Minimax coefficients of P(r) ≈ (e^r − 1 − r)/r² on [−ln2/2, ln2/2] (Cephes expf.c).
// @ts-ignore: decorator
@inline const P0: f32 = 1.9875691500e-4;
// @ts-ignore: decorator
@inline const P1: f32 = 1.3981999507e-3;
// @ts-ignore: decorator
@inline const P2: f32 = 8.3334519073e-3;
// @ts-ignore: decorator
@inline const P3: f32 = 4.1665795894e-2;
// @ts-ignore: decorator
@inline const P4: f32 = 1.6666665459e-1;
// @ts-ignore: decorator
@inline const P5: f32 = 5.0000001201e-1;

/** e^x for one float32 lane; see the file comment for error bound and domain. */
// @ts-ignore: decorator
@inline export function exp_f32(x: f32): f32 {
  const xc = min<f32>(x, EXP_HI);
  return xc < EXP_LO ? 0.0 : exp_scale_f32(max<f32>(xc, EXP_LO - 1));
}

/**
 * e^x for xc in [EXP_LO − 1, EXP_HI], one lane: n = nearest(x·log2 e) (ties to even, as the
 * f32x4 path's rounding add), r = x − n·ln2, e^r by the polynomial, times 2^n.
 */
// @ts-ignore: decorator
@inline function exp_scale_f32(xc: f32): f32 {
  const n = nearest<f32>(xc * LOG2E);
  const r = xc - n * LN2_HI - n * LN2_LO;
  // P(r) by Estrin's scheme (pairs, then r², r⁴), as the SIMD twin.
  const z = r * r;
  const p = ((P5 + P4 * r) + (P3 + P2 * r) * z) + (P1 + P0 * r) * (z * z);
  // n ∈ [−128, 127]; below −126 the biased exponent wraps, which only EXP_LO − 1 ≤ x < EXP_LO
  // reaches and both exp functions handle (flushed to 0, or clamped to EXP_LO).
  return (p * z + r + 1.0) * reinterpret<f32>((<i32>n + 127) << 23);
}

/** e^x for four float32 lanes; the same arithmetic as `exp_f32`, lane by lane. */
// @ts-ignore: decorator
@inline export function exp_f32x4(x: v128): v128 {
  // pmin/pmax (one x86 instruction each, unlike min/max) keep a NaN x when it is the first operand.
  const xc = f32x4.pmax(f32x4.pmin(x, f32x4.splat(EXP_HI)), f32x4.splat(EXP_LO - 1));
  const scaled = exp_scale_f32x4(xc);
  const underflow = f32x4.lt(xc, f32x4.splat(EXP_LO));
  return v128.andnot(scaled, underflow);
}

/**
 * e^x for xc already clamped to [EXP_LO − 1, EXP_HI]. n = nearest(x·log2 e) comes from adding
 * 1.5·2^23: the float add rounds to nearest-even like `nearest`, and the sum's low mantissa bits
 * are n itself, so 2^n is one integer add and shift away (no float→int conversion, which x86
 * lacks for saturating lanes). Lanes below EXP_LO give a wrong but finite value (callers mask).
 */
// @ts-ignore: decorator
@inline function exp_scale_f32x4(xc: v128): v128 {
  const j = f32x4.add(f32x4.mul(xc, f32x4.splat(LOG2E)), f32x4.splat(ROUND_MAGIC));
  const n = f32x4.sub(j, f32x4.splat(ROUND_MAGIC));
  const r = f32x4.sub(f32x4.sub(xc, f32x4.mul(n, f32x4.splat(LN2_HI))), f32x4.mul(n, f32x4.splat(LN2_LO)));
  const z = f32x4.mul(r, r);
  // Estrin's scheme: the same terms as Horner's rule, in a dependency chain half as long.
  const p = f32x4.add(
    f32x4.add(f32x4.add(f32x4.splat(P5), f32x4.mul(f32x4.splat(P4), r)), f32x4.mul(f32x4.add(f32x4.splat(P3), f32x4.mul(f32x4.splat(P2), r)), z)),
    f32x4.mul(f32x4.add(f32x4.splat(P1), f32x4.mul(f32x4.splat(P0), r)), f32x4.mul(z, z)));
  const er = f32x4.add(f32x4.add(f32x4.mul(p, z), r), f32x4.splat(1.0));
  // (bits(j) − bits(1.5·2^23)) is n; + 127, << 23 makes the float 2^n.
  const scale = i32x4.shl(i32x4.add(j, i32x4.splat(127 - ROUND_MAGIC_BITS)), 23);
  return f32x4.mul(er, scale);
}

/**
 * e^x for four lanes of x ≤ 0 (softmax arguments z − max z): the `exp_f32x4` arithmetic without
 * the upper clamp and with arguments below −87.33 clamped instead of flushed, so those lanes give
 * ≈ 1.2e-38 rather than 0 (harmless next to the max term's 1). A few ops fewer per vector.
 */
// @ts-ignore: decorator
@inline export function exp_neg_f32x4(x: v128): v128 {
  return exp_scale_f32x4(f32x4.pmax(x, f32x4.splat(EXP_LO)));
}

/** `exp_neg_f32x4` for one lane (the scalar twin, same arithmetic). */
// @ts-ignore: decorator
@inline export function exp_neg_f32(x: f32): f32 {
  return exp_scale_f32(max<f32>(x, EXP_LO));
}
