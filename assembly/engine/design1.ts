/**
 * Benchmark only (`segloss bench step`, issue #13): the convolutions of the other design the issue
 * proposed — a whole step for ONE run per call, its vectors spanning a layer's channels instead of
 * four runs — so that the two designs are compared on the work that dominates a step (the 3×3
 * convolution forward, its input gradient and its filter gradient; ~90% of a step's
 * multiply-adds). Plain float32 arrays: x [n, h+2, w+2, cin] padded, w [3, 3, cin, f], f and cin
 * multiples of 4 (or cin = 1), four output pixels per weight load, four taps per output load.
 * The training engine does not use these.
 */

// @ts-ignore: decorator
@inline const F4: usize = 4;

/** out[p, co] = Σ_{ky, kx, ci} x[p + (ky, kx), ci] · w[ky, kx, ci, co], vectors over co, four pixels at a time. */
export function design1_conv3x3(x: usize, cin: i32, wt: usize, f: i32, out: usize, n: i32, h: i32, w: i32): void {
  const rowStride = <usize>((w + 2) * cin) << 2;
  const px = <usize>cin << 2;
  const outPx = <usize>f << 2;
  for (let img: i32 = 0; img < n; img++) {
    for (let y: i32 = 0; y < h; y++) {
      const row = x + (<usize>((img * (h + 2) + y) * (w + 2) * cin) << 2);
      const orow = out + (<usize>((img * h + y) * w * f) << 2);
      for (let xx: i32 = 0; xx + 4 <= w; xx += 4) {
        for (let co: i32 = 0; co < f; co += 4) {
          let a0 = f32x4.splat(0);
          let a1 = f32x4.splat(0);
          let a2 = f32x4.splat(0);
          let a3 = f32x4.splat(0);
          let wp = wt + (<usize>co << 2);
          for (let ky: i32 = 0; ky < 3; ky++) {
            let p = row + <usize>ky * rowStride + <usize>xx * px;
            for (let j: i32 = 0; j < 3 * cin; j++) {
              const wv = v128.load(wp);
              a0 = f32x4.add(a0, f32x4.mul(v128.load32_splat(p), wv));
              a1 = f32x4.add(a1, f32x4.mul(v128.load32_splat(p + px), wv));
              a2 = f32x4.add(a2, f32x4.mul(v128.load32_splat(p + 2 * px), wv));
              a3 = f32x4.add(a3, f32x4.mul(v128.load32_splat(p + 3 * px), wv));
              p += F4;
              wp += <usize>f << 2;
            }
          }
          const o = orow + <usize>xx * outPx + (<usize>co << 2);
          v128.store(o, a0);
          v128.store(o + outPx, a1);
          v128.store(o + 2 * outPx, a2);
          v128.store(o + 3 * outPx, a3);
        }
      }
    }
  }
}

/**
 * dx[p, ci] = Σ_{ky, kx, co} dpad[p + (2 − ky, 2 − kx), co] · wT[ky, kx, co, ci] (wT: the weights
 * transposed per tap, made once per step), vectors over ci, four pixels at a time.
 */
export function design1_conv3x3_back_input(dpad: usize, wT: usize, cin: i32, f: i32, dx: usize, n: i32, h: i32, w: i32): void {
  const rowStride = <usize>((w + 2) * f) << 2;
  const px = <usize>f << 2;
  const outPx = <usize>cin << 2;
  for (let img: i32 = 0; img < n; img++) {
    for (let y: i32 = 0; y < h; y++) {
      const corner = dpad + (<usize>(((img * (h + 2) + y + 2) * (w + 2) + 2) * f) << 2);
      const orow = dx + (<usize>((img * h + y) * w * cin) << 2);
      for (let xx: i32 = 0; xx + 4 <= w; xx += 4) {
        for (let ci: i32 = 0; ci < cin; ci += 4) {
          let a0 = f32x4.splat(0);
          let a1 = f32x4.splat(0);
          let a2 = f32x4.splat(0);
          let a3 = f32x4.splat(0);
          for (let ky: i32 = 0; ky < 3; ky++) {
            for (let kx: i32 = 0; kx < 3; kx++) {
              let p = corner + <usize>xx * px - <usize>ky * rowStride - <usize>kx * px;
              let wp = wT + (<usize>(((ky * 3 + kx) * f) * cin + ci) << 2);
              for (let co: i32 = 0; co < f; co++) {
                const wv = v128.load(wp);
                a0 = f32x4.add(a0, f32x4.mul(v128.load32_splat(p), wv));
                a1 = f32x4.add(a1, f32x4.mul(v128.load32_splat(p + px), wv));
                a2 = f32x4.add(a2, f32x4.mul(v128.load32_splat(p + 2 * px), wv));
                a3 = f32x4.add(a3, f32x4.mul(v128.load32_splat(p + 3 * px), wv));
                p += F4;
                wp += <usize>cin << 2;
              }
            }
          }
          const o = orow + <usize>xx * outPx + (<usize>ci << 2);
          v128.store(o, a0);
          v128.store(o + outPx, a1);
          v128.store(o + 2 * outPx, a2);
          v128.store(o + 3 * outPx, a3);
        }
      }
    }
  }
}

