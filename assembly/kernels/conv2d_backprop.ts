/**
 * The convolution gradients tfjs-backend-wasm 4.22 lacks, NHWC, float32, in place on its memory:
 * Conv2DBackpropFilter, DepthwiseConv2dNativeBackpropFilter and DepthwiseConv2dNativeBackpropInput.
 *
 * Geometry (tfjs's computeConv2DInfo gives every number; the JS side passes them): input x
 * [N, H, W, Cin], output y [N, OH, OW, Cout], filter [FH, FW, Cin, Cout] (depthwise: [FH, FW,
 * Cin, M], Cout = Cin·M, output channel q = ci·M + m). Output pixel (oh, ow) and tap (kh, kw) read
 * input pixel
 *   ih = oh·SH + kh·DH − PT,   iw = ow·SW + kw·DW − PL            (outside [0,H)×[0,W): zero padding)
 *
 * Backprop filter (dy = ∂L/∂y):
 *   conv:      ∂L/∂w[kh,kw,ci,co] = Σ_{n,oh,ow} x[n,ih,iw,ci] · dy[n,oh,ow,co]
 *   depthwise: ∂L/∂w[kh,kw,ci,m]  = Σ_{n,oh,ow} x[n,ih,iw,ci] · dy[n,oh,ow,ci·M+m]
 * computed one output row (n, oh) at a time: for each tap the ow whose iw falls inside the image
 * form one segment, computed once, so inner loops carry no bounds test, and the row's x and dy
 * stay in L1 while every tap reads them. Sums are in f32, like tfjs's own kernels.
 *
 * Backprop input, depthwise:
 *   ∂L/∂x[n,ih,iw,ci] = Σ_{oh,ow,kh,kw: ih,iw as above} Σ_m dy[n,oh,ow,ci·M+m] · w[kh,kw,ci,m]
 * computed by scattering each output row's contribution, segment by segment, into the zeroed dx.
 *
 * The scalar build (and channel counts that are not multiples of 4) run the same loops one lane
 * at a time.
 */

/** First output index o ≥ 0 with o·stride + offset ≥ 0. */
// @ts-ignore: decorator
@inline function first_valid(offset: i32, stride: i32): i32 {
  return offset >= 0 ? 0 : (-offset + stride - 1) / stride;
}

/** One past the last output index o < outSize with o·stride + offset < size. */
// @ts-ignore: decorator
@inline function end_valid(offset: i32, stride: i32, size: i32, outSize: i32): i32 {
  const last = size - 1 - offset;
  return last < 0 ? 0 : min<i32>(outSize, last / stride + 1);
}

/**
 * ∂L/∂w of a 2-D convolution.
 *
 * Blocked by output row: for each (n, oh) the rows of x and dy it touches sit in L1 while every
 * tap (kh, kw) and input channel reads them, and ∂L/∂w (FH·FW·Cin·Cout floats, L1-sized for the
 * nets this serves) accumulates in place. The innermost loop runs along the row (ow) with
 * register accumulators for a block of filter elements: 2 input channels × 16 output channels
 * (8 f32x4 chains) when Cout is a multiple of 16, else 4 input channels × 4 output channels; enough
 * independent chains to hide the add latency, and each dy vector load is shared by the block.
 *
 * @param x  address of x [N, H, W, Cin]
 * @param dy address of dy [N, OH, OW, Cout]
 * @param dw address of the output [FH, FW, Cin, Cout]
 */
