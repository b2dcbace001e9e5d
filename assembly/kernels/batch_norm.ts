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
  memory.fill(sums, 0, <usize>channels << 3);
  batch_norm_sums(x, pixels, channels, sums);
  batch_norm_mean(sums, <f64>pixels, channels, stats);
  memory.fill(sums, 0, <usize>channels << 3);
  batch_norm_centered_sums(x, stats, pixels, channels, sums);
  batch_norm_variance(sums, <f64>pixels, channels, epsilon, stats);
  batch_norm_normalize(x, gamma, beta, stats, y, pixels, channels);
}

/**
 * @param x      address of x [M, C];  dy: ∂L/∂y [M, C];  gamma: γ [C]
 * @param stats  address of the forward's [3, C] statistics
 * @param dx     address of the output ∂L/∂x [M, C]
 * @param dgamma address of the output ∂L/∂γ [C];  dbeta: ∂L/∂β [C]
 * @param sums   address of 2·C f64 then 2·C f32 of scratch
 */
export function batch_norm_train_bwd(
  x: usize, dy: usize, gamma: usize, stats: usize, dx: usize, dgamma: usize, dbeta: usize,
  pixels: i32, channels: i32, sums: usize,
): void {
  memory.fill(sums, 0, <usize>channels << 4);
  batch_norm_grad_sums(x, dy, stats, pixels, channels, sums);
  const means = sums + (<usize>channels << 4);
  batch_norm_grad_finish(sums, <f64>pixels, channels, dgamma, dbeta, means);
  batch_norm_grad_apply(x, dy, gamma, stats, means, dx, pixels, channels);
}

/*
 * The phases of the two kernels, exported so that a data-parallel step (src/parallel/) can sum
 * each image's partial sums, gather them across threads and add them in image order: the sums
 * phases add into `sums` (f64, channel c at 8c; the gradient's Σdy at 8c, Σdy·x̂ at 8(C + c)),
 * the finishing phases divide by the pixels of the whole batch.
 */

/** sums[c] += Σ_i x[i, c], in f64, pixels in order. */
export function batch_norm_sums(x: usize, pixels: i32, channels: i32, sums: usize): void {
  const row = <usize>channels << 2;
  if (ASC_FEATURE_SIMD && (channels & 3) == 0) {
    for (let i: i32 = 0; i < pixels; i++) {
      const xp = x + <usize>i * row;
      for (let c: i32 = 0; c < channels; c += 4) {
        const v = v128.load(xp + (<usize>c << 2));
        const s = sums + (<usize>c << 3);
        v128.store(s, f64x2.add(v128.load(s), promoteLow(v)));
        v128.store(s, f64x2.add(v128.load(s, 16), promoteHigh(v)), 16);
      }
    }
    return;
  }
  for (let i: i32 = 0; i < pixels; i++) {
    const xp = x + <usize>i * row;
    for (let c: i32 = 0; c < channels; c++) {
      const s = sums + (<usize>c << 3);
      store<f64>(s, load<f64>(s) + <f64>load<f32>(xp + (<usize>c << 2)));
    }
  }
}

/** stats' mean row: μ_c = <f32>(sums[c] / count). */
export function batch_norm_mean(sums: usize, count: f64, channels: i32, stats: usize): void {
  for (let c: i32 = 0; c < channels; c++) {
    store<f32>(stats + (<usize>c << 2), <f32>(load<f64>(sums + (<usize>c << 3)) / count));
  }
}

/** sums[c] += Σ_i (x[i, c] − μ_c)²: the difference in f32, its square and the sum in f64. */
export function batch_norm_centered_sums(x: usize, stats: usize, pixels: i32, channels: i32, sums: usize): void {
  const row = <usize>channels << 2;
  const mean = stats;
  if (ASC_FEATURE_SIMD && (channels & 3) == 0) {
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
    return;
  }
  for (let i: i32 = 0; i < pixels; i++) {
    const xp = x + <usize>i * row;
    for (let c: i32 = 0; c < channels; c++) {
      const s = sums + (<usize>c << 3);
      const d = <f64>(load<f32>(xp + (<usize>c << 2)) - load<f32>(mean + (<usize>c << 2)));
      store<f64>(s, load<f64>(s) + d * d);
    }
  }
}

/** stats' variance and 1/√(variance + ε) rows from the centered sums. */
export function batch_norm_variance(sums: usize, count: f64, channels: i32, epsilon: f32, stats: usize): void {
  const row = <usize>channels << 2;
  for (let c: i32 = 0; c < channels; c++) {
    const v = load<f64>(sums + (<usize>c << 3)) / count;
    store<f32>(stats + row + (<usize>c << 2), <f32>v);
    store<f32>(stats + 2 * row + (<usize>c << 2), <f32>(1.0 / Math.sqrt(v + <f64>epsilon)));
  }
}

