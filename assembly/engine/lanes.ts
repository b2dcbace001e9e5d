/**
 * The lockstep training engine: up to four runs of the study's ConvNet (DESIGN.md §4) train
 * together, one run per f32x4 lane. Every number of the net — an image pixel, a weight, an
 * activation, a gradient, an optimizer moment — is a v128 holding that number for runs 0…3, and
 * every operation is lane-wise ("vertical"): no instruction ever combines two lanes. So a run's
 * arithmetic is exactly the same whichever runs share its vector (or pad it), and its log is bit
 * for bit the same in any grouping, worker count, shard or engine that runs this binary.
 *
 * A whole training step of the four runs is one call (`lanes_step`): the batch from each run's
 * sfc32 stream, the forward pass, every logged loss's value and gradient, a backward pass per
 * logged loss, the global gradient norms, the optimizer update with each run's own training loss
 * and optimizer, and batch norm's moving averages. `lanes_eval` is the evaluation on the
 * validation set. Nothing returns to JS in between.
 *
 * Memory: this module imports a memory of its own (not tfjs's: the engine needs no tensors), laid
 * out by src/engine/lanes.ts, which writes a header of addresses and sizes at `ctx` (the H_*
 * words below). Every buffer is an array of v128 "lane vectors" (16 bytes). Conv inputs and the
 * conv-output gradient live in zero-bordered ("padded") images [n, h + 2, w + 2, c], so the 3×3
 * 'same' convolutions need no bounds checks.
 *
 * Numerics follow the reference path (src/experiment/train.ts on tfjs with segloss's kernels):
 * the same formulas and the same float32 roundings where a step has one defined result (softmax
 * through the same exp/log polynomials, CCE's clip, Dice's coefficients in f64, batch norm's f64
 * statistics, Adam's and SGD's update expressions, the moving averages), with sums over pixels
 * accumulated in float32 along an image row and in float64 across rows. Only the order of float32
 * summation differs from tfjs's kernels (issue #13: ≤ 1e-4 relative over 50 steps).
 */
import { exp_neg_f32x4 } from '../math/exp';
import { log_f32, log1p_unit_f32x4 } from '../math/log';

// Header words (i32) at ctx; src/engine/lanes.ts writes them.
// @ts-ignore: decorator
@inline const H_N: i32 = 0;          // images per batch
// @ts-ignore: decorator
@inline const H_H: i32 = 1;          // image height
// @ts-ignore: decorator
@inline const H_W: i32 = 2;          // image width
// @ts-ignore: decorator
@inline const H_L: i32 = 3;          // 3×3 conv layers
// @ts-ignore: decorator
@inline const H_F: i32 = 4;          // filters per layer
// @ts-ignore: decorator
@inline const H_BN: i32 = 5;         // 1: batch norm after each 3×3 conv
// @ts-ignore: decorator
@inline const H_NLOSS: i32 = 6;      // logged losses
// @ts-ignore: decorator
@inline const H_Q: i32 = 7;          // trainable parameters (per run)
// @ts-ignore: decorator
@inline const H_LOSS_KIND: i32 = 8;  // 8 … 12: kind of each logged loss (LOSS_* below)
// @ts-ignore: decorator
@inline const H_PARAMS: i32 = 13;    // [Q] parameters, in ConvNet.trainable's order
// @ts-ignore: decorator
@inline const H_GRADS: i32 = 14;     // [nLoss, Q] gradients of each logged loss
// @ts-ignore: decorator
@inline const H_TRAIN_MASK: i32 = 15; // [nLoss] lane masks: all ones where the loss is the run's training loss
// @ts-ignore: decorator
@inline const H_ADAM_M: i32 = 16;    // [Q] Adam's first moments
// @ts-ignore: decorator
@inline const H_ADAM_V: i32 = 17;    // [Q] Adam's second moments
// @ts-ignore: decorator
@inline const H_ACCUM: i32 = 18;     // [Q] SGD momentum's accumulation
// @ts-ignore: decorator
@inline const H_HYPER: i32 = 19;     // [HY_COUNT] per-lane optimizer settings (HY_* below)
// @ts-ignore: decorator
@inline const H_RNG: i32 = 20;       // [4] sfc32 state a, b, c, d of each run's batch stream (i32 lanes)
// @ts-ignore: decorator
@inline const H_CUT: i32 = 21;       // [2] per lane: foreground where the 24-bit draw u > cut; then all ones to invert x
// @ts-ignore: decorator
@inline const H_X: i32 = 22;         // [n, h+2, w+2] padded batch images
// @ts-ignore: decorator
@inline const H_LABELS: i32 = 23;    // [n·h·w] labels as lane masks (all ones = foreground)
// @ts-ignore: decorator
@inline const H_LOGITS: i32 = 24;    // [n·h·w, 2]
// @ts-ignore: decorator
@inline const H_PROBS: i32 = 25;     // [n·h·w, 2] softmax
// @ts-ignore: decorator
@inline const H_DLOGITS: i32 = 26;   // [n·h·w, 2] ∂loss/∂logits
// @ts-ignore: decorator
@inline const H_DH: i32 = 27;        // [n·h·w, F] gradient w.r.t. a layer's output, then its pre-activation
// @ts-ignore: decorator
@inline const H_DPAD: i32 = 28;      // [n, h+2, w+2, F] padded gradient w.r.t. a conv's output
// @ts-ignore: decorator
@inline const H_OUT: i32 = 29;       // per logged loss: 4 f64 loss values, 4 f64 gradient norms
// @ts-ignore: decorator
@inline const H_MOVING: i32 = 30;    // [L, 2, F] batch norm moving mean and variance
// @ts-ignore: decorator
@inline const H_F64: i32 = 31;       // f64 scratch: 4 f64 per accumulated lane vector, Q of them (≥ F)
// @ts-ignore: decorator
@inline const H_LAYERS: i32 = 32;    // 32 … 63: per layer [z, pre, hpad, stats]
// @ts-ignore: decorator
@inline const H_VAL_X: i32 = 64;     // [V, h+2, w+2] padded validation images
// @ts-ignore: decorator
@inline const H_VAL_LABELS: i32 = 65; // [V·h·w] validation labels (lane masks)
// @ts-ignore: decorator
@inline const H_V: i32 = 66;         // validation images
// @ts-ignore: decorator
@inline const H_COUNTS: i32 = 67;    // [5] i32 lane counts of an evaluation (COUNT_* below)
// @ts-ignore: decorator
@inline const H_VAL_RNG: i32 = 68;   // [4] sfc32 state of each run's validation stream
// @ts-ignore: decorator
@inline const H_DTMP: i32 = 69;      // [n·h·w, F] scratch
// @ts-ignore: decorator
@inline const H_SUMS: i32 = 70;      // the loss pass's f64 sums (S_COUNT accumulators), then 4 coefficient vectors
// @ts-ignore: decorator
@inline const H_KEPT: i32 = 71;      // [n·h·w] lane masks: the clipped CCE's term is not clipped (its gradient flows)

// Loss kinds (src/engine/lanes.ts maps the config's names).
// @ts-ignore: decorator
@inline const LOSS_CCE: i32 = 0;
// @ts-ignore: decorator
@inline const LOSS_DICE: i32 = 1;
// @ts-ignore: decorator
@inline const LOSS_DICE_SQUARE: i32 = 2;
// @ts-ignore: decorator
@inline const LOSS_DICEFG: i32 = 3;
// @ts-ignore: decorator
@inline const LOSS_DICEFG_SQUARE: i32 = 4;

// Per-lane optimizer settings (each a lane vector).
// @ts-ignore: decorator
@inline const HY_NEG_LR: i32 = 0;            // −learning rate
// @ts-ignore: decorator
@inline const HY_BETA1: i32 = 1;
// @ts-ignore: decorator
@inline const HY_BETA2: i32 = 2;
// @ts-ignore: decorator
@inline const HY_ONE_MINUS_BETA1: i32 = 3;
// @ts-ignore: decorator
@inline const HY_ONE_MINUS_BETA2: i32 = 4;
// @ts-ignore: decorator
@inline const HY_EPSILON: i32 = 5;
// @ts-ignore: decorator
@inline const HY_MOMENTUM: i32 = 6;          // SGD: 0 for plain SGD
// @ts-ignore: decorator
@inline const HY_ADAM: i32 = 7;              // lane mask: all ones for Adam, zero for SGD
// @ts-ignore: decorator
@inline const HY_ONE_MINUS_ACC_BETA1: i32 = 8; // 1 − β1^t, rounded as tfjs (set every step)
// @ts-ignore: decorator
@inline const HY_ONE_MINUS_ACC_BETA2: i32 = 9;

