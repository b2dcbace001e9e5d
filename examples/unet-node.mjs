// A U-Net of your own on tfjs-backend-wasm in Node: stock tfjs-layers layers (here through
// segloss/models' unet2d), segloss's fused Dice + CE, a synthetic data set, a checkpoint with
// model.save('file://…') (segloss registers file:// in Node), validation Dice at the end.
//   node examples/unet-node.mjs   (after `npm run build`; ~20 s on one core)
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { setupWasmKernels, losses } from 'segloss';
import { syntheticSegmentation, unet2d } from 'segloss/models';

await tf.setBackend('wasm');
await setupWasmKernels();

const size = 64;
const train = syntheticSegmentation({ shape: [size, size], count: 64, foreground: 0.1, seed: 1 });
const val = syntheticSegmentation({ shape: [size, size], count: 8, foreground: 0.1, seed: 2 });
const model = unet2d({ inputShape: [size, size, 1], classes: 2, filters: [8, 16, 32] }); // logits
const optimizer = tf.train.adam(3e-3);
const pixels = size * size;
const batch = (first, n, data) => [
  tf.tensor4d(data.images.subarray(first * pixels, (first + n) * pixels), [n, size, size, 1]),
  tf.tensor3d(data.labels.subarray(first * pixels, (first + n) * pixels), [n, size, size], 'int32'),
];

const started = performance.now();
for (let step = 0; step < 400; step++) {
  const [x, y] = batch((step * 4) % 64, 4, train);
  const loss = optimizer.minimize(() => losses.diceCrossEntropy(y, model.apply(x, { training: true })), true);
  if (step % 100 === 0) console.log(`step ${step}: loss ${loss.dataSync()[0].toFixed(4)}`);
  tf.dispose([x, y, loss]);
}
console.log(`${((performance.now() - started) / 400).toFixed(1)} ms a step`);

await model.save('file://./unet-example');                   // unet-example/model.json + weights.bin
const restored = await tf.loadLayersModel('file://./unet-example/model.json');
const [vx] = batch(0, 8, val);
const predicted = tf.tidy(() => tf.argMax(restored.predict(vx), -1).dataSync());
let inter = 0, sum = 0;
predicted.forEach((p, i) => { inter += p & val.labels[i]; sum += p + val.labels[i]; });
console.log(`validation Dice (foreground): ${(2 * inter / sum).toFixed(3)}`);
