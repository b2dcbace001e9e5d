// The README's example: the fused losses on tfjs's wasm backend, and one training step.
//   node examples/losses.mjs   (after `npm run build`)
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { setupWasmKernels, losses } from 'segloss';

await tf.setBackend('wasm');
console.log(await setupWasmKernels()); // { variant: 'simd' }

// Two 2×2 images, two classes: logits [N,H,W,C] and int32 class indices [N,H,W].
const logits = tf.tensor4d([2, 0, 0, 3, 1, 1, -1, 2, 0, 0, 4, 0, 0, 1, 3, -3], [2, 2, 2, 2]);
const labels = tf.tensor3d([[[0, 1], [0, 1]], [[0, 0], [1, 0]]], [2, 2, 2], 'int32');

console.log('cce       ', losses.categoricalCrossEntropy(labels, logits).dataSync()[0]);
console.log('cce clip  ', losses.categoricalCrossEntropy(labels, logits, { clip: true }).dataSync()[0]);
console.log('dice      ', losses.dice(labels, logits).dataSync()[0]);
console.log('dicefg    ', losses.dice(labels, logits, { includeBackground: false }).dataSync()[0]);
const all = losses.segmentationLosses(labels, logits);
console.log('all five  ', Object.fromEntries(Object.entries(all).map(([k, v]) => [k, +v.dataSync()[0].toFixed(4)])));

// Gradients flow through tfjs autodiff as usual.
const grad = tf.grad((z) => losses.dice(labels, z, { includeBackground: false }))(logits);
console.log('d dicefg / d logits[0,0,0,:]', Array.from(grad.dataSync().slice(0, 2)));