// Evaluation counts (i32 lanes).
// @ts-ignore: decorator
@inline const COUNT_CORRECT: i32 = 0;
// @ts-ignore: decorator
@inline const COUNT_INTER_BG: i32 = 1;
// @ts-ignore: decorator
@inline const COUNT_INTER_FG: i32 = 2;
// @ts-ignore: decorator
@inline const COUNT_PRED_FG: i32 = 3;
// @ts-ignore: decorator
@inline const COUNT_TRUE_FG: i32 = 4;

// The seed's constants (DESIGN.md §3, §4).
// @ts-ignore: decorator
@inline const LOSS_EPSILON: f32 = 1e-7;
// @ts-ignore: decorator
@inline const BN_EPSILON: f32 = 1e-3;
// @ts-ignore: decorator
@inline const BN_KEEP: f32 = 0.99;
// @ts-ignore: decorator
@inline const BN_TAKE: f32 = <f32>(1.0 - 0.99);
/**
 * ∂loss/∂logits enter the backward pass multiplied by 2^64, and the parameter gradients leave it
 * divided by 2^64 (in f64, before rounding to float32). Scaling by a power of two is exact in
 * binary floating point, and the backward pass is linear in ∂loss/∂logits, so this gives the same
 * bits as the unscaled pass wherever that one stays normal; but a confident pixel's Dice
 * gradient p0·p1·(g1 − g0) is ~1e-42 (p0 or p1 at e^−87), subnormal, and every product and sum a
 * subnormal enters runs up to ~100× slower on x86 (wasm has no flush-to-zero): unscaled, a step
 * of converged runs took 1.2 ms instead of 0.7. Magnitudes up to ~1e24 keep a wide margin below
 * float32's 3.4e38.
 */
// @ts-ignore: decorator
@inline const GRAD_SCALE: f32 = 18446744073709551616.0; // 2^64
// Pixels per float32 block of the loss sums before they go into float64.
// @ts-ignore: decorator
@inline const FLUSH_EVERY: i32 = 256;

/** Bytes of one lane vector. */
// @ts-ignore: decorator
@inline const LV: usize = 16;
/** Bytes of one float64 accumulator of a lane vector (four f64, in lane order). */
// @ts-ignore: decorator
@inline const LV64: usize = 32;

// @ts-ignore: decorator
@inline function word(ctx: usize, w: i32): i32 {
  return load<i32>(ctx + (<usize>w << 2));
}

// @ts-ignore: decorator
@inline function addr(ctx: usize, w: i32): usize {
  return <usize>load<u32>(ctx + (<usize>w << 2));
}

// @ts-ignore: decorator
@inline function lv(base: usize, i: i32): usize {
  return base + (<usize>i << 4);
}

/** Adds the four lanes of `v`, widened to f64, to the f64 accumulator at `dst`. */
// @ts-ignore: decorator
@inline function add64(dst: usize, v: v128): void {
  v128.store(dst, f64x2.add(v128.load(dst), f64x2.promote_low_f32x4(v)));
  v128.store(dst, f64x2.add(v128.load(dst, 16), f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1))), 16);
}

/** The f64 accumulator at `src`, each lane divided by `d` (in f64), rounded to float32 lanes. */
// @ts-ignore: decorator
@inline function round64(src: usize, d: f64): v128 {
  const dv = f64x2.splat(d);
  const lo = f32x4.demote_f64x2_zero(f64x2.div(v128.load(src), dv));
  const hi = f32x4.demote_f64x2_zero(f64x2.div(v128.load(src, 16), dv));
  return v128.shuffle<f32>(lo, hi, 0, 1, 4, 5);
}

// @ts-ignore: decorator
@inline const TINY: f32 = 9.313225746154785e-10; // 2^−30

/**
 * log(1 + t) for t ∈ [0, 1]: `log1p_unit_f32x4`, whose result for t < 2^−30 is t itself (the
 * polynomial's terms fall below half an ulp of t), without evaluating the polynomial there: its
 * powers of t would be subnormal, which x86 computes very slowly. The same bits.
 */
// @ts-ignore: decorator
@inline function log1pUnit(t: v128): v128 {
  return v128.bitselect(t, log1p_unit_f32x4(f32x4.max(t, f32x4.splat(TINY))), f32x4.lt(t, f32x4.splat(TINY)));
}

/**
 * p with lanes below 2^−30 set to 0, for squares p²: a term below 2^−60 next to Dice's ε = 1e-7 (or
 * to the other class's term) cannot change a rounded result, and its product would be subnormal.
 */
// @ts-ignore: decorator
@inline function flushTiny(p: v128): v128 {
  return v128.and(p, f32x4.ge(p, f32x4.splat(TINY)));
}

/**
 * Draws n images h × w, uniform in [0, 1) with 24 random bits (src/experiment/random.ts's
 * `nextFloat`: (t >>> 8) / 2^24, in the order makeBatchValues fills them), from the four sfc32
 * states at `rng` (i32 lanes a, b, c, d; advanced in place). Writes the padded images' interiors
 * and the labels (all-ones lanes where u > cut, i.e. x > 1 − foreground; see src/engine/lanes.ts).
 * Lanes whose invert mask (the vector after the cut) is all ones store 1 − x (exact in f32).
 */
function generate(rng: usize, cut: usize, x: usize, labels: usize, n: i32, h: i32, w: i32): void {
  let a = v128.load(rng);
  let b = v128.load(rng, 16);
  let c = v128.load(rng, 32);
  let d = v128.load(rng, 48);
  const k = v128.load(cut);
  const invert = v128.load(cut, 16);
  const one = i32x4.splat(1);
  const onef = f32x4.splat(1);
  const scale = f32x4.splat(5.9604644775390625e-8); // 2^−24
  let lp = labels;
  for (let img: i32 = 0; img < n; img++) {
    for (let y: i32 = 0; y < h; y++) {
      let xp = lv(x, (img * (h + 2) + y + 1) * (w + 2) + 1);
      for (let i: i32 = 0; i < w; i++) {
        const t = i32x4.add(i32x4.add(a, b), d);
        d = i32x4.add(d, one);
        a = v128.xor(b, i32x4.shr_u(b, 9));
        b = i32x4.add(c, i32x4.shl(c, 3));
        c = i32x4.add(v128.or(i32x4.shl(c, 21), i32x4.shr_u(c, 11)), t);
        const u = i32x4.shr_u(t, 8);
        const v = f32x4.mul(f32x4.convert_i32x4_s(u), scale);
        v128.store(xp, v128.bitselect(f32x4.sub(onef, v), v, invert));
        v128.store(lp, i32x4.gt_s(u, k));
        xp += LV;
        lp += LV;
      }
    }
  }
  v128.store(rng, a);
  v128.store(rng, b, 16);
  v128.store(rng, c, 32);
  v128.store(rng, d, 48);
}

/** Offset (in lane vectors) of layer l's kernel in the parameters; the bias or γ, β follow it. */
// @ts-ignore: decorator
@inline function layerOffset(l: i32, f: i32, bn: i32): i32 {
  // Layer 0: 9·1·F kernel; later layers 9·F·F; then F (bias) or 2F (γ, β).
  const extra = bn != 0 ? 2 * f : f;
  return l == 0 ? 0 : (9 * f + extra) + (l - 1) * (9 * f * f + extra);
}

/**
 * out[img, y, x, co] = Σ_{ky, kx, ci} in[img, y + ky, x + kx, ci] · wt[ky, kx, ci, co] (+ bias[co]
 * after the sum when bias ≠ 0): a 3×3 'same' convolution of padded input. Two pixels and four
 * output channels at a time (each weight loaded once for two pixels); every output's sum runs in
 * the same order (ky, kx, ci) whatever the blocking.
 */
