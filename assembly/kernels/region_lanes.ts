/**
 * Lane helpers of the region engine's SIMD paths (region_simd.ts, pixel_simd.ts): labels of four
 * pixels as a channel tile, or of four consecutive elements (whose classes repeat every
 * C / gcd(C, 4) vectors), per-period parameters, and small vector maths.
 */
import { exp_f32x4 } from '../math/exp';
import { log_f32x4 } from '../math/log';
import { gather_tile_f32x4, hsum_f32x4, mask_to_f32x4 } from '../math/lanes';
import { softmax2_p1_f32x4, softmax2_pmax_f32x4, softmax2_t_f32x4 } from '../math/softmax';
import { LABELS_INDEX } from './labels';
import { STATS, param } from './region_common';

/**
 * Four pixels' labels for a channel tile: class indices are returned (with float labels the rows
 * are gathered into `yTile` and zeros returned); `tile_keep` and `tile_y` read them.
 */
// @ts-ignore: decorator
@inline export function tile_labels(labels: usize, labelKind: i32, i: i32, rowBytes: usize, yTile: usize, classes: i32): v128 {
  if (labelKind == LABELS_INDEX) return v128.load(labels + (<usize>i << 2));
  gather_tile_f32x4(labels + <usize>i * rowBytes, rowBytes, yTile);
  return i32x4.splat(0);
}

/** All ones on the lanes whose pixel counts: not the ignored class index. */
// @ts-ignore: decorator
@inline export function tile_keep(l: v128, labelKind: i32, hasIgnore: i32, ignoreIndex: i32): v128 {
  return labelKind == LABELS_INDEX && hasIgnore ? v128.not(i32x4.eq(l, i32x4.splat(ignoreIndex))) : i32x4.splat(-1);
}

/** Class c's labels for the four pixels of `tile_labels`. */
// @ts-ignore: decorator
@inline export function tile_y(l: v128, labelKind: i32, yTile: usize, c: i32): v128 {
  return labelKind == LABELS_INDEX ? mask_to_f32x4(i32x4.eq(l, i32x4.splat(c))) : v128.load(yTile + (<usize>c << 4));
}

/** The vectors of a group's elements in whole periods (so whole pixels), for the four-element paths. */
// @ts-ignore: decorator
@inline export function whole_periods(pixels: i32, classes: i32): i32 {
  const V = period(classes);
  return ((pixels * classes) / (V << 2)) * V;
}

/** Vectors per period of classes along the elements: lcm(C, 4) / 4 = C / gcd(C, 4). */
// @ts-ignore: decorator
@inline export function period(classes: i32): i32 {
  return (classes & 3) == 0 ? classes >> 2 : (classes & 1) == 0 ? classes >> 1 : classes;
}

/** The sigmoid of four lanes, as `sigmoid_f32`. */
// @ts-ignore: decorator
@inline export function sigmoid_f32x4(x: v128): v128 {
  const t = softmax2_t_f32x4(x);
  return softmax2_p1_f32x4(x, t, softmax2_pmax_f32x4(t));
}

/**
 * The int32 label of the pixel of each of four consecutive elements starting at element e (e at a
 * period's vector: for C ∤ 4 and 4 ∤ C the four lanes span two pixels at most, as C ≥ 3).
 */
// @ts-ignore: decorator
@inline export function pixel_labels_i32x4(labels: usize, e: i32, classes: i32): v128 {
  if (classes == 1) return v128.load(labels + (<usize>e << 2));
  if (classes == 2) {
    const pair = v128.load64_zero(labels + (<usize>(e >> 1) << 2));
    return v128.shuffle<i32>(pair, pair, 0, 0, 1, 1);
  }
  const pixel = e / classes;
  const first = i32x4.splat(load<i32>(labels + (<usize>pixel << 2)));
  if ((classes & 3) == 0) return first;
  const r = e - pixel * classes;
  if (r + 3 < classes) return first;
  // Lanes l with r + l ≥ C belong to the next pixel.
  const next = i32x4.splat(load<i32>(labels + (<usize>(pixel + 1) << 2)));
  return v128.bitselect(next, first, i32x4.ge_s(i32x4.add(i32x4.splat(r), i32x4(0, 1, 2, 3)), i32x4.splat(classes)));
}

/**
 * y of four consecutive elements starting at element e from their pixels' class indices `l`: the
 * mask itself for C = 1 (binary), else [l = class of the lane]; c0 is e's class when C % 4 = 0.
 */
