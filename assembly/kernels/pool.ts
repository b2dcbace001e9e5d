/**
 * MaxPoolGrad for windows that do not overlap (filter = stride, no dilation, no padding: the
 * 2×2 / stride-2 pooling of U-Nets): each input position belongs to at most one window, so dx is
 * dy at the window's max position and 0 elsewhere. The max position is tfjs's: the first position,
 * in row-major window order, whose value is strictly greater than every earlier one (from −∞), so
 * a window of NaN or −∞ only passes no gradient. Four channels per f32x4; the scalar loop takes
 * the rest (and the scalar build).
 *
 * @param x   input [N, H, W, C] (H, W at least the windows' extent)
 * @param dy  [N, OH, OW, C]
 * @param dx  output [N, H, W, C], written whole
 */
export function maxpool_grad_disjoint(
  x: usize, dy: usize, dx: usize, n: i32, h: i32, w: i32, c: i32, oh: i32, ow: i32, fh: i32, fw: i32,
): void {
  const rowBytes = <usize>(w * c) << 2;
  memory.fill(dx, 0, <usize>n * <usize>h * rowBytes);
  const pixel = <usize>c << 2;
  for (let b: i32 = 0; b < n; b++) {
    for (let yr: i32 = 0; yr < oh; yr++) {
      for (let yc: i32 = 0; yc < ow; yc++) {
        const corner = (<usize>(b * h + yr * fh) * <usize>w + <usize>(yc * fw)) * pixel;
        const g = dy + (<usize>((b * oh + yr) * ow + yc) * pixel);
        let d: i32 = 0;
        if (ASC_FEATURE_SIMD) {
          for (; d + 4 <= c; d += 4) {
            const o = <usize>d << 2;
            let best = f32x4.splat(-Infinity);
            let at = i32x4.splat(-1);
            for (let r: i32 = 0; r < fh; r++) {
              for (let s: i32 = 0; s < fw; s++) {
                const v = v128.load(x + corner + <usize>r * rowBytes + <usize>s * pixel + o);
                const gt = f32x4.gt(v, best);
                best = v128.bitselect(v, best, gt);
                at = v128.bitselect(i32x4.splat(r * fw + s), at, gt);
              }
            }
            const gv = v128.load(g + o);
            for (let r: i32 = 0; r < fh; r++) {
              for (let s: i32 = 0; s < fw; s++) {
                v128.store(dx + corner + <usize>r * rowBytes + <usize>s * pixel + o,
                  v128.and(gv, i32x4.eq(at, i32x4.splat(r * fw + s))));
              }
            }
          }
        }
        for (; d < c; d++) {
          const o = <usize>d << 2;
          let best: f32 = -Infinity;
          let at: i32 = -1;
          for (let r: i32 = 0; r < fh; r++) {
            for (let s: i32 = 0; s < fw; s++) {
              const v = load<f32>(x + corner + <usize>r * rowBytes + <usize>s * pixel + o);
              if (v > best) {
                best = v;
                at = r * fw + s;
              }
            }
          }
          if (at >= 0) store<f32>(dx + corner + <usize>(at / fw) * rowBytes + <usize>(at % fw) * pixel + o, load<f32>(g + o));
        }
      }
    }
  }
}
