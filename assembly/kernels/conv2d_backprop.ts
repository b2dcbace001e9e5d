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
 * For each tap the (oh, ow) whose (ih, iw) fall inside the image form a rectangle, computed once,
 * so the inner loops carry no bounds test. Each filter element is one sum, accumulated in f32x4
 * registers over four output channels (conv: broadcast x times four dy channels; depthwise with
 * M = 1: four channels of x times four of dy), in f32 like tfjs's own kernels.
 *
 * Backprop input, depthwise:
 *   ∂L/∂x[n,ih,iw,ci] = Σ_{oh,ow,kh,kw: ih,iw as above} Σ_m dy[n,oh,ow,ci·M+m] · w[kh,kw,ci,m]
 * computed by scattering each output pixel's contribution into the zeroed dx.
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
  for (let kh: i32 = 0; kh < filterH; kh++) {
    const offH = kh * dilationH - padTop;
    const ohLo = first_valid(offH, strideH);
    const ohHi = end_valid(offH, strideH, inH, outH);
    for (let kw: i32 = 0; kw < filterW; kw++) {
      const offW = kw * dilationW - padLeft;
      const owLo = first_valid(offW, strideW);
      const owHi = end_valid(offW, strideW, inW, outW);
      for (let ci: i32 = 0; ci < inC; ci++) {
        const out = dw + ((<usize>((kh * filterW + kw) * inC + ci) * <usize>outC) << 2);
        let co: i32 = 0;
        if (ASC_FEATURE_SIMD) {
          for (; co + 4 <= outC; co += 4) {
            let acc = f32x4.splat(0);
            for (let n: i32 = 0; n < batch; n++) {
              for (let oh = ohLo; oh < ohHi; oh++) {
                const ih = oh * strideH + offH;
                let xp = x + ((<usize>(n * inH + ih) * <usize>inW + <usize>(owLo * strideW + offW)) * xRow) + (<usize>ci << 2);
                let dp = dy + ((<usize>(n * outH + oh) * <usize>outW + <usize>owLo) * dyRow) + (<usize>co << 2);
                const xStep = <usize>strideW * xRow;
                for (let ow = owLo; ow < owHi; ow++) {
                  acc = f32x4.add(acc, f32x4.mul(f32x4.splat(load<f32>(xp)), v128.load(dp)));
                  xp += xStep;
                  dp += dyRow;
                }
              }
            }
            v128.store(out + (<usize>co << 2), acc);
          }
        }
        for (; co < outC; co++) {
          let acc: f32 = 0;
          for (let n: i32 = 0; n < batch; n++) {
            for (let oh = ohLo; oh < ohHi; oh++) {
              const ih = oh * strideH + offH;
              let xp = x + ((<usize>(n * inH + ih) * <usize>inW + <usize>(owLo * strideW + offW)) * xRow) + (<usize>ci << 2);
              let dp = dy + ((<usize>(n * outH + oh) * <usize>outW + <usize>owLo) * dyRow) + (<usize>co << 2);
              const xStep = <usize>strideW * xRow;
              for (let ow = owLo; ow < owHi; ow++) {
                acc += load<f32>(xp) * load<f32>(dp);
                xp += xStep;
                dp += dyRow;
              }
            }
          }
          store<f32>(out + (<usize>co << 2), acc);
        }
      }
    }
  }
}

/**
 * ∂L/∂w of a depthwise 2-D convolution with channel multiplier M.
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
  for (let kh: i32 = 0; kh < filterH; kh++) {
    const offH = kh * dilationH - padTop;
    const ohLo = first_valid(offH, strideH);
    const ohHi = end_valid(offH, strideH, inH, outH);
    for (let kw: i32 = 0; kw < filterW; kw++) {
      const offW = kw * dilationW - padLeft;
      const owLo = first_valid(offW, strideW);
      const owHi = end_valid(offW, strideW, inW, outW);
      const out = dw + ((<usize>(kh * filterW + kw) * <usize>outC) << 2);
      let q: i32 = 0;
      if (ASC_FEATURE_SIMD) {
        // M = 1: output channel q reads input channel q, four of each per vector.
        if (multiplier == 1) {
          for (; q + 4 <= outC; q += 4) {
            let acc = f32x4.splat(0);
            for (let n: i32 = 0; n < batch; n++) {
              for (let oh = ohLo; oh < ohHi; oh++) {
                const ih = oh * strideH + offH;
                let xp = x + ((<usize>(n * inH + ih) * <usize>inW + <usize>(owLo * strideW + offW)) * xRow) + (<usize>q << 2);
                let dp = dy + ((<usize>(n * outH + oh) * <usize>outW + <usize>owLo) * dyRow) + (<usize>q << 2);
                const xStep = <usize>strideW * xRow;
                for (let ow = owLo; ow < owHi; ow++) {
                  acc = f32x4.add(acc, f32x4.mul(v128.load(xp), v128.load(dp)));
                  xp += xStep;
                  dp += dyRow;
                }
              }
            }
            v128.store(out + (<usize>q << 2), acc);
          }
        }
      }
      for (; q < outC; q++) {
        const ci = q / multiplier;
        let acc: f32 = 0;
        for (let n: i32 = 0; n < batch; n++) {
          for (let oh = ohLo; oh < ohHi; oh++) {
            const ih = oh * strideH + offH;
            let xp = x + ((<usize>(n * inH + ih) * <usize>inW + <usize>(owLo * strideW + offW)) * xRow) + (<usize>ci << 2);
            let dp = dy + ((<usize>(n * outH + oh) * <usize>outW + <usize>owLo) * dyRow) + (<usize>q << 2);
            const xStep = <usize>strideW * xRow;
            for (let ow = owLo; ow < owHi; ow++) {
              acc += load<f32>(xp) * load<f32>(dp);
              xp += xStep;
              dp += dyRow;
            }
          }
        }
        store<f32>(out + (<usize>q << 2), acc);
      }
    }
  }
}

/**
 * ∂L/∂x of a depthwise 2-D convolution with channel multiplier M.
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
      for (let ow: i32 = 0; ow < outW; ow++) {
        const dp = dy + ((<usize>(n * outH + oh) * <usize>outW + <usize>ow) * dyRow);
        for (let kh: i32 = 0; kh < filterH; kh++) {
          const ih = oh * strideH + kh * dilationH - padTop;
          if (<u32>ih >= <u32>inH) continue;
          for (let kw: i32 = 0; kw < filterW; kw++) {
            const iw = ow * strideW + kw * dilationW - padLeft;
            if (<u32>iw >= <u32>inW) continue;
            const xp = dx + ((<usize>(n * inH + ih) * <usize>inW + <usize>iw) * xRow);
            const wp = w + ((<usize>(kh * filterW + kw) * <usize>outC) << 2);
            let ci: i32 = 0;
            if (ASC_FEATURE_SIMD) {
              if (multiplier == 1) {
                for (; ci + 4 <= inC; ci += 4) {
                  const o = <usize>ci << 2;
                  v128.store(xp + o, f32x4.add(v128.load(xp + o), f32x4.mul(v128.load(dp + o), v128.load(wp + o))));
                }
              }
            }
            for (; ci < inC; ci++) {
              let s: f32 = 0;
              for (let m: i32 = 0; m < multiplier; m++) {
                const q = <usize>(ci * multiplier + m) << 2;
                s += load<f32>(dp + q) * load<f32>(wp + q);
              }
              const o = <usize>ci << 2;
              store<f32>(xp + o, load<f32>(xp + o) + s);
            }
          }
        }
      }
    }
  }
}
