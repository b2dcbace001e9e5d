// Plain Node ESM: `node train.mjs <tfjs package>` with '@tensorflow/tfjs-core' (alone) or
// '@tensorflow/tfjs', then tfjs-backend-wasm and segloss: a tiny model trains on 'wasm'.
// Prints one JSON line: the kernel variant, the losses per step and the tensor counts.
const tf = await import(process.argv[2]);
await import('@tensorflow/tfjs-backend-wasm');
const { setupWasmKernels, losses } = await import('segloss');

await tf.setBackend('wasm');
const { variant } = await setupWasmKernels();
const x = tf.randomUniform([2, 8, 8, 1], 0, 1, 'float32', 1);
const labels = tf.tidy(() => tf.cast(tf.greater(tf.squeeze(x, [3]), 0.5), 'int32'));
const w = tf.variable(tf.randomNormal([1, 2], 0, 0.1, 'float32', 2));
const b = tf.variable(tf.zeros([2]));
const optimizer = tf.train.adam(0.05);
const model = () => tf.reshape(tf.add(tf.matMul(tf.reshape(x, [-1, 1]), w), b), [2, 8, 8, 2]);
const stepLosses = [];
const tensorCounts = [];
for (let step = 0; step < 30; step++) {
  const loss = optimizer.minimize(() => tf.add(
    losses.categoricalCrossEntropy(labels, model()), losses.dice(labels, model())), true);
  stepLosses.push(loss.dataSync()[0]);
  loss.dispose();
  tensorCounts.push(tf.memory().numTensors);
}
console.log(JSON.stringify({ variant, stepLosses, tensorCounts }));
