/**
 * The fused kernels alone, forward + backward in one call each (no autodiff around them): what
 * the AssemblyScript code costs, separate from tfjs's tape. Elements = N·H·W·C.
 *
 *   npm run bench:kernels -- [simd|scalar]
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { setupWasmKernels, type KernelVariant } from 'segloss';
import { formatRow, time } from '../src/bench/harness.js';

const variant = (process.argv[2] ?? 'simd') as KernelVariant;
await tf.setBackend('wasm');
await setupWasmKernels({ variant });
console.log(`fused kernels, ${variant} build, one call = forward + backward\n`);

const cce = { epsilon: 1e-7, classWeights: [], ignoreIndex: null, reduction: 'mean', withGrad: true };
const dice = { square: false, includeBackground: true, perImage: false, epsilon: 1e-7, withGrad: true };

for (const [N, H, W, C] of [[8, 128, 128, 2], [4, 256, 256, 4], [2, 512, 512, 8]]) {
  const elements = N * H * W * C;
  console.log(`[${N},${H},${W},${C}]`);
  const logits = tf.randomNormal([N, H, W, C], 0, 2, 'float32', 1);
  const indices = tf.randomUniform([N, H, W], 0, C, 'int32', 2);
  const oneHot = tf.cast(tf.oneHot(indices, C), 'float32');
  const run = (label: string, kernel: string, attrs: object, labels: tf.Tensor = oneHot) =>
    console.log(formatRow(time(label, elements, () => {
      tf.dispose(tf.engine().runKernel(kernel, { labels, logits }, attrs as never) as tf.Tensor[]);
    })));
  run('CCE exact, one-hot', 'SeglossSoftmaxCrossEntropy', { ...cce, clip: false });
  run('CCE exact, int32 labels', 'SeglossSoftmaxCrossEntropy', { ...cce, clip: false }, indices);
  run('CCE clip (seed), one-hot', 'SeglossSoftmaxCrossEntropy', { ...cce, clip: true });
  run('Dice, one-hot', 'SeglossSoftmaxDice', dice);
  run('5 losses (forward only), one-hot', 'SeglossSegmentationLosses', { epsilon: 1e-7 });
  tf.dispose([logits, indices, oneHot]);
}