export function conv3x3(inp: usize, cin: i32, wt: usize, f: i32, bias: usize, out: usize, n: i32, h: i32, w: i32): void {
  const rowStride = <usize>(w + 2) * <usize>cin << 4;
  const pixelStride = <usize>cin << 4;
  const wStep = <usize>f << 4;
  const outStride = <usize>f << 4;
  for (let img: i32 = 0; img < n; img++) {
    for (let y: i32 = 0; y < h; y++) {
      const rowBase = lv(inp, (img * (h + 2) + y) * (w + 2) * cin);
      const outRow = lv(out, ((img * h + y) * w) * f);
      let x: i32 = 0;
      for (; x + 2 <= w; x += 2) {
        const px0 = rowBase + <usize>x * pixelStride;
        let op = outRow + <usize>x * outStride;
        let co: i32 = 0;
        for (; co + 4 <= f; co += 4) {
          let a0 = f32x4.splat(0);
          let a1 = f32x4.splat(0);
          let a2 = f32x4.splat(0);
          let a3 = f32x4.splat(0);
          let b0 = f32x4.splat(0);
          let b1 = f32x4.splat(0);
          let b2 = f32x4.splat(0);
          let b3 = f32x4.splat(0);
          let wp = lv(wt, co);
          for (let ky: i32 = 0; ky < 3; ky++) {
            let px = px0 + <usize>ky * rowStride;
            for (let j: i32 = 0; j < 3 * cin; j++) {
              const xa = v128.load(px);
              const xb = v128.load(px + pixelStride);
              const w0 = v128.load(wp);
              const w1 = v128.load(wp, 16);
              const w2 = v128.load(wp, 32);
              const w3 = v128.load(wp, 48);
              a0 = f32x4.add(a0, f32x4.mul(xa, w0));
              a1 = f32x4.add(a1, f32x4.mul(xa, w1));
              a2 = f32x4.add(a2, f32x4.mul(xa, w2));
              a3 = f32x4.add(a3, f32x4.mul(xa, w3));
              b0 = f32x4.add(b0, f32x4.mul(xb, w0));
              b1 = f32x4.add(b1, f32x4.mul(xb, w1));
              b2 = f32x4.add(b2, f32x4.mul(xb, w2));
              b3 = f32x4.add(b3, f32x4.mul(xb, w3));
              px += LV;
              wp += wStep;
            }
          }
          if (bias != 0) {
            const bp = lv(bias, co);
            const c0 = v128.load(bp);
            const c1 = v128.load(bp, 16);
            const c2 = v128.load(bp, 32);
            const c3 = v128.load(bp, 48);
            a0 = f32x4.add(a0, c0);
            a1 = f32x4.add(a1, c1);
            a2 = f32x4.add(a2, c2);
            a3 = f32x4.add(a3, c3);
            b0 = f32x4.add(b0, c0);
            b1 = f32x4.add(b1, c1);
            b2 = f32x4.add(b2, c2);
            b3 = f32x4.add(b3, c3);
          }
          v128.store(op, a0);
          v128.store(op, a1, 16);
          v128.store(op, a2, 32);
          v128.store(op, a3, 48);
          v128.store(op + outStride, b0);
          v128.store(op + outStride, b1, 16);
          v128.store(op + outStride, b2, 32);
          v128.store(op + outStride, b3, 48);
          op += 64;
        }
        for (; co < f; co++) {
          let a0 = f32x4.splat(0);
          let b0 = f32x4.splat(0);
          let wp = lv(wt, co);
          for (let ky: i32 = 0; ky < 3; ky++) {
            let px = px0 + <usize>ky * rowStride;
            for (let j: i32 = 0; j < 3 * cin; j++) {
              const wv = v128.load(wp);
              a0 = f32x4.add(a0, f32x4.mul(v128.load(px), wv));
              b0 = f32x4.add(b0, f32x4.mul(v128.load(px + pixelStride), wv));
              px += LV;
              wp += wStep;
            }
          }
          if (bias != 0) {
            const c0 = v128.load(lv(bias, co));
            a0 = f32x4.add(a0, c0);
            b0 = f32x4.add(b0, c0);
          }
          v128.store(op, a0);
          v128.store(op + outStride, b0);
          op += LV;
        }
      }
      if (x < w) conv3x3Pixel(rowBase + <usize>x * pixelStride, cin, wt, f, bias, outRow + <usize>x * outStride, rowStride);
    }
  }
}

/** One output pixel of `conv3x3` (a row's last, for odd widths): its f channels, in the same order. */
function conv3x3Pixel(px0: usize, cin: i32, wt: usize, f: i32, bias: usize, op: usize, rowStride: usize): void {
  const wStep = <usize>f << 4;
  for (let co: i32 = 0; co < f; co++) {
    let a0 = f32x4.splat(0);
    let wp = lv(wt, co);
    for (let ky: i32 = 0; ky < 3; ky++) {
      let px = px0 + <usize>ky * rowStride;
      for (let j: i32 = 0; j < 3 * cin; j++) {
        a0 = f32x4.add(a0, f32x4.mul(v128.load(px), v128.load(wp)));
        px += LV;
        wp += wStep;
      }
    }
    if (bias != 0) a0 = f32x4.add(a0, v128.load(lv(bias, co)));
    v128.store(op, a0);
    op += LV;
  }
}

/**
 * Batch norm in training mode on z [m, f] → y [m, f], with the statistics [3, f] (mean, biased
 * variance, 1/√(variance + ε)): assembly/kernels/batch_norm.ts's arithmetic lane by lane (f64 sums,
 * two passes).
 */
function bnForward(z: usize, gamma: usize, beta: usize, y: usize, stats: usize, m: i32, f: i32): void {
  const mean = stats;
  const variance = lv(stats, f);
  const invStd = lv(stats, 2 * f);
  const rowBytes = <usize>f << 4;
  // Per channel, its f64 sums in registers (the same order as a pass over pixels: the same bits).
  for (let c: i32 = 0; c < f; c++) {
    let lo = f64x2.splat(0);
    let hi = f64x2.splat(0);
    let p = lv(z, c);
    for (let i: i32 = 0; i < m; i++) {
      const v = v128.load(p);
      lo = f64x2.add(lo, f64x2.promote_low_f32x4(v));
      hi = f64x2.add(hi, f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1)));
      p += rowBytes;
    }
    const dm = f64x2.splat(<f64>m);
    const mu = v128.shuffle<f32>(f32x4.demote_f64x2_zero(f64x2.div(lo, dm)), f32x4.demote_f64x2_zero(f64x2.div(hi, dm)), 0, 1, 4, 5);
    v128.store(lv(mean, c), mu);
    lo = f64x2.splat(0);
    hi = f64x2.splat(0);
    p = lv(z, c);
    for (let i: i32 = 0; i < m; i++) {
      const dlt = f32x4.sub(v128.load(p), mu);
      const dl = f64x2.promote_low_f32x4(dlt);
      const dh = f64x2.promote_low_f32x4(v128.shuffle<f32>(dlt, dlt, 2, 3, 0, 1));
      lo = f64x2.add(lo, f64x2.mul(dl, dl));
      hi = f64x2.add(hi, f64x2.mul(dh, dh));
      p += rowBytes;
    }
    const vlo = f64x2.div(lo, dm);
    const vhi = f64x2.div(hi, dm);
    v128.store(lv(variance, c), v128.shuffle<f32>(f32x4.demote_f64x2_zero(vlo), f32x4.demote_f64x2_zero(vhi), 0, 1, 4, 5));
    const eps = f64x2.splat(<f64>BN_EPSILON);
    const one = f64x2.splat(1.0);
    const rlo = f32x4.demote_f64x2_zero(f64x2.div(one, f64x2.sqrt(f64x2.add(vlo, eps))));
    const rhi = f32x4.demote_f64x2_zero(f64x2.div(one, f64x2.sqrt(f64x2.add(vhi, eps))));
    v128.store(lv(invStd, c), v128.shuffle<f32>(rlo, rhi, 0, 1, 4, 5));
  }
  for (let i: i32 = 0; i < m; i++) {
    for (let c: i32 = 0; c < f; c++) {
      const xhat = f32x4.mul(f32x4.sub(v128.load(lv(z, i * f + c)), v128.load(lv(mean, c))), v128.load(lv(invStd, c)));
      v128.store(lv(y, i * f + c), f32x4.add(f32x4.mul(v128.load(lv(gamma, c)), xhat), v128.load(lv(beta, c))));
    }
  }
}

/** Batch norm at evaluation: y = γ (z − moving mean) / √(moving variance + ε) + β. */
function bnInference(z: usize, gamma: usize, beta: usize, moving: usize, y: usize, m: i32, f: i32, scratch: usize): void {
  // scratch [f]: γ / √(v + ε), per lane in f32 as tfjs-backend-wasm's BatchNorm (x − μ)·(γ·r) + β.
  for (let c: i32 = 0; c < f; c++) {
    for (let j: i32 = 0; j < 4; j++) {
      const v = load<f32>(lv(moving, f + c) + (<usize>j << 2));
      store<f32>(lv(scratch, c) + (<usize>j << 2), load<f32>(lv(gamma, c) + (<usize>j << 2)) * (<f32>1.0 / sqrt<f32>(v + BN_EPSILON)));
    }
  }
  for (let i: i32 = 0; i < m; i++) {
    for (let c: i32 = 0; c < f; c++) {
      const t = f32x4.mul(f32x4.sub(v128.load(lv(z, i * f + c)), v128.load(lv(moving, c))), v128.load(lv(scratch, c)));
      v128.store(lv(y, i * f + c), f32x4.add(t, v128.load(lv(beta, c))));
    }
  }
}

