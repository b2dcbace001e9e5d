/**
 * Reading labels, shared by the kernels: float32 one-hot (or soft) [P, C], or int32 class
 * indices [P] (already validated to [0, C)), as y_c values.
 */
import { even_f32x4, odd_f32x4, mask_to_f32x4 } from '../math/lanes';

/** Label layouts (the numbers src/losses/labels.ts passes). */
export const LABELS_ONE_HOT: i32 = 0;
export const LABELS_INDEX: i32 = 1;

/** y_c of pixel i: the one-hot value, or [index = c]. */
// @ts-ignore: decorator
@inline export function label_value(labels: usize, labelKind: i32, i: i32, c: i32, classes: i32): f32 {
  if (labelKind == LABELS_ONE_HOT) return load<f32>(labels + ((<usize>i * <usize>classes + <usize>c) << 2));
  return load<i32>(labels + (<usize>i << 2)) == c ? 1 : 0;
}

/** y_0 (`channel` 0) or y_1 (`channel` 1) of four two-class pixels starting at pixel i. */
// @ts-ignore: decorator
@inline export function labels_c2_f32x4(labels: usize, labelKind: i32, i: i32, channel: i32): v128 {
  if (labelKind == LABELS_ONE_HOT) {
    const yp = labels + (<usize>i << 3);
    const ya = v128.load(yp);
    const yb = v128.load(yp, 16);
    return channel == 1 ? odd_f32x4(ya, yb) : even_f32x4(ya, yb);
  }
  return mask_to_f32x4(i32x4.eq(v128.load(labels + (<usize>i << 2)), i32x4.splat(channel)));
}