export function conv2d_backprop_filter(
  x: usize, dy: usize, dw: usize, batch: i32, inH: i32, inW: i32, inC: i32, outH: i32, outW: i32,
  outC: i32, filterH: i32, filterW: i32, strideH: i32, strideW: i32, dilationH: i32, dilationW: i32,
  padTop: i32, padLeft: i32,
): void {
  const xRow = <usize>inC << 2;
  const dyRow = <usize>outC << 2;
  memory.fill(dw, 0, <usize>(filterH * filterW * inC) * dyRow);
  for (let n: i32 = 0; n < batch; n++) {
    for (let oh: i32 = 0; oh < outH; oh++) {
      const dyLine = dy + (<usize>(n * outH + oh) * <usize>outW) * dyRow;
      for (let kh: i32 = 0; kh < filterH; kh++) {
        const ih = oh * strideH + kh * dilationH - padTop;
        if (<u32>ih >= <u32>inH) continue;
        const xLine = x + (<usize>(n * inH + ih) * <usize>inW) * xRow;
        for (let kw: i32 = 0; kw < filterW; kw++) {
          const offW = kw * dilationW - padLeft;
          const owLo = first_valid(offW, strideW);
          const owHi = end_valid(offW, strideW, inW, outW);
          if (owHi <= owLo) continue;
          const tap = dw + (<usize>((kh * filterW + kw) * inC) * dyRow);
          // Row segment: x at (owLo·SW + offW), stepping SW pixels; dy at owLo, stepping 1.
          const xs = xLine + <usize>(owLo * strideW + offW) * xRow;
          const ds = dyLine + <usize>owLo * dyRow;
          const count = owHi - owLo;
          const xStep = <usize>strideW * xRow;
          let co: i32 = 0;
          if (ASC_FEATURE_SIMD) {
            for (; co + 16 <= outC; co += 16) {
              let ci: i32 = 0;
              for (; ci + 2 <= inC; ci += 2) {
                dw_block_2x16(xs + (<usize>ci << 2), ds + (<usize>co << 2), tap + <usize>ci * dyRow + (<usize>co << 2), dyRow, count, xStep, dyRow);
              }
              for (; ci < inC; ci++) {
                for (let v: i32 = 0; v < 16; v += 4) {
                  dw_block_1x4(xs + (<usize>ci << 2), ds + (<usize>(co + v) << 2), tap + <usize>ci * dyRow + (<usize>(co + v) << 2), dyRow, count, xStep, dyRow, 1);
                }
              }
            }
            for (; co + 4 <= outC; co += 4) {
              let ci: i32 = 0;
              for (; ci + 4 <= inC; ci += 4) {
                dw_block_1x4(xs + (<usize>ci << 2), ds + (<usize>co << 2), tap + <usize>ci * dyRow + (<usize>co << 2), dyRow, count, xStep, dyRow, 4);
              }
              for (; ci < inC; ci++) {
                dw_block_1x4(xs + (<usize>ci << 2), ds + (<usize>co << 2), tap + <usize>ci * dyRow + (<usize>co << 2), dyRow, count, xStep, dyRow, 1);
              }
            }
          }
          for (; co < outC; co++) {
            for (let ci: i32 = 0; ci < inC; ci++) {
              let xp = xs + (<usize>ci << 2);
              let dp = ds + (<usize>co << 2);
              let acc: f32 = 0;
              for (let j: i32 = 0; j < count; j++) {
                acc += load<f32>(xp) * load<f32>(dp);
                xp += xStep;
                dp += dyRow;
              }
              const at = tap + <usize>ci * dyRow + (<usize>co << 2);
              store<f32>(at, load<f32>(at) + acc);
            }
          }
        }
      }
    }
  }
}

/**
 * dW[ci..ci+1][co..co+15] += Σ_j x[j][ci..ci+1] · dy[j][co..co+15] along one row segment:
 * 8 accumulators, 4 dy loads and 2 broadcasts per step.
 */
// @ts-ignore: decorator
@inline function dw_block_2x16(xp: usize, dp: usize, out: usize, outStride: usize, count: i32, xStep: usize, dyStep: usize): void {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  let b0 = f32x4.splat(0), b1 = f32x4.splat(0), b2 = f32x4.splat(0), b3 = f32x4.splat(0);
  for (let j: i32 = 0; j < count; j++) {
    const d0 = v128.load(dp);
    const d1 = v128.load(dp, 16);
    const d2 = v128.load(dp, 32);
    const d3 = v128.load(dp, 48);
    const u = v128.load32_splat(xp);
    const w = v128.load32_splat(xp, 4);
    a0 = f32x4.add(a0, f32x4.mul(u, d0));
    a1 = f32x4.add(a1, f32x4.mul(u, d1));
    a2 = f32x4.add(a2, f32x4.mul(u, d2));
    a3 = f32x4.add(a3, f32x4.mul(u, d3));
    b0 = f32x4.add(b0, f32x4.mul(w, d0));
    b1 = f32x4.add(b1, f32x4.mul(w, d1));
    b2 = f32x4.add(b2, f32x4.mul(w, d2));
    b3 = f32x4.add(b3, f32x4.mul(w, d3));
    xp += xStep;
    dp += dyStep;
  }
  v128.store(out, f32x4.add(v128.load(out), a0));
  v128.store(out, f32x4.add(v128.load(out, 16), a1), 16);
  v128.store(out, f32x4.add(v128.load(out, 32), a2), 32);
  v128.store(out, f32x4.add(v128.load(out, 48), a3), 48);
  const o2 = out + outStride;
  v128.store(o2, f32x4.add(v128.load(o2), b0));
  v128.store(o2, f32x4.add(v128.load(o2, 16), b1), 16);
  v128.store(o2, f32x4.add(v128.load(o2, 32), b2), 32);
  v128.store(o2, f32x4.add(v128.load(o2, 48), b3), 48);
}