/** relu(pre) [n·h·w, f] into the interior of the padded [n, h+2, w+2, f]. */
function reluPadded(pre: usize, out: usize, n: i32, h: i32, w: i32, f: i32): void {
  const zero = f32x4.splat(0);
  let src = pre;
  for (let img: i32 = 0; img < n; img++) {
    for (let y: i32 = 0; y < h; y++) {
      let dst = lv(out, ((img * (h + 2) + y + 1) * (w + 2) + 1) * f);
      for (let k: i32 = 0; k < w * f; k++) {
        v128.store(dst, f32x4.max(v128.load(src), zero));
        src += LV;
        dst += LV;
      }
    }
  }
}

/** Copies [n·h·w, f] into the interior of the padded [n, h+2, w+2, f]. */
function copyPadded(src: usize, out: usize, n: i32, h: i32, w: i32, f: i32): void {
  const rowBytes = <usize>(w * f) << 4;
  for (let img: i32 = 0; img < n; img++) {
    for (let y: i32 = 0; y < h; y++) {
      memory.copy(lv(out, ((img * (h + 2) + y + 1) * (w + 2) + 1) * f), src, rowBytes);
      src += rowBytes;
    }
  }
}

/** The 1×1 head: logits[p, k] = Σ_c h[p, c] · w[c, k] + b[k], h padded [n, h+2, w+2, f]. */
function head(hpad: usize, wt: usize, bias: usize, logits: usize, n: i32, h: i32, w: i32, f: i32): void {
  const b0 = v128.load(bias);
  const b1 = v128.load(bias, 16);
  let lp = logits;
  for (let img: i32 = 0; img < n; img++) {
    for (let y: i32 = 0; y < h; y++) {
      let hp = lv(hpad, ((img * (h + 2) + y + 1) * (w + 2) + 1) * f);
      for (let x: i32 = 0; x < w; x++) {
        let z0 = f32x4.splat(0);
        let z1 = f32x4.splat(0);
        for (let c: i32 = 0; c < f; c++) {
          const hv = v128.load(hp);
          z0 = f32x4.add(z0, f32x4.mul(hv, v128.load(lv(wt, 2 * c))));
          z1 = f32x4.add(z1, f32x4.mul(hv, v128.load(lv(wt, 2 * c + 1))));
          hp += LV;
        }
        v128.store(lp, f32x4.add(z0, b0));
        v128.store(lp, f32x4.add(z1, b1), 16);
        lp += 32;
      }
    }
  }
}

/**
 * The network forward from padded images `x` (n of them): per layer z (the conv), pre (after bias
 * or batch norm; batch norm on batch statistics when `training`, else on the moving averages) and
 * the padded relu output, then the logits.
 */
function forward(ctx: usize, x: usize, n: i32, training: bool): void {
  const h = word(ctx, H_H);
  const w = word(ctx, H_W);
  const layers = word(ctx, H_L);
  const f = word(ctx, H_F);
  const bn = word(ctx, H_BN);
  const params = addr(ctx, H_PARAMS);
  const m = n * h * w;
  let input = x;
  let cin = 1;
  for (let l: i32 = 0; l < layers; l++) {
    const z = addr(ctx, H_LAYERS + 4 * l);
    const pre = addr(ctx, H_LAYERS + 4 * l + 1);
    const hpad = addr(ctx, H_LAYERS + 4 * l + 2);
    const stats = addr(ctx, H_LAYERS + 4 * l + 3);
    const wt = lv(params, layerOffset(l, f, bn));
    const after = lv(wt, 9 * cin * f);
    if (bn == 0) {
      conv3x3(input, cin, wt, f, after, pre, n, h, w);
    } else {
      conv3x3(input, cin, wt, f, 0, z, n, h, w);
      if (training) bnForward(z, after, lv(after, f), pre, stats, m, f);
      else bnInference(z, after, lv(after, f), lv(addr(ctx, H_MOVING), 2 * f * l), pre, m, f, addr(ctx, H_DTMP));
    }
    reluPadded(pre, hpad, n, h, w, f);
    input = hpad;
    cin = f;
  }
  const headW = lv(params, layerOffset(layers, f, bn));
  head(input, headW, lv(headW, 2 * f), addr(ctx, H_LOGITS), n, h, w, f);
}

// f64 sums of the loss pass (lane accumulators in the f64 scratch).
// @ts-ignore: decorator
@inline const S_CCE: i32 = 0;   // Σ clamped −log p_y
// @ts-ignore: decorator
@inline const S_I0: i32 = 1;    // Σ y0 p0
// @ts-ignore: decorator
@inline const S_I1: i32 = 2;    // Σ y1 p1
// @ts-ignore: decorator
@inline const S_Y1: i32 = 3;    // Σ y1
// @ts-ignore: decorator
@inline const S_P0: i32 = 4;    // Σ p0
// @ts-ignore: decorator
@inline const S_P1: i32 = 5;    // Σ p1
// @ts-ignore: decorator
@inline const S_Q0: i32 = 6;    // Σ p0²
// @ts-ignore: decorator
@inline const S_Q1: i32 = 7;    // Σ p1²
// @ts-ignore: decorator
@inline const S_COUNT: i32 = 8;

/**
 * The softmax of the logits (p0, p1 per pixel, into H_PROBS) and the sums every logged loss
 * needs. Two classes: with d = z1 − z0, e = e^{−|d|}, the larger class has p = 1/(1 + e) and the
 * other e/(1 + e); −log p of the labelled class is log1p(e) (+ |d| when it is the smaller one),
 * clamped to [−log(1 − ε), −log ε] as the seed's clipped CCE (assembly/kernels/softmax_cce.ts).
 */
function lossSums(ctx: usize, m: i32): void {
  const logits = addr(ctx, H_LOGITS);
  const probs = addr(ctx, H_PROBS);
  const labels = addr(ctx, H_LABELS);
  const sums = addr(ctx, H_SUMS);
  const kept = addr(ctx, H_KEPT);
  memory.fill(sums, 0, <usize>S_COUNT * LV64);
  const nllLo = f32x4.splat(-log_f32(<f32>1.0 - LOSS_EPSILON));
  const nllHi = f32x4.splat(-log_f32(LOSS_EPSILON));
  const one = f32x4.splat(1.0);
  const zero = f32x4.splat(0);
  for (let start: i32 = 0; start < m; start += FLUSH_EVERY) {
    const end = min<i32>(m, start + FLUSH_EVERY);
    let sCce = zero, sI0 = zero, sI1 = zero, sY1 = zero, sP0 = zero, sP1 = zero, sQ0 = zero, sQ1 = zero;
    for (let i = start; i < end; i++) {
      const z0 = v128.load(lv(logits, 2 * i));
      const z1 = v128.load(lv(logits, 2 * i + 1));
      const y1 = v128.load(lv(labels, i));
      const d = f32x4.sub(z1, z0);
      const a = f32x4.abs(d);
      const e = exp_neg_f32x4(f32x4.neg(a));
      const s = f32x4.add(one, e);
      const big = f32x4.div(one, s);
      const small = f32x4.div(e, s);
      const oneBigger = f32x4.ge(d, zero);
      const p1 = v128.bitselect(big, small, oneBigger);
      const p0 = v128.bitselect(small, big, oneBigger);
      v128.store(lv(probs, 2 * i), p0);
      v128.store(lv(probs, 2 * i + 1), p1);
      // The labelled class is the smaller one where y1 differs from (z1 ≥ z0).
      const labelSmaller = v128.xor(y1, oneBigger);
      const nll = f32x4.add(log1pUnit(e), v128.and(a, labelSmaller));
      sCce = f32x4.add(sCce, f32x4.pmin(f32x4.pmax(nll, nllLo), nllHi));
      // A term is clipped exactly when clamping changes it (ε ≤ p ≤ 1 − ε ⟺ lo ≤ nll ≤ hi).
      v128.store(lv(kept, i), v128.and(f32x4.ge(nll, nllLo), f32x4.le(nll, nllHi)));
      const y1f = v128.and(y1, one);
      sI0 = f32x4.add(sI0, v128.andnot(p0, y1));
      sI1 = f32x4.add(sI1, v128.and(p1, y1));
      sY1 = f32x4.add(sY1, y1f);
      sP0 = f32x4.add(sP0, p0);
      sP1 = f32x4.add(sP1, p1);
      const q0 = flushTiny(p0);
      const q1 = flushTiny(p1);
      sQ0 = f32x4.add(sQ0, f32x4.mul(q0, q0));
      sQ1 = f32x4.add(sQ1, f32x4.mul(q1, q1));
    }
    add64(sums + <usize>S_CCE * LV64, sCce);
    add64(sums + <usize>S_I0 * LV64, sI0);
    add64(sums + <usize>S_I1 * LV64, sI1);
    add64(sums + <usize>S_Y1 * LV64, sY1);
    add64(sums + <usize>S_P0 * LV64, sP0);
    add64(sums + <usize>S_P1 * LV64, sP1);
    add64(sums + <usize>S_Q0 * LV64, sQ0);
    add64(sums + <usize>S_Q1 * LV64, sQ1);
  }
}

