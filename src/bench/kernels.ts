/**
 * The fused kernels alone, forward + backward in one call each (no autodiff around them): what
 * the AssemblyScript code costs, apart from tfjs's tape. Elements = N·H·W·C.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { setupWasmKernels } from '../setup.js';
import { formatRow, time, type Timing } from './harness.js';
import { LOSS_BENCH_SHAPES } from './losses.js';
import type { BenchContext } from './suite.js';

export async function benchKernels({ print, quick }: BenchContext): Promise<Timing[]> {
  await tf.setBackend('wasm');
  const cce = { epsilon: 1e-7, classWeights: [], ignoreIndex: null, reduction: 'mean', withGrad: true };
  // Dice on the loss engine: its statistics pass (p kept) and its gradient pass, for any coefficients.
  const stats = {
    activation: 0, groups: 1, ignoreIndex: null, regionOn: true, squares: false, withProbs: true, pixelValues: false,
    oneShot: false, reduction: 'mean', saved: 'none', pixelKind: 0, pxAct: 0, params: [],
  };
  const grad = { activation: 0, groups: 1, ignoreIndex: null, regionOn: true, pixelScale: 0, pixelKind: 0, pxAct: 0, params: [] };
  const rows: Timing[] = [];
  for (const variant of ['simd', 'scalar'] as const) {
    await setupWasmKernels({ variant });
    print(`fused kernels, ${variant} build, one call = forward + backward\n`);
    for (const [N, H, W, C] of quick ? LOSS_BENCH_SHAPES.slice(0, 1) : LOSS_BENCH_SHAPES) {
      const elements = N * H * W * C;
      print(`[${N},${H},${W},${C}]`);
      const logits = tf.randomNormal([N, H, W, C], 0, 2, 'float32', 1);
      const indices = tf.randomUniform([N, H, W], 0, C, 'int32', 2);
      const oneHot = tf.cast(tf.oneHot(indices, C), 'float32');
      const run = (label: string, kernel: string, attrs: object, labels: tf.Tensor = oneHot) => {
        const t = time(`${label}, ${variant}`, elements, () => {
          tf.dispose(tf.engine().runKernel(kernel, { labels, logits }, attrs as never) as tf.Tensor[]);
        });
        print(formatRow(t));
        rows.push(t);
      };
      run('CCE exact, one-hot', 'SeglossSoftmaxCrossEntropy', { ...cce, clip: false });
      run('CCE exact, int32 labels', 'SeglossSoftmaxCrossEntropy', { ...cce, clip: false }, indices);
      run('CCE clip (seed), one-hot', 'SeglossSoftmaxCrossEntropy', { ...cce, clip: true });
      const coefs = tf.tensor1d(new Float32Array(Float64Array.from({ length: 3 * C }, (_, k) => 0.01 * (k - 4)).buffer));
      const none = tf.tensor1d([]);
      const t = time(`Dice (engine, two passes), one-hot, ${variant}`, elements, () => {
        const [sums, probs, ...rest] = tf.engine().runKernel('SeglossRegionStats', { labels: oneHot, input: logits }, stats as never) as tf.Tensor[];
        const g = tf.engine().runKernel('SeglossRegionGrad', { labels: oneHot, input: logits, probs, coefs, pixelDy: none, saved: none }, grad as never);
        tf.dispose([sums, probs, ...rest, g as tf.Tensor]);
      });
      print(formatRow(t));
      rows.push(t);
      tf.dispose([coefs, none]);
      run('5 losses (forward only), one-hot', 'SeglossSegmentationLosses', { epsilon: 1e-7 });
      tf.dispose([logits, indices, oneHot]);
    }
    print('');
  }
  await setupWasmKernels({ variant: 'simd' });
  return rows;
}
