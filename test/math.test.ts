/**
 * The hand-written float32 exp/log of assembly/math, measured through the elementwise kernels
 * (`exp_f32_array`, `log_f32_array`, and the softmax variants `exp_neg_f32_array`,
 * `log1p_unit_f32_array`): maximum error in ulps against Math.exp / Math.log / Math.log1p
 * (float64) over dense grids, the documented special values, and bit-identical results from the
 * SIMD and scalar builds.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { KernelExports, KernelVariant } from '../src/wasm/module.js';
import { mulberry32 } from './helpers/random.js';
import { backendMemory, kernels, useWasm, type BackendWasm } from './helpers/wasm.js';

// The bound documented in assembly/math/exp.ts and log.ts.
const MAX_ULP = 2;
// Inputs go through the backend's heap in chunks of this many floats (4 MiB per buffer).
const CHUNK = 1 << 20;

let backend: BackendWasm;

beforeAll(async () => {
  // Set up both builds; `kernels(backend, variant)` then reaches either one.
  await useWasm('scalar');
  backend = await useWasm('simd');
});

type ArrayKernel = 'exp_f32_array' | 'log_f32_array' | 'exp_neg_f32_array' | 'log1p_unit_f32_array';

/** Runs an elementwise kernel of one build over `xs` and returns a copy of its output. */
function run(variant: KernelVariant, name: ArrayKernel, xs: Float32Array): Float32Array {
  const k: KernelExports = kernels(backend, variant);
  const out = new Float32Array(xs.length);
  const { _malloc, _free } = backend.wasm as unknown as {
    _malloc(bytes: number): number;
    _free(address: number): void;
  };
  for (let start = 0; start < xs.length; start += CHUNK) {
    const n = Math.min(CHUNK, xs.length - start);
    const src = _malloc(4 * n);
    const dst = _malloc(4 * n);
    try {
      // Fresh views every time: malloc may have grown (and so replaced) the memory's buffer.
      new Float32Array(backendMemory(backend).buffer, src, n).set(xs.subarray(start, start + n));
      k[name](src, dst, n);
      out.set(new Float32Array(backendMemory(backend).buffer, dst, n), start);
    } finally {
      _free(src);
      _free(dst);
    }
  }
  return out;
}

/** The float32 ulp at the magnitude of the exact value `v` (subnormal spacing below 2^−126). */
function ulpOf(v: number): number {
  const a = Math.abs(v);
  let e = Math.floor(Math.log2(a));
  // log2 may be off by one next to powers of two.
  if (2 ** e > a) e--;
  else if (2 ** (e + 1) <= a) e++;
  return 2 ** (Math.max(e, -126) - 23);
}

/** The largest |actual − exact| in ulps of exact over the grid, and where it happens. */
function maxUlpError(xs: Float32Array, actual: Float32Array, exact: (x: number) => number): { ulps: number; at: number } {
  let worst = { ulps: 0, at: NaN };
  for (let i = 0; i < xs.length; i++) {
    const e = exact(xs[i]);
    const ulps = e === 0 ? Math.abs(actual[i]) / ulpOf(Number.MIN_VALUE) : Math.abs(actual[i] - e) / ulpOf(e);
    // Also catches a NaN result, which would otherwise compare false and pass unnoticed.
    if (!(ulps <= worst.ulps)) worst = { ulps, at: xs[i] };
  }
  return worst;
}

/** `count` float32 values evenly spaced over [lo, hi], both included. */
function linspace(lo: number, hi: number, count: number): Float32Array {
  const xs = new Float32Array(count);
  for (let i = 0; i < count; i++) xs[i] = lo + ((hi - lo) * i) / (count - 1);
  xs[count - 1] = hi;
  return xs;
}

