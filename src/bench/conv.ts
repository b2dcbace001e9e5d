/**
 * The convolution gradients segloss adds to tfjs-backend-wasm, against tfjs-backend-cpu's kernels
 * of the same names (when @tensorflow/tfjs-backend-cpu is installed) and against the wasm
 * backend's own forward Conv2D / DepthwiseConv2dNative at the same shape (tfjs's XNNPACK), all in
 * this process. The rate column counts multiply-adds (N·OH·OW·FH·FW·Cin·Cout, or ·M for
 * depthwise): "Melem/s" there means million MAC/s.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { setupWasmKernels } from '../setup.js';
import { formatRow, time, type Timing } from './harness.js';
import type { BenchContext } from './suite.js';

type Shape4 = [number, number, number, number];
const CASES: { name: string; x: Shape4; filter: Shape4 }[] = [
  { name: 'seed layer 1', x: [2, 32, 32, 1], filter: [3, 3, 1, 4] },
  { name: 'seed layer 2', x: [2, 32, 32, 4], filter: [3, 3, 4, 4] },
  { name: 'large', x: [8, 64, 64, 16], filter: [3, 3, 16, 16] },
];

/** tfjs-backend-cpu, if installed (a dev dependency of segloss, not a peer). */
async function loadCpu(): Promise<boolean> {
  try {
    await import('@tensorflow/tfjs-backend-cpu');
    return tf.findBackend('cpu') != null || (await tf.setBackend('cpu'));
  } catch {
    return false;
  }
}

export async function benchConv({ print, quick }: BenchContext): Promise<Timing[]> {
  const cpu = await loadCpu();
  await tf.setBackend('wasm');
  await setupWasmKernels();
  if (!cpu) print('@tensorflow/tfjs-backend-cpu is not installed: the tfjs-cpu baselines are left out.\n');
  const rows: Timing[] = [];

  async function timeKernel(backend: 'cpu' | 'wasm', label: string, macs: number, kernel: string,
    inputs: Record<string, tf.Tensor>, attrs: object, baseline?: Timing): Promise<Timing | undefined> {
    if (backend === 'cpu' && !cpu) return undefined;
    await tf.setBackend(backend);
    // Fresh tensors on this backend, so no timed run includes a data move.
    const local = Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, tf.tensor(t.dataSync(), t.shape)]));
    const t = time(label, macs, () => { (tf.engine().runKernel(kernel, local, attrs as never) as tf.Tensor).dispose(); },
      { minRuns: backend === 'cpu' ? 3 : 10, minMs: 300 });
    tf.dispose(Object.values(local));
    print(formatRow(t, baseline));
    rows.push(t);
    await tf.setBackend('wasm');
    return t;
  }

  for (const { name, x: xShape, filter } of quick ? CASES.slice(0, 2) : CASES) {
    const [N, H, W, Cin] = xShape;
    const [FH, FW, , Cout] = filter;
    const conv = { strides: 1, pad: 'same' as const };
    const macs = N * H * W * FH * FW * Cin * Cout;
    print(`${name}: x [${xShape}], filter [${filter}] — ${(macs / 1e6).toFixed(2)} M MAC`);
    const x = tf.randomNormal(xShape, 0, 1, 'float32', 1);
    const w = tf.randomNormal(filter, 0, 1, 'float32', 2);
    const dy = tf.randomNormal([N, H, W, Cout], 0, 1, 'float32', 3);

    const filterAttrs = { ...conv, dataFormat: 'NHWC', filterShape: filter };
    const cpuFilter = await timeKernel('cpu', 'Conv2DBackpropFilter, tfjs-cpu', macs, 'Conv2DBackpropFilter', { x, dy }, filterAttrs);
    await setupWasmKernels({ variant: 'simd' });
    const wasmFilter = await timeKernel('wasm', 'Conv2DBackpropFilter, segloss simd', macs, 'Conv2DBackpropFilter', { x, dy }, filterAttrs, cpuFilter);
    await setupWasmKernels({ variant: 'scalar' });
    await timeKernel('wasm', 'Conv2DBackpropFilter, segloss scalar', macs, 'Conv2DBackpropFilter', { x, dy }, filterAttrs, cpuFilter);
    await setupWasmKernels({ variant: 'simd' });
    const forward = await timeKernel('wasm', 'Conv2D forward, tfjs-wasm (reference)', macs, 'Conv2D', { x, filter: w },
      { ...conv, dataFormat: 'NHWC', dilations: 1 });
    print(`  backprop filter / wasm forward conv: ${(wasmFilter!.medianMs / forward!.medianMs).toFixed(2)}×`);
    const inputAttrs = { ...conv, dataFormat: 'NHWC', inputShape: xShape };
    const cpuInput = await timeKernel('cpu', 'Conv2DBackpropInput, tfjs-cpu', macs, 'Conv2DBackpropInput', { dy, filter: w }, inputAttrs);
    await setupWasmKernels({ variant: 'simd', replaceTfjsKernels: false });
    const tfjsInput = await timeKernel('wasm', 'Conv2DBackpropInput, tfjs-wasm (its own)', macs, 'Conv2DBackpropInput',
      { dy, filter: w }, inputAttrs, cpuInput);
    await setupWasmKernels({ variant: 'simd' });
    const seglossInput = await timeKernel('wasm', 'Conv2DBackpropInput, segloss simd', macs, 'Conv2DBackpropInput',
      { dy, filter: w }, inputAttrs, cpuInput);
    print(`  Conv2DBackpropInput, segloss vs tfjs-wasm's: ${(tfjsInput!.medianMs / seglossInput!.medianMs).toFixed(2)}×`);

    // Depthwise at the same spatial shape: filter [FH, FW, Cin, 1].
    const dwFilter: Shape4 = [FH, FW, Cin, 1];
    const dwMacs = N * H * W * FH * FW * Cin;
    const dwDy = tf.randomNormal([N, H, W, Cin], 0, 1, 'float32', 4);
    const dwW = tf.randomNormal(dwFilter, 0, 1, 'float32', 5);
    const dwAttrs = { ...conv, dilations: 1 };
    const cpuDwFilter = await timeKernel('cpu', 'DepthwiseBackpropFilter, tfjs-cpu', dwMacs,
      'DepthwiseConv2dNativeBackpropFilter', { x, dy: dwDy }, { ...dwAttrs, filterShape: dwFilter });
    await timeKernel('wasm', 'DepthwiseBackpropFilter, segloss simd', dwMacs,
      'DepthwiseConv2dNativeBackpropFilter', { x, dy: dwDy }, { ...dwAttrs, filterShape: dwFilter }, cpuDwFilter);
    const cpuDwInput = await timeKernel('cpu', 'DepthwiseBackpropInput, tfjs-cpu', dwMacs,
      'DepthwiseConv2dNativeBackpropInput', { dy: dwDy, filter: dwW }, { ...dwAttrs, inputShape: xShape });
    await timeKernel('wasm', 'DepthwiseBackpropInput, segloss simd', dwMacs,
      'DepthwiseConv2dNativeBackpropInput', { dy: dwDy, filter: dwW }, { ...dwAttrs, inputShape: xShape }, cpuDwInput);
    await timeKernel('wasm', 'DepthwiseConv2dNative forward, tfjs-wasm', dwMacs,
      'DepthwiseConv2dNative', { x, filter: dwW }, { ...dwAttrs, dataFormat: 'NHWC' });
    tf.dispose([x, w, dy, dwDy, dwW]);
    print('');
  }
  print('speed-up column: against the tfjs-cpu row above it.');
  return rows;
}