/** y = γ·(x − μ)·r + β. */
export function batch_norm_normalize(x: usize, gamma: usize, beta: usize, stats: usize, y: usize, pixels: i32, channels: i32): void {
  const row = <usize>channels << 2;
  const mean = stats;
  const invStd = stats + 2 * row;
  if (ASC_FEATURE_SIMD && (channels & 3) == 0) {
    for (let i: i32 = 0; i < pixels; i++) {
      const xp = x + <usize>i * row;
      const yp = y + <usize>i * row;
      for (let c: i32 = 0; c < channels; c += 4) {
        const o = <usize>c << 2;
        const xhat = f32x4.mul(f32x4.sub(v128.load(xp + o), v128.load(mean + o)), v128.load(invStd + o));
        v128.store(yp + o, f32x4.add(f32x4.mul(v128.load(gamma + o), xhat), v128.load(beta + o)));
      }
    }
    return;
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

/** sums[c] += Σ_i dy[i, c] and sums[C + c] += Σ_i dy[i, c]·x̂[i, c], in f64. */
export function batch_norm_grad_sums(x: usize, dy: usize, stats: usize, pixels: i32, channels: i32, sums: usize): void {
  const row = <usize>channels << 2;
  const mean = stats;
  const invStd = stats + 2 * row;
  const products = sums + (<usize>channels << 3);
  if (ASC_FEATURE_SIMD && (channels & 3) == 0) {
    for (let i: i32 = 0; i < pixels; i++) {
      const xp = x + <usize>i * row;
      const dp = dy + <usize>i * row;
      for (let c: i32 = 0; c < channels; c += 4) {
        const o = <usize>c << 2;
        const s = sums + (<usize>c << 3);
        const p = products + (<usize>c << 3);
        const g = v128.load(dp + o);
        const xhat = f32x4.mul(f32x4.sub(v128.load(xp + o), v128.load(mean + o)), v128.load(invStd + o));
        const gLo = promoteLow(g);
        const gHi = promoteHigh(g);
        v128.store(s, f64x2.add(v128.load(s), gLo));
        v128.store(s, f64x2.add(v128.load(s, 16), gHi), 16);
        v128.store(p, f64x2.add(v128.load(p), f64x2.mul(gLo, promoteLow(xhat))));
        v128.store(p, f64x2.add(v128.load(p, 16), f64x2.mul(gHi, promoteHigh(xhat))), 16);
      }
    }
    return;
  }
  for (let i: i32 = 0; i < pixels; i++) {
    const xp = x + <usize>i * row;
    const dp = dy + <usize>i * row;
    for (let c: i32 = 0; c < channels; c++) {
      const o = <usize>c << 2;
      const s = sums + (<usize>c << 3);
      const p = products + (<usize>c << 3);
      const g = <f64>load<f32>(dp + o);
      const xhat = <f64>((load<f32>(xp + o) - load<f32>(mean + o)) * load<f32>(invStd + o));
      store<f64>(s, load<f64>(s) + g);
      store<f64>(p, load<f64>(p) + g * xhat);
    }
  }
}

/**
 * ∂β = Σdy and ∂γ = Σdy·x̂ (as f32), and for the last phase `means` [2, C] f32: Σdy/M, Σdy·x̂/M
 * (M = count, the batch's pixels).
 */
export function batch_norm_grad_finish(sums: usize, count: f64, channels: i32, dgamma: usize, dbeta: usize, means: usize): void {
  const products = sums + (<usize>channels << 3);
  const row = <usize>channels << 2;
  for (let c: i32 = 0; c < channels; c++) {
    const s = load<f64>(sums + (<usize>c << 3));
    const p = load<f64>(products + (<usize>c << 3));
    store<f32>(dbeta + (<usize>c << 2), <f32>s);
    store<f32>(dgamma + (<usize>c << 2), <f32>p);
    store<f32>(means + (<usize>c << 2), <f32>(s / count));
    store<f32>(means + row + (<usize>c << 2), <f32>(p / count));
  }
}

/** ∂x = γ·r·(dy − Σdy/M − x̂·Σdy·x̂/M). */
export function batch_norm_grad_apply(
  x: usize, dy: usize, gamma: usize, stats: usize, means: usize, dx: usize, pixels: i32, channels: i32,
): void {
  const row = <usize>channels << 2;
  const mean = stats;
  const invStd = stats + 2 * row;
  if (ASC_FEATURE_SIMD && (channels & 3) == 0) {
    for (let i: i32 = 0; i < pixels; i++) {
      const xp = x + <usize>i * row;
      const dp = dy + <usize>i * row;
      const op = dx + <usize>i * row;
      for (let c: i32 = 0; c < channels; c += 4) {
        const o = <usize>c << 2;
        const r = v128.load(invStd + o);
        const xhat = f32x4.mul(f32x4.sub(v128.load(xp + o), v128.load(mean + o)), r);
        const g = f32x4.sub(f32x4.sub(v128.load(dp + o), v128.load(means + o)), f32x4.mul(xhat, v128.load(means + row + o)));
        v128.store(op + o, f32x4.mul(f32x4.mul(v128.load(gamma + o), r), g));
      }
    }
    return;
  }
  for (let i: i32 = 0; i < pixels; i++) {
    const xp = x + <usize>i * row;
    const dp = dy + <usize>i * row;
    const op = dx + <usize>i * row;
    for (let c: i32 = 0; c < channels; c++) {
      const o = <usize>c << 2;
      const r = load<f32>(invStd + o);
      const xhat = (load<f32>(xp + o) - load<f32>(mean + o)) * r;
      const g = load<f32>(dp + o) - load<f32>(means + o) - xhat * load<f32>(means + row + o);
      store<f32>(op + o, load<f32>(gamma + o) * r * g);
    }
  }
}