/** Float32 values from `lo` to `hi` (inclusive) stepping `stride` bit patterns: dense in every binade. */
function bitWalk(lo: number, hi: number, stride: number): Float32Array {
  const bits = new Uint32Array(new Float32Array([lo, hi]).buffer);
  const count = Math.floor((bits[1] - bits[0]) / stride) + 1;
  const walk = new Uint32Array(count);
  for (let i = 0; i < count; i++) walk[i] = bits[0] + i * stride;
  walk[count - 1] = bits[1];
  return new Float32Array(walk.buffer);
}

/** `perBinade` random normal floats in each binade [2^e, 2^(e+1)), e = −126…127, plus its ends. */
function everyBinade(perBinade: number): Float32Array {
  const rng = mulberry32(0x10f);
  const xs: number[] = [];
  for (let e = -126; e <= 127; e++) {
    xs.push(2 ** e, 2 ** e * (2 - 2 ** -23));
    for (let i = 0; i < perBinade; i++) xs.push(2 ** e * (1 + rng()));
  }
  return Float32Array.from(xs);
}

/** The result bits of both builds are equal (NaN payloads included). */
function expectSameBits(xs: Float32Array, name: ArrayKernel): void {
  const simd = new Uint32Array(run('simd', name, xs).buffer);
  const scalar = new Uint32Array(run('scalar', name, xs).buffer);
  for (let i = 0; i < xs.length; i++) {
    if (simd[i] !== scalar[i]) {
      throw new Error(`${name}(${xs[i]}): simd bits 0x${simd[i].toString(16)}, scalar bits 0x${scalar[i].toString(16)}`);
    }
  }
}

// Grid sizes not a multiple of 4, so the SIMD build's scalar tail is measured too.
const EXP_EDGES = [-87.3, -87.33, -87.336, -50, -1, -(2 ** -20), -(2 ** -126), 0, 2 ** -126, 2 ** -20, 1, 50, 88, 87.999];
const expGrid = () => Float32Array.from([...linspace(-87.3, 88, 2 ** 20 + 1), ...EXP_EDGES]);
const logBinades = () => everyBinade(4096);
// Every 7th float in [1, 16]: an odd stride visits every pattern of the low mantissa bits.
const logDense = () => bitWalk(1, 16, 7);

describe('exp_f32', () => {
  it(`is within ${MAX_ULP} ulp of Math.exp on [−87.3, 88]`, () => {
    const xs = expGrid();
    const { ulps, at } = maxUlpError(xs, run('simd', 'exp_f32_array', xs), Math.exp);
    console.log(`exp_f32: max error ${ulps.toFixed(3)} ulp at x = ${at} (${xs.length} points on [−87.3, 88])`);
    expect(ulps, `max ulp error, at x = ${at}`).toBeLessThanOrEqual(MAX_ULP);
  });

  it('flushes to +0 below −87.34, saturates above 88, propagates NaN', () => {
    const xs = Float32Array.from([-87.34, -87.5, -100, -1e4, -3e38, -Infinity, NaN, 88.5, 100, Infinity, 5]);
    for (const variant of ['simd', 'scalar'] as const) {
      const y = run(variant, 'exp_f32_array', xs);
      const at88 = run(variant, 'exp_f32_array', Float32Array.of(88))[0];
      for (let i = 0; i < 6; i++) expect(Object.is(y[i], 0), `${variant} exp(${xs[i]}) = ${y[i]}`).toBe(true);
      expect(y[6], `${variant} exp(NaN)`).toBeNaN();
      for (let i = 7; i < 10; i++) expect(y[i], `${variant} exp(${xs[i]})`).toBe(at88);
    }
  });

  it('gives the same bits in the SIMD and scalar builds', () => {
    expectSameBits(Float32Array.from([...expGrid(), -87.34, -1e4, -Infinity, 100, Infinity]), 'exp_f32_array');
  });
});

