/**
 * Batch normalisation in training mode, forward and backward, over the last axis (channels) of
 * x [M, C] (M = N·H·W pixels): what tfjs otherwise composes from ~20 ops (moments, batchNorm and
 * their gradients, with Tile/Reshape/Sum each way).
 *
 * Forward:  μ_c = Σ_i x_ic / M,  σ²_c = Σ_i (x_ic − μ_c)² / M  (biased, as tf.moments),
 *           r_c = 1/√(σ²_c + ε),  x̂_ic = (x_ic − μ_c)·r_c,  y_ic = γ_c x̂_ic + β_c
 * Backward: ∂β_c = Σ_i dy_ic,  ∂γ_c = Σ_i dy_ic x̂_ic,
 *           ∂x_ic = γ_c r_c (dy_ic − ∂β_c/M − x̂_ic ∂γ_c/M)
 * (the usual derivation: x̂ depends on x_ic directly and through μ and σ²).
 *
 * Sums are accumulated in f64 per channel, two passes for the variance. With SIMD and channels a
 * multiple of 4, four channels go at a time (f32x4 loads, two f64x2 accumulators): every channel
 * still sums its pixels in order, in f64, with the same operations, so both paths give the same
 * bits (tested); the scalar path serves the other channel counts and the scalar build.
 */

/** x's 4 f32 lanes at p as two f64x2: lanes 0, 1 and lanes 2, 3. */
// @ts-ignore: decorator
@inline function promoteLow(v: v128): v128 {
  return f64x2.promote_low_f32x4(v);
}
// @ts-ignore: decorator
@inline function promoteHigh(v: v128): v128 {
  return f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 2, 3));
}
/** Two f64x2 back to 4 f32 lanes (each lane as <f32>(f64)). */
// @ts-ignore: decorator
@inline function demote(lo: v128, hi: v128): v128 {
  return v128.shuffle<f32>(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5);
}

/**
 * @param x     address of x [M, C]
 * @param gamma address of γ [C];  beta: β [C]
 * @param y     address of the output y [M, C]
 * @param stats address of the output [3, C]: mean, variance, 1/√(variance + ε)
 * @param sums  address of C f64 of scratch
 */
export function batch_norm_train_fwd(
  x: usize, gamma: usize, beta: usize, y: usize, stats: usize, pixels: i32, channels: i32, epsilon: f32, sums: usize,
): void {
  const row = <usize>channels << 2;
  const mean = stats;
  const variance = stats + row;
  const invStd = stats + 2 * row;
  memory.fill(sums, 0, <usize>channels << 3);
  if (ASC_FEATURE_SIMD && (channels & 3) == 0) {
    batchNormForwardSimd(x, gamma, beta, y, stats, pixels, channels, epsilon, sums);
    return;
  }
  for (let i: i32 = 0; i < pixels; i++) {
    const xp = x + <usize>i * row;
    for (let c: i32 = 0; c < channels; c++) {
      const s = sums + (<usize>c << 3);
      store<f64>(s, load<f64>(s) + <f64>load<f32>(xp + (<usize>c << 2)));
    }
  }
  for (let c: i32 = 0; c < channels; c++) {
    const s = sums + (<usize>c << 3);
    store<f32>(mean + (<usize>c << 2), <f32>(load<f64>(s) / <f64>pixels));
    store<f64>(s, 0);
  }
  for (let i: i32 = 0; i < pixels; i++) {
    const xp = x + <usize>i * row;
    for (let c: i32 = 0; c < channels; c++) {
      const s = sums + (<usize>c << 3);
      const d = <f64>(load<f32>(xp + (<usize>c << 2)) - load<f32>(mean + (<usize>c << 2)));
      store<f64>(s, load<f64>(s) + d * d);
    }
  }
  for (let c: i32 = 0; c < channels; c++) {
    const v = load<f64>(sums + (<usize>c << 3)) / <f64>pixels;
    store<f32>(variance + (<usize>c << 2), <f32>v);
    store<f32>(invStd + (<usize>c << 2), <f32>(1.0 / Math.sqrt(v + <f64>epsilon)));
  }
  for (let i: i32 = 0; i < pixels; i++) {
    const xp = x + <usize>i * row;
    const yp = y + <usize>i * row;
    for (let c: i32 = 0; c < channels; c++) {
      const o = <usize>c << 2;
      const xhat = (load<f32>(xp + o) - load<f32>(mean + o)) * load<f32>(invStd + o);
      store<f32>(yp + o, load<f32>(gamma + o) * xhat + load<f32>(beta + o));
    }
  }
}