/**
 * dW[ci..ci+k−1][co..co+3] += Σ_j x[j][ci..] · dy[j][co..co+3] for k = `channels` ∈ {1, 4} input
 * channels: k accumulators sharing one dy load per step.
 */
// @ts-ignore: decorator
@inline function dw_block_1x4(xp: usize, dp: usize, out: usize, outStride: usize, count: i32, xStep: usize, dyStep: usize, channels: i32): void {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  if (channels == 4) {
    for (let j: i32 = 0; j < count; j++) {
      const d = v128.load(dp);
      a0 = f32x4.add(a0, f32x4.mul(v128.load32_splat(xp), d));
      a1 = f32x4.add(a1, f32x4.mul(v128.load32_splat(xp, 4), d));
      a2 = f32x4.add(a2, f32x4.mul(v128.load32_splat(xp, 8), d));
      a3 = f32x4.add(a3, f32x4.mul(v128.load32_splat(xp, 12), d));
      xp += xStep;
      dp += dyStep;
    }
    v128.store(out + outStride, f32x4.add(v128.load(out + outStride), a1));
    v128.store(out + 2 * outStride, f32x4.add(v128.load(out + 2 * outStride), a2));
    v128.store(out + 3 * outStride, f32x4.add(v128.load(out + 3 * outStride), a3));
  } else {
    for (let j: i32 = 0; j < count; j++) {
      a0 = f32x4.add(a0, f32x4.mul(v128.load32_splat(xp), v128.load(dp)));
      xp += xStep;
      dp += dyStep;
    }
  }
  v128.store(out, f32x4.add(v128.load(out), a0));
}

/**
 * ∂L/∂w of a depthwise 2-D convolution with channel multiplier M.
 *
 * Blocked by output row like `conv2d_backprop_filter`; with M = 1 the inner loop multiplies
 * x and dy channel vectors lane by lane, four vectors (16 channels) of accumulators at a time.
 *
 * @param x  address of x [N, H, W, Cin]
 * @param dy address of dy [N, OH, OW, Cin·M]
 * @param dw address of the output [FH, FW, Cin, M]
 */
export function depthwise_conv2d_backprop_filter(
  x: usize, dy: usize, dw: usize, batch: i32, inH: i32, inW: i32, inC: i32, outH: i32, outW: i32,
  multiplier: i32, filterH: i32, filterW: i32, strideH: i32, strideW: i32, dilationH: i32,
  dilationW: i32, padTop: i32, padLeft: i32,
): void {
  const outC = inC * multiplier;
  const xRow = <usize>inC << 2;
  const dyRow = <usize>outC << 2;
  memory.fill(dw, 0, <usize>(filterH * filterW) * dyRow);
  for (let n: i32 = 0; n < batch; n++) {
    for (let oh: i32 = 0; oh < outH; oh++) {
      const dyLine = dy + (<usize>(n * outH + oh) * <usize>outW) * dyRow;
      for (let kh: i32 = 0; kh < filterH; kh++) {
        const ih = oh * strideH + kh * dilationH - padTop;
        if (<u32>ih >= <u32>inH) continue;
        const xLine = x + (<usize>(n * inH + ih) * <usize>inW) * xRow;
        for (let kw: i32 = 0; kw < filterW; kw++) {
          const offW = kw * dilationW - padLeft;
          const owLo = first_valid(offW, strideW);
          const owHi = end_valid(offW, strideW, inW, outW);
          if (owHi <= owLo) continue;
          const tap = dw + <usize>(kh * filterW + kw) * dyRow;
          const xs = xLine + <usize>(owLo * strideW + offW) * xRow;
          const ds = dyLine + <usize>owLo * dyRow;
          const count = owHi - owLo;
          const xStep = <usize>strideW * xRow;
          let q: i32 = 0;
          if (ASC_FEATURE_SIMD) {
            // M = 1: output channel q reads input channel q.
            if (multiplier == 1) {
              for (; q + 4 <= outC; q += 4) {
                const span = min<i32>(4, (outC - q) >> 2);
                dwise_block(xs + (<usize>q << 2), ds + (<usize>q << 2), tap + (<usize>q << 2), count, xStep, dyRow, span);
                q += (span - 1) << 2;
              }
            }
          }
          for (; q < outC; q++) {
            let xp = xs + (<usize>(q / multiplier) << 2);
            let dp = ds + (<usize>q << 2);
            let acc: f32 = 0;
            for (let j: i32 = 0; j < count; j++) {
              acc += load<f32>(xp) * load<f32>(dp);
              xp += xStep;
              dp += dyRow;
            }
            const at = tap + (<usize>q << 2);
            store<f32>(at, load<f32>(at) + acc);
          }
        }
      }
    }
  }
}

