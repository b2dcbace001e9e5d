/**
 * One Adam step for a list of float32 variables in one call (tfjs's optimizer runs about ten
 * kernels per variable). Exactly tfjs's AdamOptimizer arithmetic:
 *   m ← β1 m + (1 − β1) g,   v ← β2 v + (1 − β2) g²
 *   θ ← θ − lr · (m / (1 − β1^t)) / (√(v / (1 − β2^t)) + ε)
 * with β^t and 1 − β accumulated and rounded to float32 by the caller, as tfjs does, so that the
 * result is bit for bit tfjs's. New θ, m and v are written to new buffers (tfjs
 * tensors are immutable), given per variable in a table of 32-bit addresses:
 *   [θ, g, m, v, θ', m', v', size] × count
 */
export function adam_update(
  table: usize, count: i32, learningRate: f32, beta1: f32, beta2: f32, oneMinusBeta1: f32,
  oneMinusBeta2: f32, epsilon: f32, oneMinusAccBeta1: f32, oneMinusAccBeta2: f32,
): void {
  for (let k: i32 = 0; k < count; k++) {
    const entry = table + (<usize>k << 5);
    const theta = <usize>load<u32>(entry);
    const grad = <usize>load<u32>(entry, 4);
    const m = <usize>load<u32>(entry, 8);
    const v = <usize>load<u32>(entry, 12);
    const thetaOut = <usize>load<u32>(entry, 16);
    const mOut = <usize>load<u32>(entry, 20);
    const vOut = <usize>load<u32>(entry, 24);
    const size = load<i32>(entry, 28);
    for (let i: i32 = 0; i < size; i++) {
      const o = <usize>i << 2;
      const g = load<f32>(grad + o);
      const m1 = load<f32>(m + o) * beta1 + g * oneMinusBeta1;
      const v1 = load<f32>(v + o) * beta2 + (g * g) * oneMinusBeta2;
      store<f32>(mOut + o, m1);
      store<f32>(vOut + o, v1);
      const step = (m1 / oneMinusAccBeta1) / (sqrt<f32>(v1 / oneMinusAccBeta2) + epsilon);
      store<f32>(thetaOut + o, step * -learningRate + load<f32>(theta + o));
    }
  }
}
