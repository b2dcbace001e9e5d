/**
 * Float64 reference of Lovász-softmax (src/losses/types.ts: LovaszSoftmaxOptions), from its
 * definition: per group and class, the errors |y − p| sorted descending (stable: ties keep pixel
 * order, as the fused kernel's radix sort), dotted with the Lovász extension's gradient of the
 * Jaccard loss. The gradient: ∂/∂e_(k) = g_k exactly (the loss is piecewise linear in the errors),
 * through e = |y − p| and the softmax — analytic here, checked by central differences in the tests.
 */
import type { LovaszSoftmaxOptions } from '../../src/losses/types.js';
import type { RegionCase64, RegionResult64 } from './region64.js';

export function lovasz64(c64: RegionCase64, o: LovaszSoftmaxOptions): RegionResult64 {
  const C = c64.shape[c64.shape.length - 1];
  const P = c64.input.length / C;
  const groups = o.perImage ? c64.shape[0] : 1;
  const perGroup = P / groups;
  const x = c64.input;
  const p = new Float64Array(P * C);
  for (let i = 0; i < P; i++) {
    if (o.activation === 'none') {
      for (let c = 0; c < C; c++) p[i * C + c] = x[i * C + c];
      continue;
    }
    let m = -Infinity;
    for (let c = 0; c < C; c++) m = Math.max(m, x[i * C + c]);
    let s = 0;
    for (let c = 0; c < C; c++) s += Math.exp(x[i * C + c] - m);
    for (let c = 0; c < C; c++) p[i * C + c] = Math.exp(x[i * C + c] - m) / s;
  }
  const y = (i: number, c: number) => (c64.labels.kind === 'index' ? (c64.labels.data[i] === c ? 1 : 0) : c64.labels.data[i * C + c]);
  const dLdp = new Float64Array(P * C);
  let loss = 0;
  for (let g = 0; g < groups; g++) {
    const pixels: number[] = [];
    for (let i = g * perGroup; i < (g + 1) * perGroup; i++) {
      if (c64.labels.kind === 'index' && o.ignoreIndex !== undefined && c64.labels.data[i] === o.ignoreIndex) continue;
      pixels.push(i);
    }
    const classLosses: { c: number; value: number; grads: [number, number][] }[] = [];
    for (let c = 0; c < C; c++) {
      const gts = pixels.reduce((a, i) => a + y(i, c), 0);
      if ((o.classes ?? 'present') === 'present' && gts === 0) continue;
      const order = pixels.map((i, v) => ({ i, v, e: Math.abs(y(i, c) - p[i * C + c]) }))
        .sort((a, b) => b.e - a.e || a.v - b.v);
      let cumY = 0, cumNotY = 0, previous = 0, value = 0;
      const grads: [number, number][] = [];
      for (const { i, e } of order) {
        cumY += y(i, c);
        cumNotY += 1 - y(i, c);
        const jaccard = 1 - (gts - cumY) / (gts + cumNotY);
        const gk = jaccard - previous;
        previous = jaccard;
        value += e * gk;
        grads.push([i, Math.sign(p[i * C + c] - y(i, c)) * gk]);
      }
      classLosses.push({ c, value, grads });
    }
    if (classLosses.length === 0) continue;
    const scale = 1 / (classLosses.length * groups);
    for (const { c, value, grads } of classLosses) {
      loss += value * scale;
      for (const [i, d] of grads) dLdp[i * C + c] += d * scale;
    }
  }
  const grad = new Float64Array(P * C);
  for (let i = 0; i < P; i++) {
    if (o.activation === 'none') {
      for (let c = 0; c < C; c++) grad[i * C + c] = dLdp[i * C + c];
      continue;
    }
    let pd = 0;
    for (let c = 0; c < C; c++) pd += p[i * C + c] * dLdp[i * C + c];
    for (let c = 0; c < C; c++) grad[i * C + c] = p[i * C + c] * (dLdp[i * C + c] - pd);
  }
  return { loss, grad };
}
