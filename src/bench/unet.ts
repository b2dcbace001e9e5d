/**
 * A 2D U-Net's training step (issue #14): `unet2d` at batch 4 of 128×128×1, filters
 * [16, 32, 64, 128], batch norm, 2 classes, Dice + CE (segloss's fused `diceCrossEntropy`), Adam;
 * ms per step (forward + backward + update) on tfjs-backend-wasm single-threaded with segloss's
 * kernels, the same without segloss's replacements of tfjs-wasm kernels (`replaceTfjsKernels:
 * false`: tfjs's own Conv2DBackpropInput, Tile and Sum), and on tfjs-cpu at batch 1 for scale; then
 * where the time goes, by kernel, under tf.profile; then `unet3d` at batch 1 of 64³.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import '../tfjs/core_gradients.js';
import { setupWasmKernels } from '../setup.js';
import { diceCrossEntropy } from '../losses/pixel.js';
import { unet2d, unet3d } from '../models/unet.js';
import { fusedAdam } from '../ops/fused_adam.js';
import type { BenchContext } from './suite.js';

export interface UNetBenchRow {
  name: string;
  backend: string;
  batch: number;
  medianMs: number;
  steps: number;
  /** ms and calls per kernel under tf.profile (one step), largest first. */
  kernels: { name: string; ms: number; calls: number }[];
}

/**
 * Median ms of `steps` training steps (forward + backward + tf.train.adam) of unet2d (unet3d with
 * dims 3) at batch × size^dims × 1 on `backend`, after `warmup` steps; with the kernels of one
 * profiled step. Also the U-Net benchmark of the browser demo (web/unet_worker.ts).
 */
export async function measureUNetStep(name: string, backend: 'wasm' | 'cpu', batch: number, size: number, filters: number[],
  steps: number, print: (line: string) => void,
  { warmup = 2, profile: withProfile = true, dims = 2, optimizer: makeOptimizer = () => tf.train.adam(1e-3) as tf.Optimizer } = {}): Promise<UNetBenchRow> {
  await tf.setBackend(backend);
  const model = dims === 2 ? unet2d({ inputShape: [size, size, 1], classes: 2, filters, seed: 1 })
    : unet3d({ inputShape: [size, size, size, 1], classes: 2, filters, seed: 1 });
  const shape = dims === 2 ? [batch, size, size, 1] : [batch, size, size, size, 1];
  const x = tf.randomUniform(shape, 0, 1, 'float32', 1);
  const labels = tf.tidy(() => tf.cast(tf.greater(tf.squeeze(x, [dims + 1]), 0.7), 'int32'));
  const optimizer = makeOptimizer();
  const step = () => {
    const loss = optimizer.minimize(() => diceCrossEntropy(labels, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, true);
    loss!.dataSync();
    loss!.dispose();
  };
  try {
    for (let i = 0; i < warmup; i++) step();
    const times: number[] = [];
    for (let i = 0; i < steps; i++) {
      const t0 = performance.now();
      step();
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    const medianMs = times[Math.floor(times.length / 2)];
    print(`${name.padEnd(52)} ${medianMs.toFixed(0).padStart(6)} ms/step  [${times[0].toFixed(0)}–${times[times.length - 1].toFixed(0)}]`);
    if (!withProfile) return { name, backend, batch, medianMs, steps, kernels: [] };
    const profile = await tf.profile(step);
    const byKernel = new Map<string, { ms: number; calls: number }>();
    for (const k of profile.kernels) {
      const e = byKernel.get(k.name) ?? { ms: 0, calls: 0 };
      e.ms += k.kernelTimeMs as number;
      e.calls++;
      byKernel.set(k.name, e);
    }
    const kernels = [...byKernel.entries()].map(([n, e]) => ({ name: n, ...e })).sort((a, b) => b.ms - a.ms);
    print(`   ${profile.kernels.length} kernel calls; ms (calls) by kernel under tf.profile: `
      + kernels.slice(0, 10).map((k) => `${k.name} ${k.ms.toFixed(0)} (${k.calls})`).join(', '));
    return { name, backend, batch, medianMs, steps, kernels };
  } finally {
    optimizer.dispose();
    model.dispose();
    tf.dispose([x, labels]);
  }
}

export async function benchUNet({ print, quick, steps }: BenchContext): Promise<UNetBenchRow[]> {
  void tfl;
  const size = quick ? 64 : 128;
  const filters = [16, 32, 64, 128];
  const timed = steps ?? (quick ? 2 : 5);
  print(`unet2d ${size}×${size}×1, filters [${filters.join(', ')}], batch norm, 2 classes, Dice + CE, Adam; median of ${timed} steps\n`);
  const rows: UNetBenchRow[] = [];
  await tf.setBackend('wasm');
  await setupWasmKernels({ replaceTfjsKernels: false });
  rows.push(await measureUNetStep('wasm, segloss without its tfjs-kernel replacements, batch 4', 'wasm', 4, size, filters, timed, print));
  await setupWasmKernels();
  rows.push(await measureUNetStep('wasm with segloss, batch 4', 'wasm', 4, size, filters, timed, print));
  rows.push(await measureUNetStep('wasm with segloss and its fusedAdam, batch 4', 'wasm', 4, size, filters, timed, print, { optimizer: () => fusedAdam(1e-3) }));
  // tfjs-cpu's Conv2DBackpropFilter alone takes over a minute a step at 128²: one step, no warm-up, no profile.
  rows.push(await measureUNetStep('tfjs-cpu, batch 1 (for scale; one step, cold)', 'cpu', 1, size, filters, 1, print, { warmup: 0, profile: false }));
  await tf.setBackend('wasm');
  // 3D: unet3d at batch 1 of 64³ (32³ with --quick); tfjs-wasm's own 3D conv gradients are wrong, so no baseline row.
  const size3 = quick ? 32 : 64;
  print(`\nunet3d ${size3}³×1, filters [${filters.join(', ')}], batch norm, 2 classes, Dice + CE, Adam`);
  rows.push(await measureUNetStep(`wasm with segloss, batch 1 of ${size3}³`, 'wasm', 1, size3, filters, quick ? 1 : 2, print, { warmup: 1, dims: 3 }));
  print(`\nsegloss's replacements: ${(rows[0].medianMs / rows[1].medianMs).toFixed(2)}× on the 2D step; fusedAdam for tf.train.adam: `
    + `${(rows[1].medianMs / rows[2].medianMs).toFixed(2)}× more. PyTorch 1.13 eager, one thread, `
    + 'the same nets (scripts/unet_torch.py): 2D 288 ms in the issue, 214 ms on 2026-12-01; 3D 64³ 3.0 s (bench/RESULTS.md)');
  return rows;
}
