import { util, type KernelConfig, type KernelFunc, type NamedAttrMap, type TensorInfo } from '@tensorflow/tfjs-core';
import { addressOf, kernels, withScratch, type BackendWasm } from '../wasm/backend.js';
import { SeglossBatchNormTraining, SeglossBatchNormTrainingGrad, type BatchNormTrainingAttrs } from './kernel_names.js';

const channelsOf = (x: TensorInfo) => x.shape[x.shape.length - 1];

/** Batch norm with batch statistics (`batch_norm_train_fwd`): y and the statistics [3, C]. */
function batchNormTraining(args: {
  backend: unknown; inputs: { x: TensorInfo; gamma: TensorInfo; beta: TensorInfo }; attrs?: NamedAttrMap;
}): TensorInfo[] {
  const backend = args.backend as BackendWasm;
  const { x, gamma, beta } = args.inputs;
  const { epsilon } = args.attrs as unknown as BatchNormTrainingAttrs;
  const C = channelsOf(x);
  const y = backend.makeOutput(x.shape, 'float32');
  const stats = backend.makeOutput([3, C], 'float32');
  withScratch(backend, C * 8, (sums) => kernels(backend).batch_norm_train_fwd(
    addressOf(backend, x), addressOf(backend, gamma), addressOf(backend, beta), addressOf(backend, y),
    addressOf(backend, stats), util.sizeFromShape(x.shape) / C, C, epsilon, sums));
  return [y, stats];
}

/** dx, dγ, dβ of batch norm with batch statistics (`batch_norm_train_bwd`). */
function batchNormTrainingGrad(args: {
  backend: unknown; inputs: { x: TensorInfo; dy: TensorInfo; gamma: TensorInfo; stats: TensorInfo };
}): TensorInfo[] {
  const backend = args.backend as BackendWasm;
  const { x, dy, gamma, stats } = args.inputs;
  const C = channelsOf(x);
  const dx = backend.makeOutput(x.shape, 'float32');
  const dgamma = backend.makeOutput([C], 'float32');
  const dbeta = backend.makeOutput([C], 'float32');
  withScratch(backend, C * 16, (sums) => kernels(backend).batch_norm_train_bwd(
    addressOf(backend, x), addressOf(backend, dy), addressOf(backend, gamma), addressOf(backend, stats),
    addressOf(backend, dx), addressOf(backend, dgamma), addressOf(backend, dbeta),
    util.sizeFromShape(x.shape) / C, C, sums));
  return [dx, dgamma, dbeta];
}

export const batchNormTrainingConfig: KernelConfig = {
  kernelName: SeglossBatchNormTraining,
  backendName: 'wasm',
  kernelFunc: batchNormTraining as unknown as KernelFunc,
};

export const batchNormTrainingGradConfig: KernelConfig = {
  kernelName: SeglossBatchNormTrainingGrad,
  backendName: 'wasm',
  kernelFunc: batchNormTrainingGrad as unknown as KernelFunc,
};
