/**
 * Throughput of the kernels' exp and log approximations alone (the bound of every loss kernel),
 * SIMD and scalar builds, each on a memory of its own.
 */
import { kernelBinary } from '../wasm/module.js';
import { formatRow, time, type Timing } from './harness.js';
import type { BenchContext } from './suite.js';

export async function benchExp({ print, quick }: BenchContext): Promise<Timing[]> {
  const n = quick ? 1 << 16 : 1 << 20;
  print(`exp/log approximations over ${n} floats\n`);
  const rows: Timing[] = [];
  let simdExp: Timing | undefined;
  for (const variant of ['simd', 'scalar'] as const) {
    const memory = new WebAssembly.Memory({ initial: Math.ceil((8 * n) / 65536) + 1 });
    const module = await WebAssembly.compile(kernelBinary(variant) as BufferSource);
    const k = (await WebAssembly.instantiate(module, { env: { memory } })).exports as Record<string, (...a: number[]) => void>;
    const src = new Float32Array(memory.buffer, 0, n);
    for (let i = 0; i < n; i++) src[i] = -20 + (20 * i) / n + 1e-3;
    const e = time(`exp ${variant}`, n, () => k.exp_f32_array(0, 4 * n, n));
    print(formatRow(e, simdExp));
    simdExp ??= e;
    for (let i = 0; i < n; i++) src[i] = 1 + (15 * i) / n;
    const l = time(`log ${variant}`, n, () => k.log_f32_array(0, 4 * n, n));
    print(formatRow(l));
    rows.push(e, l);
  }
  print('\nspeed-up column: the scalar exp against the SIMD exp.');
  return rows;
}