/**
 * dw[ky, kx, ci, co] = Σ_p x[p + (ky, kx), ci] · d[p, co] (d padded as dpad), vectors over co,
 * four (tap, ci) pairs per load of d.
 */
export function design1_conv3x3_back_filter(x: usize, cin: i32, dpad: usize, f: i32, dw: usize, n: i32, h: i32, w: i32): void {
  const xRow = <usize>((w + 2) * cin) << 2;
  const xPx = <usize>cin << 2;
  const dRow = <usize>((w + 2) * f) << 2;
  const dPx = <usize>f << 2;
  const taps = 9 * cin;
  if (cin % 4 == 0) {
    // Four channels of one tap per block: the four x values sit side by side (constant offsets).
    for (let t: i32 = 0; t < taps; t += 4) {
      const base = tapOffset(t, cin, xRow, xPx);
      for (let co: i32 = 0; co < f; co += 4) {
        let a0 = f32x4.splat(0);
        let a1 = f32x4.splat(0);
        let a2 = f32x4.splat(0);
        let a3 = f32x4.splat(0);
        for (let img: i32 = 0; img < n; img++) {
          for (let y: i32 = 0; y < h; y++) {
            let xp = x + (<usize>((img * (h + 2) + y) * (w + 2) * cin) << 2) + base;
            let dp = dpad + (<usize>(((img * (h + 2) + y + 1) * (w + 2) + 1) * f + co) << 2);
            for (let xx: i32 = 0; xx < w; xx++) {
              const dv = v128.load(dp);
              a0 = f32x4.add(a0, f32x4.mul(v128.load32_splat(xp), dv));
              a1 = f32x4.add(a1, f32x4.mul(v128.load32_splat(xp, 4), dv));
              a2 = f32x4.add(a2, f32x4.mul(v128.load32_splat(xp, 8), dv));
              a3 = f32x4.add(a3, f32x4.mul(v128.load32_splat(xp, 12), dv));
              xp += xPx;
              dp += dPx;
            }
          }
        }
        v128.store(dw + (<usize>(t * f + co) << 2), a0);
        v128.store(dw + (<usize>((t + 1) * f + co) << 2), a1);
        v128.store(dw + (<usize>((t + 2) * f + co) << 2), a2);
        v128.store(dw + (<usize>((t + 3) * f + co) << 2), a3);
      }
    }
    return;
  }
  for (let t: i32 = 0; t < taps; t += 4) {
    for (let co: i32 = 0; co < f; co += 4) {
      let a0 = f32x4.splat(0);
      let a1 = f32x4.splat(0);
      let a2 = f32x4.splat(0);
      let a3 = f32x4.splat(0);
      // Offsets of the four (tap, ci) in x.
      const o0 = tapOffset(t, cin, xRow, xPx);
      const o1 = tapOffset(min<i32>(t + 1, taps - 1), cin, xRow, xPx);
      const o2 = tapOffset(min<i32>(t + 2, taps - 1), cin, xRow, xPx);
      const o3 = tapOffset(min<i32>(t + 3, taps - 1), cin, xRow, xPx);
      for (let img: i32 = 0; img < n; img++) {
        for (let y: i32 = 0; y < h; y++) {
          let xp = x + (<usize>((img * (h + 2) + y) * (w + 2) * cin) << 2);
          let dp = dpad + (<usize>(((img * (h + 2) + y + 1) * (w + 2) + 1) * f + co) << 2);
          for (let xx: i32 = 0; xx < w; xx++) {
            const dv = v128.load(dp);
            a0 = f32x4.add(a0, f32x4.mul(v128.load32_splat(xp + o0), dv));
            a1 = f32x4.add(a1, f32x4.mul(v128.load32_splat(xp + o1), dv));
            a2 = f32x4.add(a2, f32x4.mul(v128.load32_splat(xp + o2), dv));
            a3 = f32x4.add(a3, f32x4.mul(v128.load32_splat(xp + o3), dv));
            xp += xPx;
            dp += dPx;
          }
        }
      }
      v128.store(dw + (<usize>(t * f + co) << 2), a0);
      if (t + 1 < taps) v128.store(dw + (<usize>((t + 1) * f + co) << 2), a1);
      if (t + 2 < taps) v128.store(dw + (<usize>((t + 2) * f + co) << 2), a2);
      if (t + 3 < taps) v128.store(dw + (<usize>((t + 3) * f + co) << 2), a3);
    }
  }
}

// @ts-ignore: decorator
@inline function tapOffset(t: i32, cin: i32, xRow: usize, xPx: usize): usize {
  const tap = t / cin;
  const ci = t - tap * cin;
  return <usize>(tap / 3) * xRow + <usize>(tap % 3) * xPx + (<usize>ci << 2);
}