/** dW[q..q+4·span−1] += Σ_j x[j][q..] ⊙ dy[j][q..] along a row segment, span ∈ 1..4 vectors. */
// @ts-ignore: decorator
@inline function dwise_block(xp: usize, dp: usize, out: usize, count: i32, xStep: usize, dyStep: usize, span: i32): void {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  for (let j: i32 = 0; j < count; j++) {
    a0 = f32x4.add(a0, f32x4.mul(v128.load(xp), v128.load(dp)));
    if (span > 1) a1 = f32x4.add(a1, f32x4.mul(v128.load(xp, 16), v128.load(dp, 16)));
    if (span > 2) a2 = f32x4.add(a2, f32x4.mul(v128.load(xp, 32), v128.load(dp, 32)));
    if (span > 3) a3 = f32x4.add(a3, f32x4.mul(v128.load(xp, 48), v128.load(dp, 48)));
    xp += xStep;
    dp += dyStep;
  }
  v128.store(out, f32x4.add(v128.load(out), a0));
  if (span > 1) v128.store(out, f32x4.add(v128.load(out, 16), a1), 16);
  if (span > 2) v128.store(out, f32x4.add(v128.load(out, 32), a2), 32);
  if (span > 3) v128.store(out, f32x4.add(v128.load(out, 48), a3), 48);
}

/**
 * ∂L/∂x of a depthwise 2-D convolution with channel multiplier M.
 *
 * Each output row (n, oh) scatters into the input rows its taps read: for tap (kh, kw) the valid
 * ow form one segment, and dx[n, ih, iw, :] += dy[n, oh, ow, :] ⊙ w[kh, kw, :] along it (summed
 * over m for M > 1), channel vectors at a time when M = 1.
 *
 * @param dy address of dy [N, OH, OW, Cin·M]
 * @param w  address of the filter [FH, FW, Cin, M]
 * @param dx address of the output [N, H, W, Cin] (overwritten)
 */
