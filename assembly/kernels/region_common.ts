/**
 * The region-loss engine's shared vocabulary (region_losses.ts and its SIMD paths): activations,
 * pixel-term kinds, the layout of the per-class sums and gradient coefficients, the flush block of
 * the f32 accumulators, and the pixel term's parameter block.
 */

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

/**
 * `regionOn` of region_stats: 0, or REGION_ON with REGION_SQUARES when the loss reads S2 and Y2
 * (the square Dice). Without it the SIMD paths may leave S2 and Y2 out (their sums are then 0).
 */
export const REGION_ON: i32 = 1;
export const REGION_SQUARES: i32 = 2;

/** The five sums per group and class, in this order: I, S, Y, S2, Y2 (f64 each). */
// @ts-ignore: decorator
@inline export const STATS: i32 = 5;
/** The three gradient coefficients per group and class: a, b, k (f64 each). */
// @ts-ignore: decorator
@inline export const COEFS: i32 = 3;
// @ts-ignore: decorator
@inline export const FLUSH_EVERY: i32 = 256;

/**
 * A pixel term's parameters, f32 at `params`: w [C] (class weights), a [C] (posWeight, or focal
 * alpha), then γ, s (label smoothing), hasAlpha (sigmoid focal: 1 when alpha is given), hasWeights
 * (CE: 1 when class weights are given; the mean then divides by Σ w_c y_c).
 */
// @ts-ignore: decorator
@inline export function param(params: usize, k: i32): f32 {
  return load<f32>(params + (<usize>k << 2));
}
