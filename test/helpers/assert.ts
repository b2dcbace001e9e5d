/** Tolerance of `expectClose`: |actual − expected| ≤ abs + rel·|expected|. */
export interface Tolerance {
  abs: number;
  rel: number;
}

/**
 * Element-wise closeness check that names the first offending element. NaN equals only NaN and
 * an infinity equals only the same infinity, so "NaN in, NaN out" and overflow are checked too.
 */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  { abs, rel }: Tolerance,
  label: string,
): void {
  if (actual.length !== expected.length) {
    throw new Error(`${label}: length ${actual.length}, expected ${expected.length}`);
  }
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Number.isNaN(a) || Number.isNaN(e)) {
      if (Number.isNaN(a) && Number.isNaN(e)) continue;
    } else if (a === e) {
      continue; // also covers equal infinities, whose difference would be NaN
    } else if (Math.abs(a - e) <= abs + rel * Math.abs(e)) {
      continue;
    }
    throw new Error(
      `${label}: element ${i} differs: actual ${a}, expected ${e}, ` +
        `difference ${a - e} (tolerance abs ${abs} + rel ${rel})`,
    );
  }
}