export function depthwise_conv2d_backprop_input(
  dy: usize, w: usize, dx: usize, batch: i32, inH: i32, inW: i32, inC: i32, outH: i32, outW: i32,
  multiplier: i32, filterH: i32, filterW: i32, strideH: i32, strideW: i32, dilationH: i32,
  dilationW: i32, padTop: i32, padLeft: i32,
): void {
  const outC = inC * multiplier;
  const xRow = <usize>inC << 2;
  const dyRow = <usize>outC << 2;
  memory.fill(dx, 0, <usize>batch * <usize>inH * <usize>inW * xRow);
  for (let n: i32 = 0; n < batch; n++) {
    for (let oh: i32 = 0; oh < outH; oh++) {
      const dyLine = dy + (<usize>(n * outH + oh) * <usize>outW) * dyRow;
      for (let kh: i32 = 0; kh < filterH; kh++) {
        const ih = oh * strideH + kh * dilationH - padTop;
        if (<u32>ih >= <u32>inH) continue;
        const xLine = dx + (<usize>(n * inH + ih) * <usize>inW) * xRow;
        for (let kw: i32 = 0; kw < filterW; kw++) {
          const offW = kw * dilationW - padLeft;
          const owLo = first_valid(offW, strideW);
          const owHi = end_valid(offW, strideW, inW, outW);
          if (owHi <= owLo) continue;
          const wp = w + <usize>(kh * filterW + kw) * dyRow;
          const xs = xLine + <usize>(owLo * strideW + offW) * xRow;
          const ds = dyLine + <usize>owLo * dyRow;
          const count = owHi - owLo;
          const xStep = <usize>strideW * xRow;
          let ci: i32 = 0;
          if (ASC_FEATURE_SIMD) {
            if (inC == 1 && multiplier == 1 && strideW == 1) {
              // One channel, unit stride: dx and dy segments are contiguous, four pixels per vector.
              const wv = v128.load32_splat(wp);
              let j: i32 = 0;
              for (; j + 4 <= count; j += 4) {
                const o = <usize>j << 2;
                v128.store(xs + o, f32x4.add(v128.load(xs + o), f32x4.mul(v128.load(ds + o), wv)));
              }
              for (; j < count; j++) {
                const o = <usize>j << 2;
                store<f32>(xs + o, load<f32>(xs + o) + load<f32>(ds + o) * load<f32>(wp));
              }
              continue;
            }
            if (multiplier == 1) {
              for (; ci + 4 <= inC; ci += 4) {
                const o = <usize>ci << 2;
                const wv = v128.load(wp + o);
                let xp = xs + o;
                let dp = ds + o;
                for (let j: i32 = 0; j < count; j++) {
                  v128.store(xp, f32x4.add(v128.load(xp), f32x4.mul(v128.load(dp), wv)));
                  xp += xStep;
                  dp += dyRow;
                }
              }
            }
          }
          for (; ci < inC; ci++) {
            let xp = xs + (<usize>ci << 2);
            let dp = ds + (<usize>(ci * multiplier) << 2);
            const wc = wp + (<usize>(ci * multiplier) << 2);
            for (let j: i32 = 0; j < count; j++) {
              let s: f32 = 0;
              for (let m: i32 = 0; m < multiplier; m++) {
                s += load<f32>(dp + (<usize>m << 2)) * load<f32>(wc + (<usize>m << 2));
              }
              store<f32>(xp, load<f32>(xp) + s);
              xp += xStep;
              dp += dyRow;
            }
          }
        }
      }
    }
  }
}

/**
 * One segment of an input-gradient scatter: for `count` output positions (dy rows `dyRow` apart,
 * their dx rows `xStep` apart) dx[ci] += Σ_co dy[co] · wT[co, ci], over a tap's transposed filter
 * `tap` [Cout, Cin]: sixteen input channels per broadcast dy value, then four, then one. Each dx
 * value adds its terms in co order whatever the blocking.
 */
function scatterSegment(xp: usize, dp: usize, tap: usize, count: i32, inC: i32, outC: i32, xStep: usize, dyRow: usize): void {
  const xRow = <usize>inC << 2;
  for (let j: i32 = 0; j < count; j++) {
    let ci: i32 = 0;
    if (ASC_FEATURE_SIMD) {
      for (; ci + 16 <= inC; ci += 16) {
        const o = <usize>ci << 2;
        let a0 = v128.load(xp + o);
        let a1 = v128.load(xp + o, 16);
        let a2 = v128.load(xp + o, 32);
        let a3 = v128.load(xp + o, 48);
        let wp = tap + o;
        for (let co: i32 = 0; co < outC; co++) {
          const dv = v128.load32_splat(dp + (<usize>co << 2));
          a0 = f32x4.add(a0, f32x4.mul(dv, v128.load(wp)));
          a1 = f32x4.add(a1, f32x4.mul(dv, v128.load(wp, 16)));
          a2 = f32x4.add(a2, f32x4.mul(dv, v128.load(wp, 32)));
          a3 = f32x4.add(a3, f32x4.mul(dv, v128.load(wp, 48)));
          wp += xRow;
        }
        v128.store(xp + o, a0);
        v128.store(xp + o, a1, 16);
        v128.store(xp + o, a2, 32);
        v128.store(xp + o, a3, 48);
      }
      for (; ci + 4 <= inC; ci += 4) {
        const o = <usize>ci << 2;
        let acc = v128.load(xp + o);
        for (let co: i32 = 0; co < outC; co++) {
          acc = f32x4.add(acc, f32x4.mul(v128.load32_splat(dp + (<usize>co << 2)), v128.load(tap + <usize>co * xRow + o)));
        }
        v128.store(xp + o, acc);
      }
    }
    for (; ci < inC; ci++) {
      const o = <usize>ci << 2;
      let acc = load<f32>(xp + o);
      for (let co: i32 = 0; co < outC; co++) {
        acc += load<f32>(dp + (<usize>co << 2)) * load<f32>(tap + <usize>co * xRow + o);
      }
      store<f32>(xp + o, acc);
    }
    xp += xStep;
    dp += dyRow;
  }
}

