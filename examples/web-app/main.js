// A minimal web app on segloss's browser build, as an app's bundler sees it: `segloss/browser`
// and tfjs from node_modules, bundled into app.js; segloss's worker and tfjs's .wasm files served
// as static files from ./segloss/ (copies of node_modules/segloss/dist/browser/). Built and run in
// Chromium by test/browser/web_app.test.ts; see rollup.config.mjs beside this file.
import * as tf from '@tensorflow/tfjs-core';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { losses, runSweep, setupWasmKernels } from 'segloss/browser';

const assets = new URL('./segloss/', import.meta.url);

async function main() {
  setWasmPaths(assets.href);
  await tf.setBackend('wasm');
  const { variant } = await setupWasmKernels();

  // A loss and its gradient on this page's tfjs.
  const logits = tf.tensor4d([2, 0, 0, 3, 1, 1, -1, 2, 0, 0, 4, 0, 0, 1, 3, -3], [2, 2, 2, 2]);
  const labels = tf.tensor3d([[[0, 1], [0, 1]], [[0, 0], [1, 0]]], [2, 2, 2], 'int32');
  const dicefg = (z) => losses.dice(labels, z, { includeBackground: false });
  const [cce, value, grad] = [losses.categoricalCrossEntropy(labels, logits), dicefg(logits), tf.grad(dicefg)(logits)];
  const loss = { cce: (await cce.data())[0], dicefg: (await value.data())[0], grad: Array.from(await grad.data()).slice(0, 2) };
  tf.dispose([logits, labels, cce, value, grad]);

  // A small sweep in two module Web Workers.
  let progressEvents = 0;
  const sweep = await runSweep({ preset: 'quick', steps: 30 }, {
    workerUrl: new URL('worker.js', assets), workers: 2, onProgress: () => { progressEvents++; },
  });
  return {
    variant, backend: tf.getBackend(), loss, numTensors: tf.memory().numTensors, progressEvents,
    runs: sweep.runs.map((r) => [r.id, r.steps, r.status]), failed: sweep.failed,
    csvLines: sweep.store.summaryCsv().trim().split('\n').length,
  };
}

main().then(
  (result) => { globalThis.appResult = result; document.getElementById('out').textContent = JSON.stringify(result, null, 2); },
  (error) => { globalThis.appResult = { error: String(error?.stack ?? error) }; document.getElementById('out').textContent = String(error); },
);
