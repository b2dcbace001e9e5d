import { util, type KernelConfig, type KernelFunc, type NamedAttrMap, type TensorInfo } from '@tensorflow/tfjs-core';
import { addressOf, kernels, withScratch, type BackendWasm } from '../wasm/backend.js';
import { batchCollective, type Collective } from '../parallel/collective.js';
import { foldOverBatch, imageAddress } from '../parallel/fold.js';
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
  const pixels = util.sizeFromShape(x.shape) / C;
  const collective = batchCollective(x.shape);
  if (collective) {
    forwardOverBatch(backend, collective, x, gamma, beta, y, stats, pixels, C, epsilon);
    return [y, stats];
  }
  withScratch(backend, C * 8, (sums) => kernels(backend).batch_norm_train_fwd(
    addressOf(backend, x), addressOf(backend, gamma), addressOf(backend, beta), addressOf(backend, y),
    addressOf(backend, stats), pixels, C, epsilon, sums));
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
  const pixels = util.sizeFromShape(x.shape) / C;
  const collective = batchCollective(x.shape);
  if (collective) {
    backwardOverBatch(backend, collective, { x, dy, gamma, stats, dx, dgamma, dbeta }, pixels, C);
    return [dx, dgamma, dbeta];
  }
  withScratch(backend, C * 24, (sums) => kernels(backend).batch_norm_train_bwd(
    addressOf(backend, x), addressOf(backend, dy), addressOf(backend, gamma), addressOf(backend, stats),
    addressOf(backend, dx), addressOf(backend, dgamma), addressOf(backend, dbeta), pixels, C, sums));
  return [dx, dgamma, dbeta];
}

/*
 * In a data-parallel step (src/parallel/) the statistics are the whole batch's: each image's sums,
 * gathered from every thread and added in image order, then divided by the batch's pixels. The
 * same phases as the one-kernel path (assembly/kernels/batch_norm.ts), in the same f64.
 */

function forwardOverBatch(
  backend: BackendWasm, collective: Collective, x: TensorInfo, gamma: TensorInfo, beta: TensorInfo, y: TensorInfo, stats: TensorInfo,
  pixels: number, C: number, epsilon: number,
): void {
  const k = kernels(backend);
  const perImage = pixels / collective.count;
  const count = perImage * collective.batch;
  const statsAt = addressOf(backend, stats);
  withScratch(backend, C * 8, (sums) => {
    foldOverBatch(backend, collective, 'f64', C, (i, at) => k.batch_norm_sums(imageAddress(backend, x, collective.count, i), perImage, C, at), sums);
    k.batch_norm_mean(sums, count, C, statsAt);
    foldOverBatch(backend, collective, 'f64', C,
      (i, at) => k.batch_norm_centered_sums(imageAddress(backend, x, collective.count, i), statsAt, perImage, C, at), sums);
    k.batch_norm_variance(sums, count, C, epsilon, statsAt);
  });
  k.batch_norm_normalize(addressOf(backend, x), addressOf(backend, gamma), addressOf(backend, beta), statsAt, addressOf(backend, y), pixels, C);
}

function backwardOverBatch(
  backend: BackendWasm, collective: Collective,
  t: { x: TensorInfo; dy: TensorInfo; gamma: TensorInfo; stats: TensorInfo; dx: TensorInfo; dgamma: TensorInfo; dbeta: TensorInfo },
  pixels: number, C: number,
): void {
  const k = kernels(backend);
  const perImage = pixels / collective.count;
  const statsAt = addressOf(backend, t.stats);
  withScratch(backend, C * 24, (sums) => {
    foldOverBatch(backend, collective, 'f64', 2 * C, (i, at) => k.batch_norm_grad_sums(
      imageAddress(backend, t.x, collective.count, i), imageAddress(backend, t.dy, collective.count, i), statsAt, perImage, C, at), sums);
    const means = sums + C * 16;
    k.batch_norm_grad_finish(sums, perImage * collective.batch, C, addressOf(backend, t.dgamma), addressOf(backend, t.dbeta), means);
    k.batch_norm_grad_apply(addressOf(backend, t.x), addressOf(backend, t.dy), addressOf(backend, t.gamma), statsAt, means,
      addressOf(backend, t.dx), pixels, C);
  });
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