// @ts-ignore: decorator
@inline function lane64(sums: usize, s: i32, j: i32): f64 {
  return load<f64>(sums + <usize>s * LV64 + (<usize>j << 3));
}

/**
 * A logged loss's value per lane (float32-rounded, into `out` as f64) and the gradient of the
 * loss w.r.t. the logits into H_DLOGITS.
 */
function lossGrad(ctx: usize, kind: i32, m: i32, out: usize): void {
  const sums = addr(ctx, H_SUMS);
  const probs = addr(ctx, H_PROBS);
  const labels = addr(ctx, H_LABELS);
  const dl = addr(ctx, H_DLOGITS);
  const coefs = sums + <usize>S_COUNT * LV64; // four f32 lane vectors: A0, B0, A1, B1
  const eps = <f64>LOSS_EPSILON;
  if (kind == LOSS_CCE) {
    for (let j: i32 = 0; j < 4; j++) store<f64>(out + (<usize>j << 3), <f64><f32>(lane64(sums, S_CCE, j) / <f64>m));
    // 1/m as the kernel rounds it, times GRAD_SCALE (exact).
    const scale = f32x4.splat(<f32>(1.0 / <f64>m) * GRAD_SCALE);
    const one = f32x4.splat(1.0);
    const kept = addr(ctx, H_KEPT);
    for (let i: i32 = 0; i < m; i++) {
      const y1 = v128.load(lv(labels, i));
      const u = v128.load(lv(kept, i));
      // ∂/∂z1 = u (p1 − y1)/m,  ∂/∂z0 = u (p0 − y0)/m (= −∂/∂z1 up to rounding), from p0 as the kernel does.
      const p0 = v128.load(lv(probs, 2 * i));
      const p1 = v128.load(lv(probs, 2 * i + 1));
      const g1 = v128.and(f32x4.mul(f32x4.sub(p1, v128.and(y1, one)), scale), u);
      const g0 = v128.and(f32x4.mul(f32x4.sub(p0, v128.andnot(one, y1)), scale), u);
      v128.store(lv(dl, 2 * i), g0);
      v128.store(lv(dl, 2 * i + 1), g1);
    }
    return;
  }
  // Dice: L = 1 − κ Σ_{c∈K} (2 I_c + ε)/(Y_c + S_c + ε); g_c = −A_c y_c + B_c q p_c^{q−1}.
  const square = kind == LOSS_DICE_SQUARE || kind == LOSS_DICEFG_SQUARE;
  const withBg = kind == LOSS_DICE || kind == LOSS_DICE_SQUARE;
  const kappa = 1.0 / (withBg ? 2.0 : 1.0);
  for (let j: i32 = 0; j < 4; j++) {
    const y1 = lane64(sums, S_Y1, j);
    const y0 = <f64>m - y1;
    let total: f64 = 0;
    for (let c: i32 = withBg ? 0 : 1; c < 2; c++) {
      const inter = lane64(sums, c == 0 ? S_I0 : S_I1, j);
      const s = lane64(sums, square ? (c == 0 ? S_Q0 : S_Q1) : (c == 0 ? S_P0 : S_P1), j);
      const num = 2 * inter + eps;
      const den = (c == 0 ? y0 : y1) + s + eps;
      total += num / den;
      store<f32>(coefs + (<usize>(2 * c) << 4) + (<usize>j << 2), <f32>(2 * kappa / den));
      store<f32>(coefs + (<usize>(2 * c + 1) << 4) + (<usize>j << 2), <f32>((square ? 2 : 1) * kappa * num / (den * den)));
    }
    if (!withBg) {
      store<f32>(coefs + (<usize>j << 2), 0);
      store<f32>(coefs + 16 + (<usize>j << 2), 0);
    }
    store<f64>(out + (<usize>j << 3), <f64><f32>(1.0 - kappa * total));
  }
  const a0 = v128.load(coefs);
  const b0 = v128.load(coefs, 16);
  const a1 = v128.load(coefs, 32);
  const b1 = v128.load(coefs, 48);
  for (let i: i32 = 0; i < m; i++) {
    const y1 = v128.load(lv(labels, i));
    const p0 = v128.load(lv(probs, 2 * i));
    const p1 = v128.load(lv(probs, 2 * i + 1));
    // B·q·p^{q−1}: B (q = 1) or 2B·p (q = 2, the 2 folded into B above).
    const t0 = square ? f32x4.mul(b0, flushTiny(p0)) : b0;
    const t1 = square ? f32x4.mul(b1, flushTiny(p1)) : b1;
    const g0 = f32x4.sub(t0, v128.andnot(a0, y1));
    const g1 = f32x4.sub(t1, v128.and(a1, y1));
    const dz1 = f32x4.mul(f32x4.mul(p0, p1), f32x4.mul(f32x4.sub(g1, g0), f32x4.splat(GRAD_SCALE)));
    v128.store(lv(dl, 2 * i), f32x4.neg(dz1));
    v128.store(lv(dl, 2 * i + 1), dz1);
  }
}

/**
 * Σ over the n·h·w pixels of a[p]·b[p] (b = 0: Σ a[p]), float32 along each image row and float64
 * across rows, added into the f64 accumulator `dst`. Pixel p = (img, y, x) is at
 * base + img·imgStep + y·rowStep + x·step (bytes) for each of a and b.
 */
function dotRows(
  a: usize, aStep: usize, aRow: usize, aImg: usize, b: usize, bStep: usize, bRow: usize, bImg: usize,
  n: i32, h: i32, w: i32, dst: usize,
): void {
  for (let img: i32 = 0; img < n; img++) {
    for (let y: i32 = 0; y < h; y++) {
      let ap = a + <usize>img * aImg + <usize>y * aRow;
      let acc = f32x4.splat(0);
      if (b == 0) {
        for (let x: i32 = 0; x < w; x++) {
          acc = f32x4.add(acc, v128.load(ap));
          ap += aStep;
        }
      } else {
        let bp = b + <usize>img * bImg + <usize>y * bRow;
        for (let x: i32 = 0; x < w; x++) {
          acc = f32x4.add(acc, f32x4.mul(v128.load(ap), v128.load(bp)));
          ap += aStep;
          bp += bStep;
        }
      }
      add64(dst, acc);
    }
  }
}

/** `dotRows` for four consecutive channels of b (b, b + 16, b + 32, b + 48) into four accumulators. */
function dotRows4(
  a: usize, aStep: usize, aRow: usize, aImg: usize, b: usize, bStep: usize, bRow: usize, bImg: usize,
  n: i32, h: i32, w: i32, dst: usize,
): void {
  for (let img: i32 = 0; img < n; img++) {
    for (let y: i32 = 0; y < h; y++) {
      let ap = a + <usize>img * aImg + <usize>y * aRow;
      let bp = b + <usize>img * bImg + <usize>y * bRow;
      let c0 = f32x4.splat(0);
      let c1 = f32x4.splat(0);
      let c2 = f32x4.splat(0);
      let c3 = f32x4.splat(0);
      for (let x: i32 = 0; x < w; x++) {
        const av = v128.load(ap);
        c0 = f32x4.add(c0, f32x4.mul(av, v128.load(bp)));
        c1 = f32x4.add(c1, f32x4.mul(av, v128.load(bp, 16)));
        c2 = f32x4.add(c2, f32x4.mul(av, v128.load(bp, 32)));
        c3 = f32x4.add(c3, f32x4.mul(av, v128.load(bp, 48)));
        ap += aStep;
        bp += bStep;
      }
      add64(dst, c0);
      add64(dst + LV64, c1);
      add64(dst + 2 * LV64, c2);
      add64(dst + 3 * LV64, c3);
    }
  }
}

/**
 * `dotRows4` for two consecutive channels of a (a, a + 16) at once: eight accumulators, the four
 * of a at dst, those of a + 16 at dst1; each a value is loaded once for four channels of b, each
 * b value once for two of a. The same sums in the same order as two `dotRows4` calls.
 */
