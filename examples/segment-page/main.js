// Segments an image with a U-Net that `segloss train` saved (OUT/checkpoint/model/model.json and
// weights.bin). The image is decoded by segloss/data, the decoder training used (pure JS: the same
// pixel values as in Node, whatever the browser's colour management), and brought to the model's
// input as training brought its images: channels (grey repeated into RGB, RGB to grey by BT.601
// luma), a bilinear resize with half-pixel centres to the model's input size, and the run's
// normalisation (its state.json beside the model folder says which; minmax, the 2D default, when
// there is none). The model's argmax is drawn over the image. Nothing leaves the page.
import * as tf from '@tensorflow/tfjs-core';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { loadLayersModel } from '@tensorflow/tfjs-layers';
import { decodeRaster, normalizeInPlace, rasterToImage, resizeImage, toChannels } from 'segloss/data';

/** Classes 1, 2, … drawn in these colours (cycling); background is left clear. */
const CLASS_COLOURS = [[230, 40, 40], [40, 90, 230], [240, 160, 20], [160, 60, 200], [20, 170, 170]];
const $ = (id) => document.getElementById(id);

/** The normalisation the run trained with: its state.json (checkpoint/state.json, beside model/), else minmax. */
async function normalizationOf(modelUrl) {
  const response = await fetch(new URL('../state.json', modelUrl)).catch(() => null);
  if (!response?.ok) return 'minmax';
  const state = await response.json();
  return state.options?.data?.normalize ?? 'minmax';
}

/** The image as the model's input [1, height, width, channels], prepared exactly as segloss/data prepared the training images. */
function prepare(image, [height, width, channels], normalize) {
  const { data } = resizeImage(toChannels(image, channels), height, width);
  const values = data === image.data ? data.slice() : data;
  normalizeInPlace(values, normalize);
  return tf.tensor4d(values, [1, height, width, channels]);
}

/** The image (its values scaled to 0–255 for display), then the predicted classes over it at the image's size. */
function draw(image, predicted, [height, width]) {
  const [h, w] = image.shape;
  const canvas = $('canvas');
  canvas.width = w;
  canvas.height = h;
  const context = canvas.getContext('2d');
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of image.data) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  const scale = hi > lo ? 255 / (hi - lo) : 0;
  const picture = new ImageData(w, h);
  for (let i = 0; i < w * h; i++) {
    const rgb = image.channels === 3 ? [0, 1, 2].map((c) => image.data[3 * i + c]) : [image.data[i], image.data[i], image.data[i]];
    picture.data.set([...rgb.map((v) => (v - lo) * scale), 255], 4 * i);
  }
  context.putImageData(picture, 0, 0);
  const mask = new ImageData(width, height);
  predicted.forEach((k, i) => { if (k > 0) mask.data.set([...CLASS_COLOURS[(k - 1) % CLASS_COLOURS.length], 120], 4 * i); });
  const layer = new OffscreenCanvas(width, height);
  layer.getContext('2d').putImageData(mask, 0, 0);
  // Nearest neighbour up to the image's size: each model pixel keeps its class.
  context.imageSmoothingEnabled = false;
  context.drawImage(layer, 0, 0, w, h);
}

async function main() {
  const modelUrl = new URL(new URLSearchParams(location.search).get('model') ?? 'model/model.json', location.href);
  $('model').textContent = modelUrl.href;
  setWasmPaths(new URL('wasm/', location.href).href);
  await tf.setBackend('wasm');
  const [model, normalize] = await Promise.all([loadLayersModel(modelUrl.href), normalizationOf(modelUrl)]);
  const [, height, width, channels, extra] = model.inputs[0].shape;
  if (extra !== undefined) throw new Error(`${modelUrl.href} takes volumes (${model.inputs[0].shape}); this page segments 2D images`);
  $('status').textContent = `model ${width}×${height}×${channels}, ${model.outputs[0].shape[3]} classes; normalisation ${JSON.stringify(normalize)}. Choose an image.`;
  const input = $('image');
  input.disabled = false;
  input.addEventListener('change', async () => {
    const file = input.files[0];
    if (!file) return;
    try {
      const image = rasterToImage(decodeRaster(new Uint8Array(await file.arrayBuffer()), file.name), '');
      const x = prepare(image, [height, width, channels], normalize);
      const argmax = tf.tidy(() => tf.argMax(model.predict(x), -1));
      const predicted = await argmax.data();
      tf.dispose([x, argmax]);
      draw(image, predicted, [height, width]);
      const counts = Array.from({ length: model.outputs[0].shape[3] }, (_, k) => predicted.filter((p) => p === k).length);
      $('status').textContent = `${file.name}: ${image.shape[1]}×${image.shape[0]}, segmented at ${width}×${height}; `
        + counts.map((n, k) => `class ${k} ${(100 * n / predicted.length).toFixed(1)}%`).join(', ');
      globalThis.segmented = { file: file.name, normalize, predicted: Array.from(predicted), numTensors: tf.memory().numTensors };
    } catch (error) {
      $('status').textContent = `${file.name}: ${error.message}`;
      $('status').className = 'error';
    }
  });
  globalThis.segmentReady = { inputShape: [height, width, channels], normalize, numTensors: tf.memory().numTensors };
}

main().catch((error) => {
  $('status').textContent = `the model could not be loaded: ${error.message}`;
  $('status').className = 'error';
  globalThis.segmentReady = { error: String(error?.stack ?? error) };
});
