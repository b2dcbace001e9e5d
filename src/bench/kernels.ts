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
  const dice = { square: false, includeBackground: true, perImage: false, epsilon: 1e-7, withGrad: true };
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
      run('Dice, one-hot', 'SeglossSoftmaxDice', dice);
      run('5 losses (forward only), one-hot', 'SeglossSegmentationLosses', { epsilon: 1e-7 });
      tf.dispose([logits, indices, oneHot]);
    }
    print('');
  }
  await setupWasmKernels({ variant: 'simd' });
  return rows;
}
