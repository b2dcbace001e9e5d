/**
 * Curves for display: a trailing moving average (the seed's figures smooth gradient norms over
 * 201 steps and losses over 11), then at most `maxPoints` points, which after that smoothing loses
 * nothing the eye can see and keeps a 108-run report fast.
 */
export function movingAverage(values: ArrayLike<number>, window: number): number[] {
  const out = new Array<number>(values.length);
  let sum = 0;
  let count = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isFinite(v)) {
      sum += v;
      count++;
    }
    const drop = i - window;
    if (drop >= 0 && Number.isFinite(values[drop])) {
      sum -= values[drop];
      count--;
    }
    out[i] = count > 0 ? sum / count : NaN;
  }
  return out;
}

/** The median of the finite values (the mean of the middle two for an even count); NaN for none. */
export function median(values: readonly number[] | Float64Array): number {
  // The finite values in a typed array, which sorts numerically and fast (a run's 10,001 values,
  // several times a run).
  const finite = new Float64Array(values.length);
  let n = 0;
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) finite[n++] = values[i];
  const v = finite.subarray(0, n).sort();
  if (!v.length) return NaN;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/** Indices of at most `maxPoints` evenly spaced samples, always keeping the first and last. */
export function sampleIndices(length: number, maxPoints: number): number[] {
  if (length <= maxPoints) return Array.from({ length }, (_, i) => i);
  const step = (length - 1) / (maxPoints - 1);
  return Array.from({ length: maxPoints }, (_, k) => Math.round(k * step));
}
