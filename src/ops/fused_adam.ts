/**
 * Adam that updates every variable in one wasm kernel call (tfjs's AdamOptimizer runs about ten
 * kernels per variable, and at the seed's 198 parameters their dispatch is most of the cost), with
 * tfjs's arithmetic to the bit. Off the wasm backend (or before setupWasmKernels) it delegates to
 * tf.train.adam.
 */
import {
  engine, tensor, train, zerosLike, type NamedTensorMap, type Optimizer, type Tensor, type Variable,
} from '@tensorflow/tfjs-core';
import { SeglossAdamUpdate, type AdamUpdateAttrs } from '../kernels/kernel_names.js';
import { fusedKernelAvailable } from '../losses/fused.js';

/** The subset of tfjs's Optimizer the training loop uses: gradients by variable name. */
export interface StepOptimizer {
  applyGradients(gradients: NamedTensorMap): void;
  dispose(): void;
}

export class FusedAdam implements StepOptimizer {
  private readonly moments = new Map<string, { m: Tensor; v: Tensor }>();
  private accBeta1: number;
  private accBeta2: number;
  private fallback: Optimizer | null = null;

  constructor(
    private readonly learningRate: number, private readonly beta1: number,
    private readonly beta2: number, private readonly epsilon: number,
  ) {
    // tfjs keeps β^t in float32 tensors, starting at β.
    this.accBeta1 = Math.fround(beta1);
    this.accBeta2 = Math.fround(beta2);
  }

  applyGradients(gradients: NamedTensorMap): void {
    if (this.fallback || !fusedKernelAvailable(SeglossAdamUpdate)) {
      this.fallback ??= train.adam(this.learningRate, this.beta1, this.beta2, this.epsilon);
      this.fallback.applyGradients(gradients);
      return;
    }
    const names = Object.keys(gradients);
    const variables = names.map((name) => engine().registeredVariables[name] as Variable);
    const inputs: NamedTensorMap = {};
    names.forEach((name, k) => {
      let state = this.moments.get(name);
      if (!state) {
        state = { m: zerosLike(variables[k]), v: zerosLike(variables[k]) };
        this.moments.set(name, state);
      }
      Object.assign(inputs, { [`theta${k}`]: variables[k], [`grad${k}`]: gradients[name], [`m${k}`]: state.m, [`v${k}`]: state.v });
    });
    const attrs: AdamUpdateAttrs = {
      count: names.length, learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2,
      epsilon: this.epsilon,
      oneMinusAccBeta1: Math.fround(1 - this.accBeta1), oneMinusAccBeta2: Math.fround(1 - this.accBeta2),
    };
    const outputs = engine().runKernel(SeglossAdamUpdate, inputs, attrs as never) as Tensor[];
    names.forEach((name, k) => {
      const state = this.moments.get(name)!;
      state.m.dispose();
      state.v.dispose();
      variables[k].assign(outputs[3 * k]);
      outputs[3 * k].dispose();
      state.m = outputs[3 * k + 1];
      state.v = outputs[3 * k + 2];
    });
    this.accBeta1 = Math.fround(this.accBeta1 * Math.fround(this.beta1));
    this.accBeta2 = Math.fround(this.accBeta2 * Math.fround(this.beta2));
  }

  /**
   * What a resume needs, copied out: the β powers and each variable's moments (m then v, float32),
   * for `names` in order (zeros for a variable not updated yet). Throws off the fused path, whose
   * state is tf.train.adam's.
   */
  saveState(names: readonly string[]): { accBeta1: number; accBeta2: number; moments: Float32Array[] } {
    if (this.fallback) throw new Error('segloss FusedAdam: its state is tf.train.adam\'s off the wasm backend; saveState needs the fused path');
    const moments = names.flatMap((name) => {
      const state = this.moments.get(name);
      const size = engine().registeredVariables[name]?.size ?? 0;
      return state ? [Float32Array.from(state.m.dataSync()), Float32Array.from(state.v.dataSync())] : [new Float32Array(size), new Float32Array(size)];
    });
    return { accBeta1: this.accBeta1, accBeta2: this.accBeta2, moments };
  }

  /** Restores `saveState`'s output for the variables `names` (the same order; other names, the same shapes). */
  loadState(names: readonly string[], state: { accBeta1: number; accBeta2: number; moments: readonly Float32Array[] }): void {
    if (state.moments.length !== 2 * names.length) {
      throw new Error(`segloss FusedAdam: the state holds moments of ${state.moments.length / 2} variables, not ${names.length}`);
    }
    names.forEach((name, k) => {
      const variable = engine().registeredVariables[name] as Variable | undefined;
      if (!variable) throw new Error(`segloss FusedAdam: no variable named ${name}`);
      for (const part of [state.moments[2 * k], state.moments[2 * k + 1]]) {
        if (part.length !== variable.size) throw new Error(`segloss FusedAdam: ${name} has ${variable.size} values, its saved moments ${part.length}`);
      }
      const old = this.moments.get(name);
      old?.m.dispose();
      old?.v.dispose();
      this.moments.set(name, {
        m: tensor(state.moments[2 * k], variable.shape), v: tensor(state.moments[2 * k + 1], variable.shape),
      });
    });
    this.accBeta1 = state.accBeta1;
    this.accBeta2 = state.accBeta2;
  }

  dispose(): void {
    for (const { m, v } of this.moments.values()) {
      m.dispose();
      v.dispose();
    }
    this.moments.clear();
    this.fallback?.dispose();
  }
}