function dotRows2x4(
  a: usize, aStep: usize, aRow: usize, aImg: usize, b: usize, bStep: usize, bRow: usize, bImg: usize,
  n: i32, h: i32, w: i32, dst: usize, dst1: usize,
): void {
  for (let img: i32 = 0; img < n; img++) {
    for (let y: i32 = 0; y < h; y++) {
      let ap = a + <usize>img * aImg + <usize>y * aRow;
      let bp = b + <usize>img * bImg + <usize>y * bRow;
      let c0 = f32x4.splat(0);
      let c1 = f32x4.splat(0);
      let c2 = f32x4.splat(0);
      let c3 = f32x4.splat(0);
      let e0 = f32x4.splat(0);
      let e1 = f32x4.splat(0);
      let e2 = f32x4.splat(0);
      let e3 = f32x4.splat(0);
      for (let x: i32 = 0; x < w; x++) {
        const av = v128.load(ap);
        const aw = v128.load(ap, 16);
        const b0 = v128.load(bp);
        const b1 = v128.load(bp, 16);
        const b2 = v128.load(bp, 32);
        const b3 = v128.load(bp, 48);
        c0 = f32x4.add(c0, f32x4.mul(av, b0));
        c1 = f32x4.add(c1, f32x4.mul(av, b1));
        c2 = f32x4.add(c2, f32x4.mul(av, b2));
        c3 = f32x4.add(c3, f32x4.mul(av, b3));
        e0 = f32x4.add(e0, f32x4.mul(aw, b0));
        e1 = f32x4.add(e1, f32x4.mul(aw, b1));
        e2 = f32x4.add(e2, f32x4.mul(aw, b2));
        e3 = f32x4.add(e3, f32x4.mul(aw, b3));
        ap += aStep;
        bp += bStep;
      }
      add64(dst, c0);
      add64(dst + LV64, c1);
      add64(dst + 2 * LV64, c2);
      add64(dst + 3 * LV64, c3);
      add64(dst1, e0);
      add64(dst1 + LV64, e1);
      add64(dst1 + 2 * LV64, e2);
      add64(dst1 + 3 * LV64, e3);
    }
  }
}

/** Rounds `count` f64 accumulators at `src`, divided by GRAD_SCALE, to float32 lane vectors at `dst`. */
function storeRounded(src: usize, dst: usize, count: i32): void {
  for (let k: i32 = 0; k < count; k++) v128.store(lv(dst, k), round64(src + <usize>k * LV64, <f64>GRAD_SCALE));
}

/**
 * dx[img, y, x, ci] = Σ_{ky, kx, co} dpad[img, y + 2 − ky, x + 2 − kx, co] · wt[ky, kx, ci, co]:
 * the gradient of a 3×3 'same' convolution w.r.t. its input (unpadded out), from the padded
 * gradient w.r.t. its output. Two pixels and four input channels at a time (each weight loaded
 * once for two pixels); every sum in the order (ky, kx, co) whatever the blocking.
 */
export function conv3x3BackInput(dpad: usize, wt: usize, cin: i32, f: i32, dx: usize, n: i32, h: i32, w: i32): void {
  const rowStride = <usize>(w + 2) * <usize>f << 4;
  const pixelStride = <usize>f << 4;
  const outStride = <usize>cin << 4;
  for (let img: i32 = 0; img < n; img++) {
    for (let y: i32 = 0; y < h; y++) {
      const outRow = lv(dx, ((img * h + y) * w) * cin);
      // Tap (ky, kx) of pixel x reads dpad at (y + 2 − ky, x + 2 − kx).
      const cornerRow = lv(dpad, ((img * (h + 2) + y + 2) * (w + 2) + 2) * f);
      let x: i32 = 0;
      for (; x + 2 <= w; x += 2) {
        const corner = cornerRow + <usize>x * pixelStride;
        let op = outRow + <usize>x * outStride;
        let ci: i32 = 0;
        for (; ci + 4 <= cin; ci += 4) {
          let a0 = f32x4.splat(0);
          let a1 = f32x4.splat(0);
          let a2 = f32x4.splat(0);
          let a3 = f32x4.splat(0);
          let b0 = f32x4.splat(0);
          let b1 = f32x4.splat(0);
          let b2 = f32x4.splat(0);
          let b3 = f32x4.splat(0);
          for (let ky: i32 = 0; ky < 3; ky++) {
            for (let kx: i32 = 0; kx < 3; kx++) {
              let dp = corner - <usize>ky * rowStride - <usize>kx * pixelStride;
              let wp = lv(wt, ((ky * 3 + kx) * cin + ci) * f);
              for (let co: i32 = 0; co < f; co++) {
                const da = v128.load(dp);
                const db = v128.load(dp + pixelStride);
                const w0 = v128.load(wp);
                const w1 = v128.load(lv(wp, f));
                const w2 = v128.load(lv(wp, 2 * f));
                const w3 = v128.load(lv(wp, 3 * f));
                a0 = f32x4.add(a0, f32x4.mul(da, w0));
                a1 = f32x4.add(a1, f32x4.mul(da, w1));
                a2 = f32x4.add(a2, f32x4.mul(da, w2));
                a3 = f32x4.add(a3, f32x4.mul(da, w3));
                b0 = f32x4.add(b0, f32x4.mul(db, w0));
                b1 = f32x4.add(b1, f32x4.mul(db, w1));
                b2 = f32x4.add(b2, f32x4.mul(db, w2));
                b3 = f32x4.add(b3, f32x4.mul(db, w3));
                dp += LV;
                wp += LV;
              }
            }
          }
          v128.store(op, a0);
          v128.store(op, a1, 16);
          v128.store(op, a2, 32);
          v128.store(op, a3, 48);
          v128.store(op + outStride, b0);
          v128.store(op + outStride, b1, 16);
          v128.store(op + outStride, b2, 32);
          v128.store(op + outStride, b3, 48);
          op += 64;
        }
        for (; ci < cin; ci++) {
          let a0 = f32x4.splat(0);
          let b0 = f32x4.splat(0);
          for (let ky: i32 = 0; ky < 3; ky++) {
            for (let kx: i32 = 0; kx < 3; kx++) {
              let dp = corner - <usize>ky * rowStride - <usize>kx * pixelStride;
              let wp = lv(wt, ((ky * 3 + kx) * cin + ci) * f);
              for (let co: i32 = 0; co < f; co++) {
                const wv = v128.load(wp);
                a0 = f32x4.add(a0, f32x4.mul(v128.load(dp), wv));
                b0 = f32x4.add(b0, f32x4.mul(v128.load(dp + pixelStride), wv));
                dp += LV;
                wp += LV;
              }
            }
          }
          v128.store(op, a0);
          v128.store(op + outStride, b0);
          op += LV;
        }
      }
      if (x < w) backInputPixel(cornerRow + <usize>x * pixelStride, wt, cin, f, outRow + <usize>x * outStride, rowStride);
    }
  }
}

/** One pixel of `conv3x3BackInput` (a row's last, for odd widths): its cin channels, in the same order. */
function backInputPixel(corner: usize, wt: usize, cin: i32, f: i32, op: usize, rowStride: usize): void {
  const pixelStride = <usize>f << 4;
  for (let ci: i32 = 0; ci < cin; ci++) {
    let a0 = f32x4.splat(0);
    for (let ky: i32 = 0; ky < 3; ky++) {
      for (let kx: i32 = 0; kx < 3; kx++) {
        let dp = corner - <usize>ky * rowStride - <usize>kx * pixelStride;
        let wp = lv(wt, ((ky * 3 + kx) * cin + ci) * f);
        for (let co: i32 = 0; co < f; co++) {
          a0 = f32x4.add(a0, f32x4.mul(v128.load(dp), v128.load(wp)));
          dp += LV;
          wp += LV;
        }
      }
    }
    v128.store(op, a0);
    op += LV;
  }
}

/**
 * Batch norm's training gradient (assembly/kernels/batch_norm.ts lane by lane): from dy [m, f]
 * into dx [m, f] and the γ, β gradients' f64 accumulators (each `f` of them at dGamma64, dBeta64).
 */
