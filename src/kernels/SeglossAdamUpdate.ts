import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { addressOf, backendMemory, kernels, withScratch, type BackendWasm } from '../wasm/backend.js';
import { SeglossAdamUpdate, type AdamUpdateAttrs } from './kernel_names.js';

/** Adam for every variable in one `adam_update` call: new θ, m, v tensors for each. */
function adamUpdate(args: { backend: unknown; inputs: Record<string, TensorInfo>; attrs?: NamedAttrMap }): TensorInfo[] {
  const backend = args.backend as BackendWasm;
  const a = args.attrs as unknown as AdamUpdateAttrs;
  const outputs: TensorInfo[] = [];
  // The table: per variable eight u32 — θ, g, m, v, θ', m', v', size.
  const table: number[] = [];
  for (let k = 0; k < a.count; k++) {
    const theta = args.inputs[`theta${k}`];
    const made = [0, 1, 2].map(() => backend.makeOutput(theta.shape, 'float32'));
    outputs.push(...made);
    table.push(...[theta, args.inputs[`grad${k}`], args.inputs[`m${k}`], args.inputs[`v${k}`], ...made]
      .map((t) => addressOf(backend, t)), theta.shape.reduce((x, y) => x * y, 1));
  }
  withScratch(backend, table.length * 4, (at) => {
    new Uint32Array(backendMemory(backend).buffer, at, table.length).set(table);
    kernels(backend).adam_update(at, a.count, a.learningRate, a.beta1, a.beta2, Math.fround(1 - a.beta1),
      Math.fround(1 - a.beta2), a.epsilon, a.oneMinusAccBeta1, a.oneMinusAccBeta2);
  });
  return outputs;
}

export const adamUpdateConfig: KernelConfig = {
  kernelName: SeglossAdamUpdate,
  backendName: 'wasm',
  kernelFunc: adamUpdate as unknown as KernelFunc,
};
