/**
 * Fused softmax + loss kernels vs the same losses composed from tfjs ops (src/bench/losses.ts).
 *
 *   npx tsx bench/losses.bench.ts [--json FILE] [--quick]     (or: segloss bench)
 *
 * Runs on the sources through tsx: @tensorflow/tfjs (full) is imported first so that tfjs-core's
 * gradients are registered (see bench/step.bench.ts).
 */
import '@tensorflow/tfjs';
import { writeFileSync } from 'node:fs';
import { version_core } from '@tensorflow/tfjs-core';
import { benchmarkLosses, LOSS_BENCH_SHAPES } from '../src/bench/losses.js';

const args = process.argv.slice(2);
const jsonPath = args.includes('--json') ? args[args.indexOf('--json') + 1] : null;
const shapes = args.includes('--quick') ? LOSS_BENCH_SHAPES.slice(0, 1) : LOSS_BENCH_SHAPES;

console.log(`segloss bench — ${new Date().toISOString()} — Node ${process.version}, tfjs ${version_core}, backend wasm\n`);
const results = await benchmarkLosses(shapes);
if (jsonPath) {
  writeFileSync(jsonPath, JSON.stringify({ date: new Date().toISOString(), node: process.version, results }, null, 2));
  console.log(`wrote ${jsonPath}`);
}
