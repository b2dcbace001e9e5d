/**
 * Issue #13's two designs compared on the bulk of a step: the seed net's 3×3 convolutions (forward,
 * input gradient, filter gradient: ~90% of a step's multiply-adds). Design 2, the lockstep engine
 * that trains: four runs per call, one per f32x4 lane (assembly/engine/lanes.ts). Design 1: one run
 * per call, vectors over a layer's channels (assembly/engine/design1.ts, benchmark only). Both
 * with the same register blocking idea (several pixels or taps per weight load), both timed here
 * per run on the seed's shapes: batch 2 of 32×32, layer 1 1 → 4 channels, layer 2 4 → 4.
 */
import { decodeBase64 } from '../base64.js';
import { engineBenchWasm } from '../wasm/binaries.generated';
import { time, type Timing } from './harness.js';

interface BenchExports {
  bench_lanes_conv3x3(x: number, cin: number, w: number, f: number, bias: number, out: number, n: number, h: number, wd: number): void;
  bench_lanes_back_input(dpad: number, w: number, cin: number, f: number, dx: number, n: number, h: number, wd: number): void;
  bench_lanes_back_filter(x: number, cin: number, dpad: number, f: number, acc: number, n: number, h: number, wd: number): void;
  design1_conv3x3(x: number, cin: number, w: number, f: number, out: number, n: number, h: number, wd: number): void;
  design1_conv3x3_back_input(dpad: number, wT: number, cin: number, f: number, dx: number, n: number, h: number, wd: number): void;
  design1_conv3x3_back_filter(x: number, cin: number, dpad: number, f: number, dw: number, n: number, h: number, wd: number): void;
}

export interface DesignRow {
  kernel: string;
  /** Median ms per run: a lockstep call's time / 4, and a one-run call's time. */
  lanesMs: number;
  design1Ms: number;
}

/** Fills the interior of padded images [n, h+2, w+2, c] (elements of `lanes` floats) from `value`. */
function fillPadded(view: Float32Array, base: number, n: number, h: number, w: number, c: number, lanes: number,
  value: (img: number, y: number, x: number, ch: number, lane: number) => number): void {
  for (let img = 0; img < n; img++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let ch = 0; ch < c; ch++) {
    const at = (((img * (h + 2) + y + 1) * (w + 2) + x + 1) * c + ch) * lanes;
    for (let j = 0; j < lanes; j++) view[base / 4 + at + j] = value(img, y, x, ch, j);
  }
}

/**
 * Runs both designs' kernels on one layer's shapes with the same data (lane 0 of the lockstep
 * buffers = the one-run buffers), checks that they compute the same convolutions (max relative
 * difference returned), and times them unless `timing` is false.
 */