describe('log_f32', () => {
  it(`is within ${MAX_ULP} ulp of Math.log on normal floats of every binade`, () => {
    const xs = logBinades();
    const { ulps, at } = maxUlpError(xs, run('simd', 'log_f32_array', xs), Math.log);
    console.log(`log_f32: max error ${ulps.toFixed(3)} ulp at x = ${at} (${xs.length} points, binades 2^−126…2^127)`);
    expect(ulps, `max ulp error, at x = ${at}`).toBeLessThanOrEqual(MAX_ULP);
  });

  it(`is within ${MAX_ULP} ulp of Math.log densely on [1, 16]`, () => {
    const xs = logDense();
    const { ulps, at } = maxUlpError(xs, run('simd', 'log_f32_array', xs), Math.log);
    console.log(`log_f32: max error ${ulps.toFixed(3)} ulp at x = ${at} (${xs.length} points on [1, 16])`);
    expect(ulps, `max ulp error, at x = ${at}`).toBeLessThanOrEqual(MAX_ULP);
  });

  it('is exactly 0 at 1, NaN at NaN and +∞', () => {
    for (const variant of ['simd', 'scalar'] as const) {
      const [one, nan, inf] = run(variant, 'log_f32_array', Float32Array.of(1, NaN, Infinity));
      expect(Object.is(one, 0), `${variant} log(1) = ${one}`).toBe(true);
      expect(nan, `${variant} log(NaN)`).toBeNaN();
      expect(inf, `${variant} log(+Infinity)`).toBeNaN();
    }
  });

  it('gives the same bits in the SIMD and scalar builds', () => {
    expectSameBits(Float32Array.from([...logBinades(), ...logDense(), NaN, Infinity]), 'log_f32_array');
  });
});

describe('exp_neg_f32 (the softmax exp, x ≤ 0)', () => {
  it(`is within ${MAX_ULP} ulp of Math.exp on [−87.3, 0]`, () => {
    const xs = linspace(-87.3, 0, 2 ** 20 + 1);
    const { ulps, at } = maxUlpError(xs, run('simd', 'exp_neg_f32_array', xs), Math.exp);
    console.log(`exp_neg_f32: max error ${ulps.toFixed(3)} ulp at x = ${at} (${xs.length} points on [−87.3, 0])`);
    expect(ulps, `max ulp error, at x = ${at}`).toBeLessThanOrEqual(MAX_ULP);
  });

  it('is exactly 1 at 0, tiny but finite far below −87.3, NaN at NaN; same bits in both builds', () => {
    for (const variant of ['simd', 'scalar'] as const) {
      const [one, far, nan] = run(variant, 'exp_neg_f32_array', Float32Array.of(0, -1e4, NaN));
      expect(one, `${variant} exp(0)`).toBe(1);
      expect(far > 0 && far < 2e-38, `${variant} exp(-1e4) = ${far}`).toBe(true);
      expect(nan, `${variant} exp(NaN)`).toBeNaN();
    }
    expectSameBits(Float32Array.from([...linspace(-87.3, 0, 4097), -1e4, -Infinity]), 'exp_neg_f32_array');
  });
});

describe('log1p_unit_f32 (the two-class softmax normaliser, t ∈ [0, 1])', () => {
  it(`is within ${MAX_ULP} ulp of Math.log1p on [0, 1], down to tiny t`, () => {
    const xs = Float32Array.from([...linspace(0, 1, 2 ** 20 + 1), ...everyBinade(64).filter((x) => x < 1)]);
    const { ulps, at } = maxUlpError(xs, run('simd', 'log1p_unit_f32_array', xs), Math.log1p);
    console.log(`log1p_unit_f32: max error ${ulps.toFixed(3)} ulp at t = ${at} (${xs.length} points in [0, 1])`);
    expect(ulps, `max ulp error, at t = ${at}`).toBeLessThanOrEqual(MAX_ULP);
  });

  it('gives the same bits in the SIMD and scalar builds', () => {
    expectSameBits(Float32Array.from([...linspace(0, 1, 65537), NaN]), 'log1p_unit_f32_array');
  });
});
