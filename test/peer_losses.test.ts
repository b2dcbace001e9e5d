/**
 * segloss against its peers' own numbers: test/fixtures/peer_losses.json holds losses and gradients
 * computed in float64 by MONAI's, smp's and torchvision's code (scripts/peer-fixtures.py, which
 * records each peer's commit), on float32-representable inputs. Every case of an op segloss has is
 * checked on the fused SIMD kernels and on the tfjs-op composite (cpu).
 */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { describe, expect, it } from 'vitest';
import { losses } from '../src/index.js';
import { expectClose } from './helpers/assert.js';
import { useWasm } from './helpers/wasm.js';

interface PeerCase {
  name: string;
  peer: string;
  op: string;
  options: Record<string, unknown>;
  shape: number[];
  labelsDtype: 'int32' | 'float32';
  labels: number[];
  input: number[];
  loss: number | number[];
  grad: number[];
  note?: string;
}

const fixture = JSON.parse(readFileSync(new URL('./fixtures/peer_losses.json', import.meta.url), 'utf8')) as {
  peers: Record<string, unknown>;
  cases: PeerCase[];
};

type Op = (labels: tf.Tensor, input: tf.Tensor, options: never) => tf.Tensor;
const OPS: Record<string, Op> = {
  dice: losses.dice as Op,
  generalizedDice: losses.generalizedDice as Op,
  tversky: losses.tversky as Op,
  focal: losses.focal as Op,
  binaryCrossEntropy: losses.binaryCrossEntropy as Op,
  categoricalCrossEntropy: losses.categoricalCrossEntropy as Op,
  diceCrossEntropy: losses.diceCrossEntropy as Op,
  diceFocal: losses.diceFocal as Op,
  lovaszSoftmax: losses.lovaszSoftmax as Op,
};
/** Ops of the fixture that segloss does not have yet: none of their cases is run. */
const PENDING: string[] = [];

/**
 * Cases whose peer defines the loss differently from segloss, by design. smp's focal Tversky raises
 * the mean over classes to γ, (mean_c (1 − TI_c))^γ; segloss follows the per-class form of the issue
 * and of Abraham & Khan, mean_c (1 − TI_c)^γ, which the fixture's "per-class gamma" cases check.
 */
const smpFocalTversky = (c: PeerCase) => c.op === 'tversky' && (c.options.gamma ?? 1) !== 1 && /^smp focal Tversky: loss = \(mean/.test(c.note ?? '');
/**
 * PyTorch's cross-entropy with soft (float) targets and class weights divides the sum by the number
 * of pixels; segloss divides by Σ_i Σ_c w_c y_ic for float labels as for index labels (types.ts), so
 * one-hot float labels and class indices give the same number.
 */
const torchSoftWeightedCe = (c: PeerCase) => c.op === 'categoricalCrossEntropy' && c.labelsDtype === 'float32' && c.options.classWeights != null;
const differsByDesign = (c: PeerCase) => smpFocalTversky(c) || torchSoftWeightedCe(c);

/**
 * MONAI's softmax FocalLoss takes its mean over pixels × classes, segloss (as the issue and Lin et
 * al.) over pixels: C times MONAI's. The fixture says so per case; the comparison rescales.
 */
function adapt(c: PeerCase): { options: Record<string, unknown>; loss: number[]; grad: number[] } {
  const C = c.shape[c.shape.length - 1];
  const loss = typeof c.loss === 'number' ? [c.loss] : c.loss;
  const monaiFocalMean = /MONAI's 'mean' is over pixels x classes/.test(c.note ?? '');
  if (c.op === 'focal' && monaiFocalMean) return { options: c.options, loss: loss.map((v) => v * C), grad: c.grad.map((g) => g * C) };
  if (c.op === 'diceFocal' && /the focal part is MONAI's mean over pixels x classes/.test(c.note ?? '')) {
    return { options: { ...c.options, lambdaFocal: (c.options.lambdaFocal as number) / C }, loss, grad: c.grad };
  }
  return { options: c.options, loss, grad: c.grad };
}

const cases = fixture.cases.filter((c) => c.op in OPS && !differsByDesign(c));

describe('peer fixtures', () => {
  it('cover every op of the fixture: run, pending, or left out by design with a reason', () => {
    for (const c of fixture.cases) expect(c.op in OPS || PENDING.includes(c.op), `${c.op} is neither run nor pending`).toBe(true);
    expect(cases.length).toBeGreaterThanOrEqual(100);
    expect(fixture.cases.filter(differsByDesign).length).toBeLessThanOrEqual(5);
  });

  for (const path of ['simd', 'composite'] as const) {
    it.each(cases.map((c) => [c.name, c] as const))(`${path}: %s`, async (_, c) => {
      if (path === 'composite') await tf.setBackend('cpu');
      else await useWasm(path);
      const labels = tf.tensor(c.labels, c.labelsDtype === 'int32' ? c.shape.slice(0, -1) : c.shape, c.labelsDtype);
      const input = tf.tensor(c.input, c.shape, 'float32');
      const op = OPS[c.op];
      const expected = adapt(c);
      const value = tf.tidy(() => op(labels, input, expected.options as never).dataSync());
      const grad = tf.tidy(() => tf.grad((x: tf.Tensor) => tf.sum(op(labels, x, expected.options as never)))(input).dataSync());
      tf.dispose([labels, input]);
      expectClose(value, expected.loss, { abs: 1e-5, rel: 1e-4 }, `${c.peer}: loss`);
      const scale = expected.grad.reduce((m, g) => Math.max(m, Math.abs(g)), 0);
      expectClose(grad, expected.grad, { abs: 1e-4 * scale + 1e-9, rel: 1e-3 }, `${c.peer}: grad`);
    });
  }
});