function bnBackward(z: usize, dy: usize, gamma: usize, stats: usize, dx: usize, m: i32, f: i32, dGamma64: usize, dBeta64: usize): void {
  const mean = stats;
  const invStd = lv(stats, 2 * f);
  const rowBytes = <usize>f << 4;
  for (let c: i32 = 0; c < f; c++) {
    // Σ dy and Σ dy·x̂ in f64 (the products too), per channel in registers.
    let blo = f64x2.splat(0);
    let bhi = f64x2.splat(0);
    let glo = f64x2.splat(0);
    let ghi = f64x2.splat(0);
    const mu = v128.load(lv(mean, c));
    const r = v128.load(lv(invStd, c));
    let zp = lv(z, c);
    let dp = lv(dy, c);
    for (let i: i32 = 0; i < m; i++) {
      const g = v128.load(dp);
      const xhat = f32x4.mul(f32x4.sub(v128.load(zp), mu), r);
      const gl = f64x2.promote_low_f32x4(g);
      const gh = f64x2.promote_low_f32x4(v128.shuffle<f32>(g, g, 2, 3, 0, 1));
      blo = f64x2.add(blo, gl);
      bhi = f64x2.add(bhi, gh);
      glo = f64x2.add(glo, f64x2.mul(gl, f64x2.promote_low_f32x4(xhat)));
      ghi = f64x2.add(ghi, f64x2.mul(gh, f64x2.promote_low_f32x4(v128.shuffle<f32>(xhat, xhat, 2, 3, 0, 1))));
      zp += rowBytes;
      dp += rowBytes;
    }
    const sb = dBeta64 + <usize>c * LV64;
    const sg = dGamma64 + <usize>c * LV64;
    v128.store(sb, f64x2.add(v128.load(sb), blo));
    v128.store(sb, f64x2.add(v128.load(sb, 16), bhi), 16);
    v128.store(sg, f64x2.add(v128.load(sg), glo));
    v128.store(sg, f64x2.add(v128.load(sg, 16), ghi), 16);
    // ∂x = γ r (dy − Σdy/m − x̂ Σdy·x̂/m), the two means rounded to float32 as the kernel does.
    const mb = round64(sb, <f64>m);
    const mg = round64(sg, <f64>m);
    const gr = f32x4.mul(v128.load(lv(gamma, c)), r);
    zp = lv(z, c);
    dp = lv(dy, c);
    let op = lv(dx, c);
    for (let i: i32 = 0; i < m; i++) {
      const xhat = f32x4.mul(f32x4.sub(v128.load(zp), mu), r);
      const g = f32x4.sub(f32x4.sub(v128.load(dp), mb), f32x4.mul(xhat, mg));
      v128.store(op, f32x4.mul(gr, g));
      zp += rowBytes;
      dp += rowBytes;
      op += rowBytes;
    }
  }
}

/**
 * The filter gradient of a 3×3 'same' convolution: ∂w[ky, kx, ci, co] = Σ_{img, y, x}
 * in[img, y + ky, x + kx, ci] · ∂z[img, y, x, co], in padded in [n, h+2, w+2, cin] and padded ∂z
 * `dpad` [n, h+2, w+2, f], added into the f64 accumulators at `acc` ([3, 3, cin, f] of them).
 */
export function conv3x3BackFilter(inp: usize, cin: i32, dpad: usize, f: i32, acc: usize, n: i32, h: i32, w: i32): void {
  const dStep = <usize>f << 4;
  const dRow = <usize>(w + 2) * dStep;
  const dImg = <usize>(h + 2) * dRow;
  const d0 = dpad + dRow + dStep;
  const iStep = <usize>cin << 4;
  const iRow = <usize>(w + 2) * iStep;
  const iImg = <usize>(h + 2) * iRow;
  for (let ky: i32 = 0; ky < 3; ky++) {
    for (let kx: i32 = 0; kx < 3; kx++) {
      let ci: i32 = 0;
      for (; ci + 2 <= cin; ci += 2) {
        const a = inp + <usize>ky * iRow + <usize>kx * iStep + (<usize>ci << 4);
        const base = ((ky * 3 + kx) * cin + ci) * f;
        let co: i32 = 0;
        for (; co + 4 <= f; co += 4) {
          dotRows2x4(a, iStep, iRow, iImg, lv(d0, co), dStep, dRow, dImg, n, h, w,
            acc + <usize>(base + co) * LV64, acc + <usize>(base + f + co) * LV64);
        }
        for (; co < f; co++) {
          dotRows(a, iStep, iRow, iImg, lv(d0, co), dStep, dRow, dImg, n, h, w, acc + <usize>(base + co) * LV64);
          dotRows(a + LV, iStep, iRow, iImg, lv(d0, co), dStep, dRow, dImg, n, h, w, acc + <usize>(base + f + co) * LV64);
        }
      }
      for (; ci < cin; ci++) {
        const a = inp + <usize>ky * iRow + <usize>kx * iStep + (<usize>ci << 4);
        const base = ((ky * 3 + kx) * cin + ci) * f;
        let co: i32 = 0;
        for (; co + 4 <= f; co += 4) {
          dotRows4(a, iStep, iRow, iImg, lv(d0, co), dStep, dRow, dImg, n, h, w, acc + <usize>(base + co) * LV64);
        }
        for (; co < f; co++) {
          dotRows(a, iStep, iRow, iImg, lv(d0, co), dStep, dRow, dImg, n, h, w, acc + <usize>(base + co) * LV64);
        }
      }
    }
  }
}

/**
 * Backpropagates H_DLOGITS through the net of the last training forward pass into the gradient
 * buffer `grads` [Q], and writes the global norm √Σ g² per lane (f64) to `normOut`.
 */
function backward(ctx: usize, grads: usize, normOut: usize): void {
  const n = word(ctx, H_N);
  const h = word(ctx, H_H);
  const w = word(ctx, H_W);
  const layers = word(ctx, H_L);
  const f = word(ctx, H_F);
  const bn = word(ctx, H_BN);
  const q = word(ctx, H_Q);
  const params = addr(ctx, H_PARAMS);
  const dl = addr(ctx, H_DLOGITS);
  const dh = addr(ctx, H_DH);
  const dpad = addr(ctx, H_DPAD);
  const dtmp = addr(ctx, H_DTMP);
  const acc = addr(ctx, H_F64); // [Q] f64 accumulators, one per parameter
  const m = n * h * w;
  memory.fill(acc, 0, <usize>q * LV64);

  // Head: ∂b_k = Σ dl_k, ∂w[c, k] = Σ h_c dl_k, ∂h_c = Σ_k dl_k w[c, k].
  const headOffset = layerOffset(layers, f, bn);
  const headW = lv(params, headOffset);
  const hLast = addr(ctx, H_LAYERS + 4 * (layers - 1) + 2);
  const hpStep = <usize>f << 4;
  const hpRow = <usize>(w + 2) * hpStep;
  const hpImg = <usize>(h + 2) * hpRow;
  const hp0 = hLast + hpRow + hpStep; // interior origin
  for (let k: i32 = 0; k < 2; k++) {
    const dk = lv(dl, k);
    dotRows(dk, 32, <usize>w * 32, <usize>(h * w) * 32, 0, 0, 0, 0, n, h, w, acc + <usize>(headOffset + 2 * f + k) * LV64);
    for (let c: i32 = 0; c < f; c++) {
      dotRows(lv(hp0, c), hpStep, hpRow, hpImg, dk, 32, <usize>w * 32, <usize>(h * w) * 32, n, h, w,
        acc + <usize>(headOffset + 2 * c + k) * LV64);
    }
  }
  for (let i: i32 = 0; i < m; i++) {
    const d0 = v128.load(lv(dl, 2 * i));
    const d1 = v128.load(lv(dl, 2 * i + 1));
    for (let c: i32 = 0; c < f; c++) {
      v128.store(lv(dh, i * f + c), f32x4.add(f32x4.mul(d0, v128.load(lv(headW, 2 * c))), f32x4.mul(d1, v128.load(lv(headW, 2 * c + 1)))));
    }
  }

  const dStep = <usize>f << 4;
  for (let l = layers - 1; l >= 0; l--) {
    const z = addr(ctx, H_LAYERS + 4 * l);
    const pre = addr(ctx, H_LAYERS + 4 * l + 1);
    const stats = addr(ctx, H_LAYERS + 4 * l + 3);
    const cin = l == 0 ? 1 : f;
    const offset = layerOffset(l, f, bn);
    const wt = lv(params, offset);
    const after = offset + 9 * cin * f; // bias, or γ then β
    // relu: ∂pre = ∂h where pre > 0 (tfjs: dy · step(pre)).
    const zero = f32x4.splat(0);
    for (let i: i32 = 0; i < m * f; i++) {
      v128.store(lv(dh, i), v128.and(v128.load(lv(dh, i)), f32x4.gt(v128.load(lv(pre, i)), zero)));
    }
    if (bn == 0) {
      for (let c: i32 = 0; c < f; c++) {
        dotRows(lv(dh, c), dStep, <usize>w * dStep, <usize>(h * w) * dStep, 0, 0, 0, 0, n, h, w, acc + <usize>(after + c) * LV64);
      }
      copyPadded(dh, dpad, n, h, w, f);
    } else {
      bnBackward(z, dh, lv(params, after), stats, dtmp, m, f, acc + <usize>after * LV64, acc + <usize>(after + f) * LV64);
      copyPadded(dtmp, dpad, n, h, w, f);
    }
    // ∂w[ky, kx, ci, co] = Σ in[img, y + ky, x + kx, ci] · ∂z[img, y, x, co].
    const inp = l == 0 ? addr(ctx, H_X) : addr(ctx, H_LAYERS + 4 * (l - 1) + 2);
    conv3x3BackFilter(inp, cin, dpad, f, acc + <usize>offset * LV64, n, h, w);
    if (l > 0) conv3x3BackInput(dpad, wt, cin, f, dh, n, h, w);
  }
  storeRounded(acc, grads, q);

  // √Σ g² per lane, in f64 over the float32 gradients (src/ops/global_norm.ts).
  let lo = f64x2.splat(0);
  let hi = f64x2.splat(0);
  for (let k: i32 = 0; k < q; k++) {
    const g = v128.load(lv(grads, k));
    const gl = f64x2.promote_low_f32x4(g);
    const gh = f64x2.promote_low_f32x4(v128.shuffle<f32>(g, g, 2, 3, 0, 1));
    lo = f64x2.add(lo, f64x2.mul(gl, gl));
    hi = f64x2.add(hi, f64x2.mul(gh, gh));
  }
  v128.store(normOut, f64x2.sqrt(lo));
  v128.store(normOut, f64x2.sqrt(hi), 16);
}

