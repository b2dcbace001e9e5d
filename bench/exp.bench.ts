/**
 * Throughput of the kernels' exp and log approximations alone (the bound of every loss kernel),
 * SIMD and scalar builds, on a memory of their own.
 */
import { readFileSync } from 'node:fs';
import { formatRow, time } from '../src/bench/harness.js';

const n = 1 << 20;
console.log(`exp/log approximations over ${n} floats (build/segloss-*.wasm)\n`);
let simdExp;
for (const variant of ['simd', 'scalar']) {
  const memory = new WebAssembly.Memory({ initial: 256 });
  const module = new WebAssembly.Module(readFileSync(`build/segloss-${variant}.wasm`));
  const k = new WebAssembly.Instance(module, { env: { memory } }).exports as Record<string, (...a: number[]) => void>;
  const src = new Float32Array(memory.buffer, 0, n);
  for (let i = 0; i < n; i++) src[i] = -20 + (20 * i) / n + 1e-3;
  const e = time(`exp ${variant}`, n, () => k.exp_f32_array(0, 4 * n, n));
  console.log(formatRow(e, simdExp));
  simdExp ??= e;
  for (let i = 0; i < n; i++) src[i] = 1 + (15 * i) / n;
  console.log(formatRow(time(`log ${variant}`, n, () => k.log_f32_array(0, 4 * n, n))));
}
