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
 * Sums are accumulated in f64 per channel, two passes for the variance; the nets this serves
 * have a few thousand pixels and a handful of channels, so one lane at a time is fast enough
 * (the same code in both builds).
 */

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