/**
 * ∂L/∂x of a 2-D convolution:
 *   ∂L/∂x[n,ih,iw,ci] = Σ_{oh,ow,kh,kw: ih,iw as above} Σ_co dy[n,oh,ow,co] · w[kh,kw,ci,co]
 * scattered output row by output row and segment by segment, like the depthwise case. The filter
 * is first transposed into `wT` [FH, FW, Cout, Cin] so that for each dy channel the Cin weights it
 * spreads over are contiguous: four input channels per f32x4, one broadcast dy value each.
 *
 * @param dy address of dy [N, OH, OW, Cout]
 * @param w  address of the filter [FH, FW, Cin, Cout]
 * @param dx address of the output [N, H, W, Cin] (overwritten)
 * @param wT address of FH·FW·Cin·Cout floats of scratch
 */
export function conv2d_backprop_input(
  dy: usize, w: usize, dx: usize, wT: usize, batch: i32, inH: i32, inW: i32, inC: i32, outH: i32,
  outW: i32, outC: i32, filterH: i32, filterW: i32, strideH: i32, strideW: i32, dilationH: i32,
  dilationW: i32, padTop: i32, padLeft: i32,
): void {
  const xRow = <usize>inC << 2;
  const dyRow = <usize>outC << 2;
  const taps = filterH * filterW;
  for (let t: i32 = 0; t < taps; t++) {
    for (let ci: i32 = 0; ci < inC; ci++) {
      for (let co: i32 = 0; co < outC; co++) {
        store<f32>(wT + ((<usize>((t * outC + co) * inC + ci)) << 2), load<f32>(w + ((<usize>((t * inC + ci) * outC + co)) << 2)));
      }
    }
  }
  memory.fill(dx, 0, <usize>batch * <usize>inH * <usize>inW * xRow);
  for (let n: i32 = 0; n < batch; n++) {
    for (let oh: i32 = 0; oh < outH; oh++) {
      const dyLine = dy + (<usize>(n * outH + oh) * <usize>outW) * dyRow;
      for (let kh: i32 = 0; kh < filterH; kh++) {
        const ih = oh * strideH + kh * dilationH - padTop;
        if (<u32>ih >= <u32>inH) continue;
        const xLine = dx + (<usize>(n * inH + ih) * <usize>inW) * xRow;
        for (let kw: i32 = 0; kw < filterW; kw++) {
          const offW = kw * dilationW - padLeft;
          const owLo = first_valid(offW, strideW);
          const owHi = end_valid(offW, strideW, inW, outW);
          if (owHi <= owLo) continue;
          scatterSegment(xLine + <usize>(owLo * strideW + offW) * xRow, dyLine + <usize>owLo * dyRow,
            wT + (<usize>((kh * filterW + kw) * outC) * xRow), owHi - owLo, inC, outC, <usize>strideW * xRow, dyRow);
        }
      }
    }
  }
}

/**
 * ∂L/∂x of a 3-D convolution (also the forward pass of conv3dTranspose), the 2-D kernel above with
 * a depth axis: for each output plane od and filter depth kd, the input plane id = od·sd + kd − pad
 * receives, row by row and segment by segment, Σ_co dy[n,od,oh,ow,co] · w[kd,kh,kw,ci,co]; sixteen
 * (then four) input channels per broadcast dy value over the filter transposed into `wT`
 * [FD, FH, FW, Cout, Cin].
 * tfjs-backend-wasm 4.22's own Conv3DBackpropInputV2 gives wrong values (bench/RESULTS.md, issue #14).
 *
 * @param dy address of dy [N, OD, OH, OW, Cout]
 * @param w  address of the filter [FD, FH, FW, Cin, Cout]
 * @param dx address of the output [N, D, H, W, Cin] (overwritten)
 * @param wT address of FD·FH·FW·Cin·Cout floats of scratch
 */