export function compareDesigns(n: number, h: number, w: number, cin: number, f: number,
  { timing = true, minMs = 400 } = {}): { rows: DesignRow[]; maxRelativeDifference: number } {
  const memory = new WebAssembly.Memory({ initial: 256 });
  const k = new WebAssembly.Instance(new WebAssembly.Module(decodeBase64(engineBenchWasm) as BufferSource), { env: { memory } }).exports as unknown as BenchExports;
  const padded = n * (h + 2) * (w + 2);
  let top = 64;
  const take = (floats: number) => { const at = top; top += Math.ceil((floats * 4) / 64) * 64; return at; };
  const L = 4;
  const lx = take(padded * cin * L), lw = take(9 * cin * f * L), lout = take(n * h * w * f * L);
  const ld = take(padded * f * L), ldx = take(n * h * w * cin * L), lacc = take(9 * cin * f * 8);
  const dx1 = take(padded * cin), dw1 = take(9 * cin * f), dwT = take(9 * cin * f), dout = take(n * h * w * f);
  const dd = take(padded * f), ddx = take(n * h * w * cin), ddw = take(9 * cin * f);
  if (top > memory.buffer.byteLength) memory.grow(Math.ceil((top - memory.buffer.byteLength) / 65536));
  const v = new Float32Array(memory.buffer);
  const rnd = (a: number) => Math.sin(a * 12.9898) * 43758.5453 % 1;
  const xv = (img: number, y: number, x: number, c: number, j: number) => rnd(1 + img * 7 + y * 131 + x * 17 + c * 3 + j * 1000);
  const dv = (img: number, y: number, x: number, c: number, j: number) => rnd(2 + img * 5 + y * 37 + x * 11 + c * 13 + j * 999) * 0.01;
  const wv = (t: number, ci: number, co: number, j: number) => rnd(3 + t * 19 + ci * 23 + co * 29 + j * 998);
  fillPadded(v, lx, n, h, w, cin, L, xv);
  fillPadded(v, dx1, n, h, w, cin, 1, (a, b, c, d) => xv(a, b, c, d, 0));
  fillPadded(v, ld, n, h, w, f, L, dv);
  fillPadded(v, dd, n, h, w, f, 1, (a, b, c, d) => dv(a, b, c, d, 0));
  for (let t = 0; t < 9; t++) for (let ci = 0; ci < cin; ci++) for (let co = 0; co < f; co++) {
    for (let j = 0; j < L; j++) v[lw / 4 + ((t * cin + ci) * f + co) * L + j] = wv(t, ci, co, j);
    v[dw1 / 4 + (t * cin + ci) * f + co] = wv(t, ci, co, 0);
    v[dwT / 4 + (t * f + co) * cin + ci] = wv(t, ci, co, 0);
  }
  // (A first layer's input gradient is never needed: cin = 1 has none here.)
  const withInput = cin % 4 === 0;
  const kernels: [string, () => void, () => void][] = [
    [`conv ${cin}→${f}`, () => k.bench_lanes_conv3x3(lx, cin, lw, f, 0, lout, n, h, w), () => k.design1_conv3x3(dx1, cin, dw1, f, dout, n, h, w)],
    ...(withInput ? [[`input gradient ${f}→${cin}`, () => k.bench_lanes_back_input(ld, lw, cin, f, ldx, n, h, w),
      () => k.design1_conv3x3_back_input(dd, dwT, cin, f, ddx, n, h, w)]] as [string, () => void, () => void][] : []),
    [`filter gradient ${cin}×${f}`, () => { new Float64Array(memory.buffer, lacc, 9 * cin * f * 4).fill(0); k.bench_lanes_back_filter(lx, cin, ld, f, lacc, n, h, w); },
      () => k.design1_conv3x3_back_filter(dx1, cin, dd, f, ddw, n, h, w)],
  ];
  let maxRelativeDifference = 0;
  const compare = (a: ArrayLike<number>, b: ArrayLike<number>) => {
    let diff = 0, scale = 0;
    for (let i = 0; i < b.length; i++) { diff = Math.max(diff, Math.abs(a[i] - b[i])); scale = Math.max(scale, Math.abs(b[i])); }
    maxRelativeDifference = Math.max(maxRelativeDifference, diff / scale);
  };
  for (const [, lanes, one] of kernels) { lanes(); one(); }
  const f32 = new Float32Array(memory.buffer);
  const f64 = new Float64Array(memory.buffer);
  compare(Array.from({ length: n * h * w * f }, (_, i) => f32[lout / 4 + i * L]), f32.subarray(dout / 4, dout / 4 + n * h * w * f));
  if (withInput) compare(Array.from({ length: n * h * w * cin }, (_, i) => f32[ldx / 4 + i * L]), f32.subarray(ddx / 4, ddx / 4 + n * h * w * cin));
  compare(Array.from({ length: 9 * cin * f }, (_, i) => f64[lacc / 8 + i * L]), f32.subarray(ddw / 4, ddw / 4 + 9 * cin * f));
  const rows: DesignRow[] = timing ? kernels.map(([kernel, lanes, one]) => {
    const a: Timing = time(kernel, 1, lanes, { warmup: 20, minRuns: 50, minMs });
    const b: Timing = time(kernel, 1, one, { warmup: 20, minRuns: 50, minMs });
    return { kernel, lanesMs: a.medianMs / L, design1Ms: b.medianMs };
  }) : [];
  return { rows, maxRelativeDifference };
}
