/**
 * How a worker sends log rows to the main thread: in batches, as one Float64Array per batch whose
 * buffer is transferred (not copied, not one message per step). Row layout, for the run's logged
 * losses L_0 … L_{k−1}:
 *   [step, hasEval, accuracy, dice_bg, dice_fg, iou_bg, iou_fg, loss_0 … loss_{k−1}, norm_0 … norm_{k−1}]
 */
import type { LossKey } from '../experiment/losses.js';
import type { StepLog } from '../experiment/train.js';

const FIXED = 7;

export function rowWidth(losses: readonly LossKey[]): number {
  return FIXED + 2 * losses.length;
}

export function encodeRows(rows: readonly StepLog[], losses: readonly LossKey[]): Float64Array {
  const width = rowWidth(losses);
  const out = new Float64Array(rows.length * width);
  rows.forEach((row, r) => {
    const o = r * width;
    out[o] = row.step;
    if (row.eval) {
      out[o + 1] = 1;
      out[o + 2] = row.eval.accuracy;
      out.set(row.eval.dice, o + 3);
      out.set(row.eval.iou, o + 5);
    }
    losses.forEach((name, i) => {
      out[o + FIXED + i] = row.losses[name] ?? NaN;
      out[o + FIXED + losses.length + i] = row.gradNorms[name] ?? NaN;
    });
  });
  return out;
}

export function decodeRows(data: Float64Array, losses: readonly LossKey[]): StepLog[] {
  const width = rowWidth(losses);
  const rows: StepLog[] = [];
  for (let o = 0; o < data.length; o += width) {
    const row: StepLog = { step: data[o], losses: {}, gradNorms: {} };
    losses.forEach((name, i) => {
      row.losses[name] = data[o + FIXED + i];
      row.gradNorms[name] = data[o + FIXED + losses.length + i];
    });
    if (data[o + 1] === 1) {
      row.eval = { accuracy: data[o + 2], dice: [data[o + 3], data[o + 4]], iou: [data[o + 5], data[o + 6]] };
    }
    rows.push(row);
  }
  return rows;
}