export function conv3d_backprop_input(
  dy: usize, w: usize, dx: usize, wT: usize, batch: i32, inD: i32, inH: i32, inW: i32, inC: i32,
  outD: i32, outH: i32, outW: i32, outC: i32, filterD: i32, filterH: i32, filterW: i32,
  strideD: i32, strideH: i32, strideW: i32, padFront: i32, padTop: i32, padLeft: i32,
): void {
  const xRow = <usize>inC << 2;
  const dyRow = <usize>outC << 2;
  const taps = filterD * filterH * filterW;
  for (let t: i32 = 0; t < taps; t++) {
    for (let ci: i32 = 0; ci < inC; ci++) {
      for (let co: i32 = 0; co < outC; co++) {
        store<f32>(wT + ((<usize>((t * outC + co) * inC + ci)) << 2), load<f32>(w + ((<usize>((t * inC + ci) * outC + co)) << 2)));
      }
    }
  }
  memory.fill(dx, 0, <usize>batch * <usize>inD * <usize>inH * <usize>inW * xRow);
  for (let n: i32 = 0; n < batch; n++) {
    for (let od: i32 = 0; od < outD; od++) {
      for (let kd: i32 = 0; kd < filterD; kd++) {
        const id = od * strideD + kd - padFront;
        if (<u32>id >= <u32>inD) continue;
        for (let oh: i32 = 0; oh < outH; oh++) {
          const dyLine = dy + (<usize>((n * outD + od) * outH + oh) * <usize>outW) * dyRow;
          for (let kh: i32 = 0; kh < filterH; kh++) {
            const ih = oh * strideH + kh - padTop;
            if (<u32>ih >= <u32>inH) continue;
            const xLine = dx + (<usize>((n * inD + id) * inH + ih) * <usize>inW) * xRow;
            for (let kw: i32 = 0; kw < filterW; kw++) {
              const offW = kw - padLeft;
              const owLo = first_valid(offW, strideW);
              const owHi = end_valid(offW, strideW, inW, outW);
              if (owHi <= owLo) continue;
              scatterSegment(xLine + <usize>(owLo * strideW + offW) * xRow, dyLine + <usize>owLo * dyRow,
                wT + (<usize>(((kd * filterH + kh) * filterW + kw) * outC) * xRow), owHi - owLo, inC, outC, <usize>strideW * xRow, dyRow);
            }
          }
        }
      }
    }
  }
}

/**
 * ∂L/∂w of a 3-D convolution: ∂L/∂w[kd,kh,kw,ci,co] = Σ_{n,od,oh,ow} x[n,id,ih,iw,ci] · dy[n,od,oh,ow,co]
 * with (id, ih, iw) = (od, oh, ow)·stride + (kd, kh, kw) − pad. Blocked by output plane (n, od)
 * and filter depth kd, whose rows of x and dy stay in cache: for each tap (kh, kw) and input
 * channel, sixteen output channels (four f32x4) accumulate in registers over the plane (one
 * broadcast x value, four dy vectors per position) and are added into dw once; the rest one
 * vector, then one lane, at a time. tfjs-backend-wasm 4.22's own Conv3DBackpropFilterV2 is wrong
 * for strides above 1 (bench/RESULTS.md, issue #14).
 *
 * @param x  address of x [N, D, H, W, Cin]
 * @param dy address of dy [N, OD, OH, OW, Cout]
 * @param dw address of the output [FD, FH, FW, Cin, Cout] (overwritten)
 */
