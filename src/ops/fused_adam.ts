/**
 * Adam that updates every variable in one wasm kernel call (tfjs's AdamOptimizer runs about ten
 * kernels per variable, and at the seed's 198 parameters their dispatch is most of the cost), with
 * tfjs's arithmetic to the bit. Off the wasm backend (or before setupWasmKernels) it delegates to
 * tf.train.adam.
 *
 * It is a tfjs Optimizer: `fusedAdam(1e-3)` goes wherever `tf.train.adam(1e-3)` does —
 * `optimizer.minimize(f)`, a tfjs-layers `model.compile({ optimizer })` — and its weights
 * (`getWeights`/`setWeights`) are tf.train.adam's: the iterations, then each variable's first and
 * second moments as `<variable>/m` and `<variable>/v`.
 */
import {
  engine, keep, Optimizer, serialization, tensor, train, zerosLike, type NamedTensorMap, type Tensor, type Variable,
} from '@tensorflow/tfjs-core';

/** A tensor with its name, as Optimizer.getWeights gives them (tfjs-core does not export the type from its entry). */
type NamedTensor = { name: string; tensor: Tensor };
import { SeglossAdamUpdate, type AdamUpdateAttrs } from '../kernels/kernel_names.js';
import { fusedKernelAvailable } from '../losses/fused.js';

/** The subset of tfjs's Optimizer the training loop uses: gradients by variable name. */
export interface StepOptimizer {
  applyGradients(gradients: NamedTensorMap): void;
  dispose(): void;
}

/**
 * tf.train.adam's update, to the bit, in one wasm kernel call for every variable (tf.train.adam itself
 * off the wasm backend or before setupWasmKernels); see the module's header.
 */
export class FusedAdam extends Optimizer implements StepOptimizer {
  /** The name tfjs's serialization knows it by. */
  static readonly className = 'SeglossFusedAdam';
  private readonly moments = new Map<string, { m: Tensor; v: Tensor }>();
  private accBeta1: number;
  private accBeta2: number;
  private fallback: Optimizer | null = null;

  constructor(
    readonly learningRate: number, readonly beta1: number,
    readonly beta2: number, readonly epsilon: number,
  ) {
    super();
    // tfjs keeps β^t in float32 tensors, starting at β.
    this.accBeta1 = Math.fround(beta1);
    this.accBeta2 = Math.fround(beta2);
  }

  applyGradients(variableGradients: NamedTensorMap | NamedTensor[]): void {
    const gradients: NamedTensorMap = Array.isArray(variableGradients)
      ? Object.fromEntries(variableGradients.map(({ name, tensor: t }) => [name, t])) : variableGradients;
    this.incrementIterations();
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
        state = { m: keep(zerosLike(variables[k])), v: keep(zerosLike(variables[k])) };
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
      // Kept: an update inside tf.tidy (tfjs-layers' fit runs minimize in one) must not release them.
      state.m = keep(outputs[3 * k + 1]);
      state.v = keep(outputs[3 * k + 2]);
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
        m: keep(tensor(state.moments[2 * k], variable.shape)), v: keep(tensor(state.moments[2 * k + 1], variable.shape)),
      });
    });
    this.accBeta1 = state.accBeta1;
    this.accBeta2 = state.accBeta2;
  }

  /** tf.train.adam's weights: the iterations, then `<variable>/m` and `<variable>/v` of every variable updated so far. */
  override async getWeights(): Promise<NamedTensor[]> {
    if (this.fallback) return this.fallback.getWeights();
    const names = [...this.moments.keys()];
    return [
      await this.saveIterations(),
      ...names.map((name) => ({ name: `${name}/m`, tensor: this.moments.get(name)!.m })),
      ...names.map((name) => ({ name: `${name}/v`, tensor: this.moments.get(name)!.v })),
    ];
  }

  /** Restores `getWeights`' (or tf.train.adam's) weights: the β powers follow from the iterations. */
  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const rest = await this.extractIterations(weightValues);
    const half = rest.length / 2;
    if (!Number.isInteger(half)) throw new Error(`segloss FusedAdam: setWeights needs as many /m as /v weights, got ${rest.length} after the iterations`);
    for (let k = 0; k < half; k++) {
      const name = rest[k].name.replace(/\/m$/, '');
      if (rest[half + k].name !== `${name}/v`) throw new Error(`segloss FusedAdam: setWeights expects ${name}/v after the /m weights, got ${rest[half + k].name}`);
      const old = this.moments.get(name);
      old?.m.dispose();
      old?.v.dispose();
      this.moments.set(name, { m: keep(rest[k].tensor.clone()), v: keep(rest[half + k].tensor.clone()) });
    }
    // β^(t+1) as applyGradients accumulates it, in float32, one step at a time.
    this.accBeta1 = Math.fround(this.beta1);
    this.accBeta2 = Math.fround(this.beta2);
    for (let t = 0; t < this.iterations; t++) {
      this.accBeta1 = Math.fround(this.accBeta1 * Math.fround(this.beta1));
      this.accBeta2 = Math.fround(this.accBeta2 * Math.fround(this.beta2));
    }
  }

  getConfig(): serialization.ConfigDict {
    return { learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }

  static fromConfig<T extends serialization.Serializable>(cls: serialization.SerializableConstructor<T>, config: serialization.ConfigDict): T {
    return new cls(config.learningRate, config.beta1, config.beta2, config.epsilon);
  }

  override dispose(): void {
    for (const { m, v } of this.moments.values()) {
      m.dispose();
      v.dispose();
    }
    this.moments.clear();
    this.fallback?.dispose();
    super.dispose();
  }
}
serialization.registerClass(FusedAdam);

/**
 * Adam in one fused kernel call per step on tfjs's wasm backend with segloss's kernels, for any
 * tfjs model: tf.train.adam's defaults (ε 1e-7, as tfjs's float32 backends) and its numbers, bit for bit.
 */
export function fusedAdam(learningRate = 0.001, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-7): FusedAdam {
  return new FusedAdam(learningRate, beta1, beta2, epsilon);
}
