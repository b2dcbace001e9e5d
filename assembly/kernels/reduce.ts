/**
 * Sums over every axis but the last: out[c] = Σ_r x[r, c] for x viewed as [rows, cols] (a bias
 * gradient, batch statistics' sums). tfjs-backend-wasm's Sum transposes such an input before it
 * reduces it; this streams the rows once, four columns per f32x4 (the scalar loop takes the rest).
 *
 * Error: each column is summed in f32 over blocks of FLUSH_ROWS rows, the blocks in f64, so the
 * result is within a few ulp of the exact sum for any row count (tfjs's own Sum adds in f32).
 */

// @ts-ignore: decorator
@inline const FLUSH_ROWS: i32 = 256;

/** acc[i] += src[i] for i < n, in f32: four lanes at a time, then one. */
// @ts-ignore: decorator
@inline function addInto(acc: usize, src: usize, n: i32): void {
  let i: i32 = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(acc + o, f32x4.add(v128.load(acc + o), v128.load(src + o)));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(acc + o, load<f32>(acc + o) + load<f32>(src + o));
  }
}

/**
 * @param x     float32 [rows, cols]
 * @param out   float32 [cols] output
 * @param acc   cols f32 (block sums) then cols f64 (totals) of scratch, 8-byte aligned
 */
export function sum_leading_axes_f32(x: usize, rows: i32, cols: i32, out: usize, acc: usize): void {
  const rowBytes = <usize>cols << 2;
  const block = acc;
  const totals = (acc + rowBytes + 7) & ~<usize>7;
  memory.fill(totals, 0, <usize>cols << 3);
  let r: i32 = 0;
  while (r < rows) {
    const blockEnd = min<i32>(rows, r + FLUSH_ROWS);
    memory.copy(block, x + <usize>r * rowBytes, rowBytes);
    for (r++; r < blockEnd; r++) addInto(block, x + <usize>r * rowBytes, cols);
    for (let c: i32 = 0; c < cols; c++) {
      const t = totals + (<usize>c << 3);
      store<f64>(t, load<f64>(t) + <f64>load<f32>(block + (<usize>c << 2)));
    }
  }
  for (let c: i32 = 0; c < cols; c++) store<f32>(out + (<usize>c << 2), <f32>load<f64>(totals + (<usize>c << 3)));
}

/**
 * out = ((0 + slot_0) + slot_1) + … + slot_{count−1}, element by element in f32: partials of a
 * batch's images (one slot each, `length` floats apart) added in image order, the order a
 * data-parallel step keeps for any number of threads (src/parallel/).
 */
export function fold_f32(slots: usize, count: i32, length: i32, out: usize): void {
  const bytes = <usize>length << 2;
  memory.fill(out, 0, bytes);
  for (let k: i32 = 0; k < count; k++) addInto(out, slots + <usize>k * bytes, length);
}

/** fold_f32 for f64 slots (batch norm's per-image sums). */
export function fold_f64(slots: usize, count: i32, length: i32, out: usize): void {
  const bytes = <usize>length << 3;
  memory.fill(out, 0, bytes);
  for (let k: i32 = 0; k < count; k++) {
    const slot = slots + <usize>k * bytes;
    for (let i: i32 = 0; i < length; i++) {
      const o = <usize>i << 3;
      store<f64>(out + o, load<f64>(out + o) + load<f64>(slot + o));
    }
  }
}