/**
 * The update with each lane's training-loss gradient: Adam (assembly/kernels/adam.ts's
 * expression) or SGD with momentum (tfjs: a ← μ a + g, θ ← (−lr) a + θ; plain SGD is μ = 0, the
 * same bits as θ ← (−lr) g + θ), chosen per lane.
 */
function update(ctx: usize): void {
  const q = word(ctx, H_Q);
  const nLoss = word(ctx, H_NLOSS);
  const params = addr(ctx, H_PARAMS);
  const grads = addr(ctx, H_GRADS);
  const masks = addr(ctx, H_TRAIN_MASK);
  const mAdam = addr(ctx, H_ADAM_M);
  const vAdam = addr(ctx, H_ADAM_V);
  const accum = addr(ctx, H_ACCUM);
  const hy = addr(ctx, H_HYPER);
  const negLr = v128.load(lv(hy, HY_NEG_LR));
  const beta1 = v128.load(lv(hy, HY_BETA1));
  const beta2 = v128.load(lv(hy, HY_BETA2));
  const omb1 = v128.load(lv(hy, HY_ONE_MINUS_BETA1));
  const omb2 = v128.load(lv(hy, HY_ONE_MINUS_BETA2));
  const eps = v128.load(lv(hy, HY_EPSILON));
  const mom = v128.load(lv(hy, HY_MOMENTUM));
  const isAdam = v128.load(lv(hy, HY_ADAM));
  const omab1 = v128.load(lv(hy, HY_ONE_MINUS_ACC_BETA1));
  const omab2 = v128.load(lv(hy, HY_ONE_MINUS_ACC_BETA2));
  for (let k: i32 = 0; k < q; k++) {
    let g = f32x4.splat(0);
    for (let s: i32 = 0; s < nLoss; s++) g = v128.or(g, v128.and(v128.load(lv(grads, s * q + k)), v128.load(lv(masks, s))));
    const theta = v128.load(lv(params, k));
    const m1 = f32x4.add(f32x4.mul(v128.load(lv(mAdam, k)), beta1), f32x4.mul(g, omb1));
    const v1 = f32x4.add(f32x4.mul(v128.load(lv(vAdam, k)), beta2), f32x4.mul(f32x4.mul(g, g), omb2));
    v128.store(lv(mAdam, k), m1);
    v128.store(lv(vAdam, k), v1);
    const step = f32x4.div(f32x4.div(m1, omab1), f32x4.add(f32x4.sqrt(f32x4.div(v1, omab2)), eps));
    const adam = f32x4.add(f32x4.mul(step, negLr), theta);
    const a1 = f32x4.add(f32x4.mul(mom, v128.load(lv(accum, k))), g);
    v128.store(lv(accum, k), a1);
    const sgd = f32x4.add(f32x4.mul(negLr, a1), theta);
    v128.store(lv(params, k), v128.bitselect(adam, sgd, isAdam));
  }
}

/** moving ← fround(0.99·moving) + fround(0.01·batch) for each BN layer's mean and variance. */
function movingAverages(ctx: usize): void {
  const layers = word(ctx, H_L);
  const f = word(ctx, H_F);
  const moving = addr(ctx, H_MOVING);
  const keep = f32x4.splat(BN_KEEP);
  const take = f32x4.splat(BN_TAKE);
  for (let l: i32 = 0; l < layers; l++) {
    const stats = addr(ctx, H_LAYERS + 4 * l + 3);
    for (let k: i32 = 0; k < 2 * f; k++) {
      const mp = lv(moving, 2 * f * l + k);
      v128.store(mp, f32x4.add(f32x4.mul(v128.load(mp), keep), f32x4.mul(v128.load(lv(stats, k)), take)));
    }
  }
}

/** Draws each run's validation set (once, before the first step). */
export function lanes_init(ctx: usize): void {
  generate(addr(ctx, H_VAL_RNG), addr(ctx, H_CUT), addr(ctx, H_VAL_X), addr(ctx, H_VAL_LABELS),
    word(ctx, H_V), word(ctx, H_H), word(ctx, H_W));
}

/**
 * One training step of the four lanes: a fresh batch, the forward pass, each logged loss's value
 * and gradient norm (into H_OUT: per loss 4 f64 values then 4 f64 norms), the update with each
 * lane's training loss, and the moving averages. The caller checks the values for divergence.
 */
export function lanes_step(ctx: usize): void {
  const n = word(ctx, H_N);
  const h = word(ctx, H_H);
  const w = word(ctx, H_W);
  const m = n * h * w;
  generate(addr(ctx, H_RNG), addr(ctx, H_CUT), addr(ctx, H_X), addr(ctx, H_LABELS), n, h, w);
  forward(ctx, addr(ctx, H_X), n, true);
  lossSums(ctx, m);
  const nLoss = word(ctx, H_NLOSS);
  const q = word(ctx, H_Q);
  const out = addr(ctx, H_OUT);
  for (let s: i32 = 0; s < nLoss; s++) {
    lossGrad(ctx, word(ctx, H_LOSS_KIND + s), m, out + <usize>s * 64);
    backward(ctx, lv(addr(ctx, H_GRADS), s * q), out + <usize>s * 64 + 32);
  }
  update(ctx);
  if (word(ctx, H_BN) != 0) movingAverages(ctx);
}

/**
 * Evaluation on the validation set with batch norm in inference mode: per lane the counts
 * (H_COUNTS, i32 lanes) of correct pixels, of background and foreground intersections, of pixels
 * predicted foreground and of foreground pixels. argmax takes the first class on ties (tfjs).
 */
export function lanes_eval(ctx: usize): void {
  const n = word(ctx, H_N);
  const h = word(ctx, H_H);
  const w = word(ctx, H_W);
  const v = word(ctx, H_V);
  const valX = addr(ctx, H_VAL_X);
  const valLabels = addr(ctx, H_VAL_LABELS);
  const logits = addr(ctx, H_LOGITS);
  const counts = addr(ctx, H_COUNTS);
  let correct = i32x4.splat(0);
  let interBg = i32x4.splat(0);
  let interFg = i32x4.splat(0);
  let predFg = i32x4.splat(0);
  let trueFg = i32x4.splat(0);
  const imgBytes = <usize>((h + 2) * (w + 2)) << 4;
  for (let first: i32 = 0; first < v; first += n) {
    const count = min<i32>(n, v - first);
    forward(ctx, valX + <usize>first * imgBytes, count, false);
    const pixels = count * h * w;
    const lb = lv(valLabels, first * h * w);
    for (let i: i32 = 0; i < pixels; i++) {
      const pred = f32x4.gt(v128.load(lv(logits, 2 * i + 1)), v128.load(lv(logits, 2 * i)));
      const y = v128.load(lv(lb, i));
      // Lane masks are −1 where true: subtracting counts them.
      correct = i32x4.sub(correct, v128.not(v128.xor(pred, y)));
      interFg = i32x4.sub(interFg, v128.and(pred, y));
      interBg = i32x4.sub(interBg, v128.not(v128.or(pred, y)));
      predFg = i32x4.sub(predFg, pred);
      trueFg = i32x4.sub(trueFg, y);
    }
  }
  v128.store(lv(counts, COUNT_CORRECT), correct);
  v128.store(lv(counts, COUNT_INTER_BG), interBg);
  v128.store(lv(counts, COUNT_INTER_FG), interFg);
  v128.store(lv(counts, COUNT_PRED_FG), predFg);
  v128.store(lv(counts, COUNT_TRUE_FG), trueFg);
}