export function conv3d_backprop_filter(
  x: usize, dy: usize, dw: usize, batch: i32, inD: i32, inH: i32, inW: i32, inC: i32,
  outD: i32, outH: i32, outW: i32, outC: i32, filterD: i32, filterH: i32, filterW: i32,
  strideD: i32, strideH: i32, strideW: i32, padFront: i32, padTop: i32, padLeft: i32,
): void {
  const xRow = <usize>inC << 2;
  const dyRow = <usize>outC << 2;
  memory.fill(dw, 0, <usize>(filterD * filterH * filterW * inC) * dyRow);
  for (let n: i32 = 0; n < batch; n++) {
    for (let od: i32 = 0; od < outD; od++) {
      const dyPlane = dy + (<usize>((n * outD + od) * outH) * <usize>outW) * dyRow;
      for (let kd: i32 = 0; kd < filterD; kd++) {
        const id = od * strideD + kd - padFront;
        if (<u32>id >= <u32>inD) continue;
        const xPlane = x + (<usize>((n * inD + id) * inH) * <usize>inW) * xRow;
        for (let kh: i32 = 0; kh < filterH; kh++) {
          // Output rows oh whose input row oh·sh + kh − padTop is inside.
          const ohLo = first_valid(kh - padTop, strideH);
          const ohHi = end_valid(kh - padTop, strideH, inH, outH);
          if (ohHi <= ohLo) continue;
          for (let kw: i32 = 0; kw < filterW; kw++) {
            const offW = kw - padLeft;
            const owLo = first_valid(offW, strideW);
            const owHi = end_valid(offW, strideW, inW, outW);
            if (owHi <= owLo) continue;
            const tap = dw + (<usize>((kd * filterH + kh) * filterW + kw) * <usize>inC) * dyRow;
            for (let ci: i32 = 0; ci < inC; ci++) {
              const row = tap + <usize>ci * dyRow;
              const xc = xPlane + (<usize>ci << 2);
              let co: i32 = 0;
              if (ASC_FEATURE_SIMD) {
                for (; co + 16 <= outC; co += 16) {
                  const o = <usize>co << 2;
                  let a0 = f32x4.splat(0);
                  let a1 = f32x4.splat(0);
                  let a2 = f32x4.splat(0);
                  let a3 = f32x4.splat(0);
                  for (let oh = ohLo; oh < ohHi; oh++) {
                    let xp = xc + (<usize>(oh * strideH + kh - padTop) * <usize>inW + <usize>(owLo * strideW + offW)) * xRow;
                    let dp = dyPlane + (<usize>oh * <usize>outW + <usize>owLo) * dyRow + o;
                    const xStep = <usize>strideW * xRow;
                    for (let ow = owLo; ow < owHi; ow++) {
                      const xv = v128.load32_splat(xp);
                      a0 = f32x4.add(a0, f32x4.mul(xv, v128.load(dp)));
                      a1 = f32x4.add(a1, f32x4.mul(xv, v128.load(dp, 16)));
                      a2 = f32x4.add(a2, f32x4.mul(xv, v128.load(dp, 32)));
                      a3 = f32x4.add(a3, f32x4.mul(xv, v128.load(dp, 48)));
                      xp += xStep;
                      dp += dyRow;
                    }
                  }
                  v128.store(row + o, f32x4.add(v128.load(row + o), a0));
                  v128.store(row + o, f32x4.add(v128.load(row + o, 16), a1), 16);
                  v128.store(row + o, f32x4.add(v128.load(row + o, 32), a2), 32);
                  v128.store(row + o, f32x4.add(v128.load(row + o, 48), a3), 48);
                }
                for (; co + 4 <= outC; co += 4) {
                  const o = <usize>co << 2;
                  let a = f32x4.splat(0);
                  for (let oh = ohLo; oh < ohHi; oh++) {
                    let xp = xc + (<usize>(oh * strideH + kh - padTop) * <usize>inW + <usize>(owLo * strideW + offW)) * xRow;
                    let dp = dyPlane + (<usize>oh * <usize>outW + <usize>owLo) * dyRow + o;
                    const xStep = <usize>strideW * xRow;
                    for (let ow = owLo; ow < owHi; ow++) {
                      a = f32x4.add(a, f32x4.mul(v128.load32_splat(xp), v128.load(dp)));
                      xp += xStep;
                      dp += dyRow;
                    }
                  }
                  v128.store(row + o, f32x4.add(v128.load(row + o), a));
                }
              }
              for (; co < outC; co++) {
                const o = <usize>co << 2;
                let a: f32 = 0;
                for (let oh = ohLo; oh < ohHi; oh++) {
                  let xp = xc + (<usize>(oh * strideH + kh - padTop) * <usize>inW + <usize>(owLo * strideW + offW)) * xRow;
                  let dp = dyPlane + (<usize>oh * <usize>outW + <usize>owLo) * dyRow + o;
                  const xStep = <usize>strideW * xRow;
                  for (let ow = owLo; ow < owHi; ow++) {
                    a += load<f32>(xp) * load<f32>(dp);
                    xp += xStep;
                    dp += dyRow;
                  }
                }
                store<f32>(row + o, load<f32>(row + o) + a);
              }
            }
          }
        }
      }
    }
  }
}
