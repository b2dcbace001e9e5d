/**
 * Seeded pseudo-random inputs for the tests. Every value is exactly representable in float32, so
 * a float32 tensor built from it and the float64 reference see the very same input.
 */

/** A random number generator returning uniform values in [0, 1). */
export type Rng = () => number;

/** Mulberry32: a tiny, fast 32-bit PRNG; good enough for test data and fully reproducible. */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `size` logits uniform in [−scale, scale), rounded to float32. */
export function randomLogits(rng: Rng, size: number, scale: number): Float64Array {
  const out = new Float64Array(size);
  for (let i = 0; i < size; i++) out[i] = Math.fround((2 * rng() - 1) * scale);
  return out;
}

/** Class indices in [0, C) for P pixels. */
export function randomIndexLabels(rng: Rng, P: number, C: number): Int32Array {
  const out = new Int32Array(P);
  for (let i = 0; i < P; i++) out[i] = Math.min(C - 1, Math.floor(rng() * C));
  return out;
}

/** One-hot labels (P pixels × C channels, channels last) of random class indices. */
export function randomOneHot(rng: Rng, P: number, C: number): Float32Array {
  const index = randomIndexLabels(rng, P, C);
  const out = new Float32Array(P * C);
  for (let i = 0; i < P; i++) out[i * C + index[i]] = 1;
  return out;
}

/** Soft targets: every pixel's C values are positive and sum to 1 (float32-representable). */
export function randomSoftLabels(rng: Rng, P: number, C: number): Float32Array {
  const out = new Float32Array(P * C);
  for (let i = 0; i < P; i++) {
    let total = 0;
    for (let c = 0; c < C; c++) total += (out[i * C + c] = 0.05 + rng());
    for (let c = 0; c < C; c++) out[i * C + c] /= total;
  }
  return out;
}