/**
 * @param x      address of x [M, C];  dy: ∂L/∂y [M, C];  gamma: γ [C]
 * @param stats  address of the forward's [3, C] statistics
 * @param dx     address of the output ∂L/∂x [M, C]
 * @param dgamma address of the output ∂L/∂γ [C];  dbeta: ∂L/∂β [C]
 * @param sums   address of 2·C f64 of scratch
 */
export function batch_norm_train_bwd(
  x: usize, dy: usize, gamma: usize, stats: usize, dx: usize, dgamma: usize, dbeta: usize,
  pixels: i32, channels: i32, sums: usize,
): void {
  const row = <usize>channels << 2;
  const mean = stats;
  const invStd = stats + 2 * row;
  memory.fill(sums, 0, <usize>channels << 4);
  if (ASC_FEATURE_SIMD && (channels & 3) == 0) {
    batchNormBackwardSimd(x, dy, gamma, stats, dx, dgamma, dbeta, pixels, channels, sums);
    return;
  }
  for (let i: i32 = 0; i < pixels; i++) {
    const xp = x + <usize>i * row;
    const dp = dy + <usize>i * row;
    for (let c: i32 = 0; c < channels; c++) {
      const o = <usize>c << 2;
      const s = sums + (<usize>c << 4);
      const g = <f64>load<f32>(dp + o);
      const xhat = <f64>((load<f32>(xp + o) - load<f32>(mean + o)) * load<f32>(invStd + o));
      store<f64>(s, load<f64>(s) + g);
      store<f64>(s, load<f64>(s, 8) + g * xhat, 8);
    }
  }
  for (let c: i32 = 0; c < channels; c++) {
    const s = sums + (<usize>c << 4);
    store<f32>(dbeta + (<usize>c << 2), <f32>load<f64>(s));
    store<f32>(dgamma + (<usize>c << 2), <f32>load<f64>(s, 8));
    // Keep Σdy/M and Σdy·x̂/M for the second pass.
    store<f64>(s, load<f64>(s) / <f64>pixels);
    store<f64>(s, load<f64>(s, 8) / <f64>pixels, 8);
  }
  for (let i: i32 = 0; i < pixels; i++) {
    const xp = x + <usize>i * row;
    const dp = dy + <usize>i * row;
    const op = dx + <usize>i * row;
    for (let c: i32 = 0; c < channels; c++) {
      const o = <usize>c << 2;
      const s = sums + (<usize>c << 4);
      const r = load<f32>(invStd + o);
      const xhat = (load<f32>(xp + o) - load<f32>(mean + o)) * r;
      const g = load<f32>(dp + o) - <f32>load<f64>(s) - xhat * <f32>load<f64>(s, 8);
      store<f32>(op + o, load<f32>(gamma + o) * r * g);
    }
  }
}

/** batch_norm_train_fwd four channels at a time (channels % 4 == 0): the same operations per lane. */
function batchNormForwardSimd(
  x: usize, gamma: usize, beta: usize, y: usize, stats: usize, pixels: i32, channels: i32, epsilon: f32, sums: usize,
): void {
  const row = <usize>channels << 2;
  const mean = stats;
  const variance = stats + row;
  const invStd = stats + 2 * row;
  // Σ x per channel, in f64 (sums: f64 per channel, channel c at 8c).
  for (let i: i32 = 0; i < pixels; i++) {
    const xp = x + <usize>i * row;
    for (let c: i32 = 0; c < channels; c += 4) {
      const v = v128.load(xp + (<usize>c << 2));
      const s = sums + (<usize>c << 3);
      v128.store(s, f64x2.add(v128.load(s), promoteLow(v)));
      v128.store(s, f64x2.add(v128.load(s, 16), promoteHigh(v)), 16);
    }
  }
  const count = f64x2.splat(<f64>pixels);
  for (let c: i32 = 0; c < channels; c += 4) {
    const s = sums + (<usize>c << 3);
    v128.store(mean + (<usize>c << 2), demote(f64x2.div(v128.load(s), count), f64x2.div(v128.load(s, 16), count)));
    v128.store(s, f64x2.splat(0));
    v128.store(s, f64x2.splat(0), 16);
  }
  // Σ (x − μ)² per channel: the difference in f32, its square and the sum in f64.
  for (let i: i32 = 0; i < pixels; i++) {
    const xp = x + <usize>i * row;
    for (let c: i32 = 0; c < channels; c += 4) {
      const d = f32x4.sub(v128.load(xp + (<usize>c << 2)), v128.load(mean + (<usize>c << 2)));
      const lo = promoteLow(d);
      const hi = promoteHigh(d);
      const s = sums + (<usize>c << 3);
      v128.store(s, f64x2.add(v128.load(s), f64x2.mul(lo, lo)));
      v128.store(s, f64x2.add(v128.load(s, 16), f64x2.mul(hi, hi)), 16);
    }
  }
  const eps = f64x2.splat(<f64>epsilon);
  const one = f64x2.splat(1.0);
  for (let c: i32 = 0; c < channels; c += 4) {
    const s = sums + (<usize>c << 3);
    const lo = f64x2.div(v128.load(s), count);
    const hi = f64x2.div(v128.load(s, 16), count);
    v128.store(variance + (<usize>c << 2), demote(lo, hi));
    v128.store(invStd + (<usize>c << 2), demote(
      f64x2.div(one, f64x2.sqrt(f64x2.add(lo, eps))), f64x2.div(one, f64x2.sqrt(f64x2.add(hi, eps)))));
  }
  for (let i: i32 = 0; i < pixels; i++) {
    const xp = x + <usize>i * row;
    const yp = y + <usize>i * row;
    for (let c: i32 = 0; c < channels; c += 4) {
      const o = <usize>c << 2;
      const xhat = f32x4.mul(f32x4.sub(v128.load(xp + o), v128.load(mean + o)), v128.load(invStd + o));
      v128.store(yp + o, f32x4.add(f32x4.mul(v128.load(gamma + o), xhat), v128.load(beta + o)));
    }
  }
}

