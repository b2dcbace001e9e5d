/**
 * segloss as a user meets it: the built package (`npm run build` → dist/) imported by plain Node
 * ESM scripts, once beside @tensorflow/tfjs-core alone (whose gradients segloss must register)
 * and once beside the full @tensorflow/tfjs (which registers them itself).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

function runScript(tfjsPackage: string): { stderr: string; result: Record<string, unknown> } {
  const script = fileURLToPath(new URL('./node/train.mjs', import.meta.url));
  const run = spawnSync(process.execPath, [script, tfjsPackage], { cwd: root, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`train.mjs ${tfjsPackage} exited with ${run.status}:\n${run.stderr}`);
  const lines = run.stdout.trim().split('\n');
  return { stderr: run.stderr, result: JSON.parse(lines[lines.length - 1]) };
}

describe.each(['@tensorflow/tfjs-core', '@tensorflow/tfjs'])('plain Node ESM beside %s', (script) => {
  it('trains on wasm with the fused losses, without leaking tensors', () => {
    expect(existsSync(`${root}/dist/index.js`), 'run `npm run build` before the tests').toBe(true);
    const { stderr, result } = runScript(script);
    // Gradients are registered once: no 'Overriding the gradient' warnings beside full tfjs.
    expect(stderr).not.toMatch(/Overriding/);
    const stepLosses = result.stepLosses as number[];
    const counts = result.tensorCounts as number[];
    expect(result.variant).toBe('simd');
    expect(stepLosses.every(Number.isFinite)).toBe(true);
    expect(stepLosses[stepLosses.length - 1]).toBeLessThan(stepLosses[0] * 0.8);
    // After the optimizer's state exists (step 1), every step leaves the count unchanged.
    expect(new Set(counts.slice(1)).size, `tensor counts ${counts.join(',')}`).toBe(1);
  });
});