// @ts-ignore: decorator
@inline export function index_y_f32x4(l: v128, e: i32, c0: i32, classes: i32): v128 {
  if (classes == 1) return mask_to_f32x4(i32x4.eq(l, i32x4.splat(1)));
  if (classes == 2) return mask_to_f32x4(i32x4.eq(l, i32x4(0, 1, 0, 1)));
  const iota = i32x4(0, 1, 2, 3);
  if ((classes & 3) == 0) return mask_to_f32x4(i32x4.eq(l, i32x4.add(i32x4.splat(c0), iota)));
  // Lane l's class is (r + l) mod C with r = e mod C; r + l < 2C as C ≥ 3.
  const C = i32x4.splat(classes);
  const rl = i32x4.add(i32x4.splat(e % classes), iota);
  return mask_to_f32x4(i32x4.eq(l, i32x4.sub(rl, v128.and(i32x4.ge_s(rl, C), C))));
}

/** Lane l (0..3, a run-time index) of a vector. */
// @ts-ignore: decorator
@inline export function lane_f32(v: v128, l: i32): f32 {
  return l == 0 ? f32x4.extract_lane(v, 0) : l == 1 ? f32x4.extract_lane(v, 1) : l == 2 ? f32x4.extract_lane(v, 2) : f32x4.extract_lane(v, 3);
}

/**
 * x^γ on four lanes, x ≥ 0 (0 where x = 0 and γ > 0). The general case is a call of its own: inlined,
 * binaryen turns the branches into selects and every γ pays for an exp and a log (measured: Dice +
 * focal's gradient pass at γ = 2 took 2.4 ms instead of 1.1).
 */
// @ts-ignore: decorator
@inline export function pow_f32x4(x: v128, gamma: f32): v128 {
  if (gamma == 0) return f32x4.splat(1.0);
  if (gamma == 1) return x;
  if (gamma == 2) return f32x4.mul(x, x);
  return pow_general_f32x4(x, gamma);
}

export function pow_general_f32x4(x: v128, gamma: f32): v128 {
  const positive = f32x4.gt(x, f32x4.splat(0));
  return v128.and(exp_f32x4(f32x4.mul(f32x4.splat(gamma), log_f32x4(x))), positive);
}

/** y of four consecutive elements starting at element e, whose first class is c0 (when C % 4 = 0). */
// @ts-ignore: decorator
@inline export function element_y_f32x4(labels: usize, labelKind: i32, e: i32, c0: i32, classes: i32): v128 {
  if (labelKind != LABELS_INDEX) return v128.load(labels + (<usize>e << 2));
  return index_y_f32x4(pixel_labels_i32x4(labels, e, classes), e, c0, classes);
}

// @ts-ignore: decorator
@inline export function element_keep(labels: usize, labelKind: i32, e: i32, classes: i32, hasIgnore: i32, ignoreIndex: i32): v128 {
  if (hasIgnore == 0 || labelKind != LABELS_INDEX) return i32x4.splat(-1);
  return v128.not(i32x4.eq(pixel_labels_i32x4(labels, e, classes), i32x4.splat(ignoreIndex)));
}

/** The per-channel parameters a (posWeight / alpha) as vectors per position of the class period, at `at`. */
export function period_params(params: usize, classes: i32, at: usize): void {
  const V = period(classes);
  for (let j: i32 = 0; j < V; j++) {
    for (let l: i32 = 0; l < 4; l++) {
      store<f32>(at + (<usize>(j * 4 + l) << 2), param(params, classes + (4 * j + l) % classes));
    }
  }
}

/** The five per-class sums' f32x4 accumulators at `a` (I, S, Y, S2, Y2) += p y, p, y, p², y². */
// @ts-ignore: decorator
@inline export function accumulate_stats_f32x4(a: usize, p: v128, y: v128, squares: bool = true): void {
  v128.store(a, f32x4.add(v128.load(a), f32x4.mul(p, y)));
  v128.store(a, f32x4.add(v128.load(a, 16), p), 16);
  v128.store(a, f32x4.add(v128.load(a, 32), y), 32);
  if (!squares) return;
  v128.store(a, f32x4.add(v128.load(a, 48), f32x4.mul(p, p)), 48);
  v128.store(a, f32x4.add(v128.load(a, 64), f32x4.mul(y, y)), 64);
}

/**
 * Adds the four-element paths' accumulators (`acc`: 5 vectors per position of the class period) to
 * the group's f64 sums: lane l of position j holds class (4j + l) mod C.
 */
export function flush_period_stats(acc: usize, sums: usize, classes: i32): void {
  const V = period(classes);
  for (let j: i32 = 0; j < V; j++) {
    for (let l: i32 = 0; l < 4; l++) {
      const c = (4 * j + l) % classes;
      for (let stat: i32 = 0; stat < STATS; stat++) {
        const at = sums + (<usize>(c * STATS + stat) << 3);
        store<f64>(at, load<f64>(at) + <f64>load<f32>(acc + (<usize>((j * STATS + stat) * 4 + l) << 2)));
      }
    }
  }
}

/** sums[k] += the horizontal sum of `v`. */
// @ts-ignore: decorator
@inline export function add_f64(sums: usize, k: i32, v: v128): void {
  const at = sums + (<usize>k << 3);
  store<f64>(at, load<f64>(at) + hsum_f32x4(v));
}
