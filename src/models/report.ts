/**
 * The report of a `segloss train` run (Node): DIR/report/index.html with the training loss and the
 * validation Dice and IoU per class over steps (vega-lite → SVG), and a picture of a few
 * validation images next to their labels and the model's predictions (PNG, written with
 * fast-png; foreground as a colour overlay on the image).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { encode as encodePng } from 'fast-png';
import { specToSvg } from '../report/render.js';
import { io as fsio, writeAtomic } from '../sdk/fsio.js';
import type { TrainingRow, UNetTrainer } from './train.js';

/**
 * A grid: one row per image, columns image | label | prediction (grey image, foreground tinted),
 * each cell `scale` times the image's size.
 */
function predictionsPng(images: Float32Array, labels: Int32Array | Uint8Array, predicted: Int32Array | Uint8Array,
  count: number, size: number, scale: number): Uint8Array {
  const cell = size * scale;
  const gap = 4;
  const width = 3 * cell + 2 * gap;
  const height = count * cell + (count - 1) * gap;
  const rgb = new Uint8Array(width * height * 3).fill(255);
  for (let n = 0; n < count; n++) {
    const img = images.subarray(n * size * size, (n + 1) * size * size);
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of img) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    for (let col = 0; col < 3; col++) {
      for (let y = 0; y < cell; y++) {
        for (let x = 0; x < cell; x++) {
          const i = Math.floor(y / scale) * size + Math.floor(x / scale);
          const grey = Math.round(255 * (img[i] - lo) / (hi - lo || 1));
          const fg = col === 1 ? labels[n * size * size + i] : col === 2 ? predicted[n * size * size + i] : 0;
          const at = ((n * (cell + gap) + y) * width + col * (cell + gap) + x) * 3;
          // Foreground: the grey tinted orange (labels) or teal (predictions).
          const tint = col === 1 ? [255, 140, 0] : [0, 170, 170];
          for (let k = 0; k < 3; k++) rgb[at + k] = fg ? Math.round(0.45 * grey + 0.55 * tint[k]) : grey;
        }
      }
    }
  }
  return encodePng({ width, height, data: rgb, channels: 3, depth: 8 });
}

const escapeHtml = (text: string) => text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** Writes DIR/report/ (index.html, loss.svg, validation.svg, predictions.png) from DIR/log.jsonl and the trainer's model. */
export async function writeTrainingReport(dir: string, trainer: UNetTrainer, shown = 4): Promise<string> {
  const logPath = join(dir, 'log.jsonl');
  const rows = fsio('read', logPath, () => readFileSync(logPath, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as TrainingRow);
  const out = join(dir, 'report');
  fsio('create', out, () => mkdirSync(out, { recursive: true }));
  // The loss, smoothed by a centred moving average of 1 % of the steps (at least 1), sampled to ≤ 500 points.
  const window = Math.max(1, Math.round(rows.length / 100));
  const stride = Math.max(1, Math.floor(rows.length / 500));
  const lossPoints = rows.flatMap((r, k) => {
    if (k % stride !== 0) return [];
    const part = rows.slice(Math.max(0, k - window), k + window + 1);
    return [{ step: r.step, loss: part.reduce((s, p) => s + p.loss, 0) / part.length }];
  });
  const evalPoints = rows.filter((r) => r.eval).flatMap((r) => [
    { step: r.step, metric: 'Dice, foreground', value: r.eval!.dice[1] },
    { step: r.step, metric: 'Dice, background', value: r.eval!.dice[0] },
    { step: r.step, metric: 'IoU, foreground', value: r.eval!.iou[1] },
    { step: r.step, metric: 'accuracy', value: r.eval!.accuracy },
  ]);
  const base = { $schema: 'https://vega.github.io/schema/vega-lite/v5.json', width: 480, height: 220 };
  const lossSvg = await specToSvg({
    ...base, title: `training loss (${trainer.options.loss}, moving average over ${2 * window + 1} steps)`,
    data: { values: lossPoints }, mark: 'line',
    encoding: { x: { field: 'step', type: 'quantitative' }, y: { field: 'loss', type: 'quantitative', scale: { zero: false } } },
  });
  const evalSvg = await specToSvg({
    ...base, title: 'validation', data: { values: evalPoints }, mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'step', type: 'quantitative' }, y: { field: 'value', type: 'quantitative', scale: { domain: [0, 1] } },
      color: { field: 'metric', type: 'nominal' },
    },
  });
  writeAtomic(join(out, 'loss.svg'), lossSvg);
  writeAtomic(join(out, 'validation.svg'), evalSvg);
  const { images, labels, predicted, count, size } = trainer.predictions(shown);
  writeAtomic(join(out, 'predictions.png'), predictionsPng(images, labels, predicted, count, size, Math.max(1, Math.floor(192 / size))));
  const last = rows.filter((r) => r.eval).at(-1)?.eval;
  const o = trainer.options;
  const html = `<!doctype html><meta charset="utf-8"><title>segloss train: ${dir}</title>
<style>body{font:15px system-ui,sans-serif;margin:2em;max-width:60em}td,th{padding:.2em .8em;text-align:left}</style>
<h1>U-Net training: ${dir}</h1>
<p>unet${trainer.dims}d ${trainer.inputShape.join('×')}, filters [${o.filters.join(', ')}]${o.batchNorm ? ', batch norm' : ''}; loss ${o.loss};
batch ${o.batchSize}, Adam ${o.learningRate}; ${o.data
    ? `your data: ${escapeHtml(o.data.path)}, ${trainer.classes} classes${trainer.dims === 3 ? `, patches of ${o.imageSize}³ (validation: ${o.data.valPatches} fixed patches per case)` : ''}`
    : `synthetic data at ${(100 * o.foreground).toFixed(1)} % foreground, ${o.trainImages} training and ${o.validationImages} validation images`};
seed ${o.seed}; ${rows.length} of ${o.steps} steps logged.</p>
${last ? `<table><tr><th>last validation</th><th>accuracy</th><th>Dice bg</th><th>Dice fg</th><th>IoU bg</th><th>IoU fg</th></tr>
<tr><td>step ${rows.filter((r) => r.eval).at(-1)!.step}</td><td>${last.accuracy.toFixed(4)}</td><td>${last.dice[0].toFixed(3)}</td>
<td>${last.dice[1].toFixed(3)}</td><td>${last.iou[0].toFixed(3)}</td><td>${last.iou[1].toFixed(3)}</td></tr></table>` : ''}
<h2>Loss</h2><img src="loss.svg" alt="training loss over steps">
<h2>Validation</h2><img src="validation.svg" alt="validation Dice, IoU and accuracy over steps">
<h2>Predictions</h2><p>A row per validation ${trainer.dims === 3 ? 'patch (its middle slice)' : 'image'}: the image, its label (orange: any foreground class) and the model's prediction (teal).</p>
<img src="predictions.png" alt="validation images, labels and predictions">
`;
  writeAtomic(join(out, 'index.html'), html);
  return join(out, 'index.html');
}