/** batch_norm_train_bwd four channels at a time (channels % 4 == 0): the same operations per lane. */
function batchNormBackwardSimd(
  x: usize, dy: usize, gamma: usize, stats: usize, dx: usize, dgamma: usize, dbeta: usize,
  pixels: i32, channels: i32, sums: usize,
): void {
  const row = <usize>channels << 2;
  const mean = stats;
  const invStd = stats + 2 * row;
  // sums: per 4 channels, Σ dy (two f64x2) then Σ dy·x̂ (two f64x2): 64 bytes at 16c.
  for (let i: i32 = 0; i < pixels; i++) {
    const xp = x + <usize>i * row;
    const dp = dy + <usize>i * row;
    for (let c: i32 = 0; c < channels; c += 4) {
      const o = <usize>c << 2;
      const s = sums + (<usize>c << 4);
      const g = v128.load(dp + o);
      const xhat = f32x4.mul(f32x4.sub(v128.load(xp + o), v128.load(mean + o)), v128.load(invStd + o));
      const gLo = promoteLow(g);
      const gHi = promoteHigh(g);
      v128.store(s, f64x2.add(v128.load(s), gLo));
      v128.store(s, f64x2.add(v128.load(s, 16), gHi), 16);
      v128.store(s, f64x2.add(v128.load(s, 32), f64x2.mul(gLo, promoteLow(xhat))), 32);
      v128.store(s, f64x2.add(v128.load(s, 48), f64x2.mul(gHi, promoteHigh(xhat))), 48);
    }
  }
  const count = f64x2.splat(<f64>pixels);
  for (let c: i32 = 0; c < channels; c += 4) {
    const s = sums + (<usize>c << 4);
    v128.store(dbeta + (<usize>c << 2), demote(v128.load(s), v128.load(s, 16)));
    v128.store(dgamma + (<usize>c << 2), demote(v128.load(s, 32), v128.load(s, 48)));
    // Keep Σdy/M and Σdy·x̂/M, as f32, for the second pass.
    v128.store(s, demote(f64x2.div(v128.load(s), count), f64x2.div(v128.load(s, 16), count)));
    v128.store(s, demote(f64x2.div(v128.load(s, 32), count), f64x2.div(v128.load(s, 48), count)), 16);
  }
  for (let i: i32 = 0; i < pixels; i++) {
    const xp = x + <usize>i * row;
    const dp = dy + <usize>i * row;
    const op = dx + <usize>i * row;
    for (let c: i32 = 0; c < channels; c += 4) {
      const o = <usize>c << 2;
      const s = sums + (<usize>c << 4);
      const r = v128.load(invStd + o);
      const xhat = f32x4.mul(f32x4.sub(v128.load(xp + o), v128.load(mean + o)), r);
      const g = f32x4.sub(f32x4.sub(v128.load(dp + o), v128.load(s)), f32x4.mul(xhat, v128.load(s, 16)));
      v128.store(op + o, f32x4.mul(f32x4.mul(v128.load(gamma + o), r), g));
    }
  }
}
