/**
 * The seed's ConvNet, from tfjs-core ops: nConv × [3×3 conv, `filters` maps, 'same', Xavier-uniform
 * init, bias only without batch norm] → optional batch norm → ReLU, then a 1×1 conv to 2 logits
 * (bias on). 198 trainable parameters for the seed's net without batch norm, 206 with.
 *
 * Batch norm follows tf.layers.batch_normalization as the seed used it: in training the batch's
 * mean and (biased) variance over N, H, W; moving averages with momentum 0.99 updated once per
 * step; ε = 1e-3; at evaluation the moving averages.
 */
import {
  add, batchNorm, cast, conv2d, dispose, engine, mul, ones, relu, reshape, step, sum, tensor,
  tidy, util, variable, zeros, type NamedTensorMap, type Tensor, type Tensor1D, type Tensor4D, type TensorContainer,
  type Variable,
} from '@tensorflow/tfjs-core';
import { SeglossBatchNormTraining, SeglossBatchNormTrainingGrad } from '../kernels/kernel_names.js';
import { fusedKernelAvailable } from '../losses/fused.js';
import { batchNormTraining, splitStatistics } from '../ops/batch_norm_training.js';
import type { RunConfig } from './config.js';
import type { Random } from './random.js';

const BN_MOMENTUM = 0.99;
const BN_EPSILON = 1e-3;

interface ConvLayer {
  kernel: Variable;
  bias?: Variable;
  gamma?: Variable;
  beta?: Variable;
  movingMean?: Variable;
  movingVariance?: Variable;
}

export interface BatchStatistics {
  mean: Tensor;
  variance: Tensor;
}

/**
 * A variable holding `initial`'s bytes; `initial` itself is released (no leftover tensor). Names
 * are left to tfjs (unique), so two nets can live side by side.
 */
/**
 * A training-mode forward pass kept for `ConvNet.backward`: per conv layer its input, the input of
 * its relu, the relu's gradient mask (step(preActivation) as float32, formed once for every logged
 * loss's backward pass) and, with batch norm, the conv output and the [2, C] batch statistics.
 */
export interface TrainingPass {
  logits: Tensor4D;
  layers: { input: Tensor4D; preActivation: Tensor4D; reluMask: Tensor4D; conv?: Tensor4D; stats?: Tensor }[];
  headInput: Tensor4D;
  /** Each BN layer's batch mean and variance, for `updateMovingAverages`. */
  statistics: BatchStatistics[];
}

const CONV_ATTRS = { strides: 1, pad: 'same', dataFormat: 'NHWC', dimRoundingMode: undefined } as const;

function owned(initial: Tensor, trainable: boolean): Variable {
  const v = variable(initial, trainable);
  initial.dispose();
  return v;
}

/**
 * Glorot/Xavier uniform: U(−l, l), l = √(6 / (fan_in + fan_out)), fans = kh·kw·channels; the
 * values in row-major [kh, kw, cin, cout] order, drawn from `random` in that order.
 */
export function xavierUniformValues(random: Random, shape: readonly [number, number, number, number]): Float32Array {
  const [kh, kw, cin, cout] = shape;
  const limit = Math.sqrt(6 / (kh * kw * cin + kh * kw * cout));
  const values = new Float32Array(kh * kw * cin * cout);
  for (let i = 0; i < values.length; i++) values[i] = (2 * random.nextFloat() - 1) * limit;
  return values;
}

function xavierUniform(random: Random, shape: [number, number, number, number]): Tensor4D {
  return tensor(xavierUniformValues(random, shape), shape) as Tensor4D;
}

export class ConvNet {
  private readonly layers: ConvLayer[] = [];
  private readonly head: ConvLayer;
  /** Trainable variables in a fixed order (the order of the logs' gradient norms and the optimizer). */
  readonly trainable: Variable[];

  constructor(readonly config: Pick<RunConfig, 'nConv' | 'filters' | 'batchNorm'>, random: Random) {
    this.head = this.build(random);
    this.trainable = [...this.layers, this.head].flatMap((layer) =>
      [layer.kernel, layer.bias, layer.gamma, layer.beta].filter((v): v is Variable => v != null));
  }

  /** Creates the conv layers (into `layers`) and returns the head. */
  private build(random: Random): ConvLayer {
    const { nConv, filters, batchNorm: bn } = this.config;
    let channels = 1;
    for (let l = 0; l < nConv; l++) {
      const layer: ConvLayer = { kernel: owned(xavierUniform(random, [3, 3, channels, filters]), true) };
      if (bn) {
        layer.gamma = owned(ones([filters]), true);
        layer.beta = owned(zeros([filters]), true);
        layer.movingMean = owned(zeros([filters]), false);
        layer.movingVariance = owned(ones([filters]), false);
      } else {
        layer.bias = owned(zeros([filters]), true);
      }
      this.layers.push(layer);
      channels = filters;
    }
    return {
      kernel: owned(xavierUniform(random, [1, 1, channels, 2]), true),
      bias: owned(zeros([2]), true),
    };
  }

  /** Number of trainable parameters (198 / 206 for the seed's net without / with batch norm). */
  parameterCount(): number {
    return this.trainable.reduce((total, v) => total + v.size, 0);
  }

  /**
   * Logits [N, H, W, 2] for images [N, H, W, 1]. In training mode (batch norm on batch
   * statistics, src/ops/batch_norm_training.ts) `statistics`, when given, receives each BN
   * layer's batch mean and variance, kept past any enclosing tidy for the moving-average update.
   */
  apply(x: Tensor4D, training: boolean, statistics?: BatchStatistics[]): Tensor4D {
    return tidy(() => {
      let h: Tensor4D = x;
      for (const layer of this.layers) {
        h = conv2d(h, layer.kernel as Tensor4D, 1, 'same');
        if (layer.bias) h = add(h, layer.bias);
        if (layer.gamma && layer.beta) {
          if (training) {
            const bn = batchNormTraining(h, layer.gamma, layer.beta, BN_EPSILON);
            h = bn.y as Tensor4D;
            if (statistics) statistics.push({ mean: bn.mean, variance: bn.variance });
            else dispose([bn.mean, bn.variance]);
          } else {
            h = batchNorm(h, layer.movingMean as Tensor1D, layer.movingVariance as Tensor1D,
              layer.beta as Tensor1D, layer.gamma as Tensor1D, BN_EPSILON);
          }
        }
        h = relu(h);
      }
      return add(conv2d(h, this.head.kernel as Tensor4D, 1, 'same'), this.head.bias!) as Tensor4D;
    });
  }

  /**
   * True where `forwardTraining` and `backward` run: tfjs's wasm backend with segloss's kernels
   * (the batch norm kernels are called directly). Elsewhere train through `apply` and the tape.
   */
  canBackpropByHand(): boolean {
    return fusedKernelAvailable(SeglossBatchNormTraining);
  }

  /**
   * `apply(x, true)` once, recording what `backward` needs, so that several losses of the same
   * logits get their gradients without a forward pass (and a tape) each. Dispose the pass with
   * `disposePass` (its statistics are the caller's, as with `apply`).
   */
  forwardTraining(x: Tensor4D): TrainingPass {
    return tidy(() => {
      const layers: TrainingPass['layers'] = [];
      const statistics: BatchStatistics[] = [];
      let h: Tensor4D = x;
      for (const layer of this.layers) {
        const conv = conv2d(h, layer.kernel as Tensor4D, 1, 'same');
        // The relu's gradient mask as tfjs's Relu gradient forms it (dy · float32(step(x))).
        // (step keeps float32, so the cast tfjs's gradient applies is not a kernel call here.)
        const masked = (pre: Tensor4D) => {
          const mask = step(pre);
          return { preActivation: pre, reluMask: (mask.dtype === 'float32' ? mask : cast(mask, 'float32')) as Tensor4D };
        };
        if (layer.bias) {
          layers.push({ input: h, ...masked(add(conv, layer.bias)) });
        } else {
          const [y, stats] = engine().runKernel(SeglossBatchNormTraining,
            { x: conv, gamma: layer.gamma!, beta: layer.beta! }, { epsilon: BN_EPSILON }) as Tensor[];
          statistics.push(splitStatistics(stats));
          layers.push({ input: h, ...masked(y as Tensor4D), conv, stats });
        }
        h = relu(layers[layers.length - 1].preActivation);
      }
      const logits = add(conv2d(h, this.head.kernel as Tensor4D, 1, 'same'), this.head.bias!) as Tensor4D;
      const pass: TrainingPass = { logits, layers, headInput: h, statistics };
      return pass as unknown as TensorContainer; // tidy keeps every tensor it holds
    }) as unknown as TrainingPass;
  }

  /**
   * The gradients of a loss w.r.t. every trainable variable (keyed by name, in `trainable`'s
   * order, as `variableGrads` returns them) from dLoss/dlogits and a pass of `forwardTraining`.
   * The same kernels and formulas as tfjs's registered gradients (Conv2D, Add, Relu) and segloss's
   * batch norm gradient, so the same bits as backpropagation on the tape.
   */
  backward(pass: TrainingPass, dLogits: Tensor4D): NamedTensorMap {
    return tidy(() => {
      const grads = new Map<Variable, Tensor>();
      // tfjs's Add gradient: the sum over the broadcast axes, reshaped to the bias (already [C]).
      const biasGrad = (dy: Tensor, bias: Variable) => {
        const g = sum(dy, [0, 1, 2]);
        return util.arraysEqual(g.shape, bias.shape) ? g : reshape(g, bias.shape);
      };
      const filterGrad = (x: Tensor4D, dy: Tensor, filter: Variable) =>
        engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...CONV_ATTRS, filterShape: filter.shape } as never) as Tensor;
      const inputGrad = (x: Tensor4D, dy: Tensor, filter: Variable) =>
        engine().runKernel('Conv2DBackpropInput', { dy, filter }, { ...CONV_ATTRS, inputShape: x.shape } as never) as Tensor;

      grads.set(this.head.bias!, biasGrad(dLogits, this.head.bias!));
      grads.set(this.head.kernel, filterGrad(pass.headInput, dLogits, this.head.kernel));
      let dh = inputGrad(pass.headInput, dLogits, this.head.kernel);
      for (let l = this.layers.length - 1; l >= 0; l--) {
        const layer = this.layers[l];
        const saved = pass.layers[l];
        const dPre = mul(dh, saved.reluMask);
        let dConv: Tensor;
        if (layer.bias) {
          grads.set(layer.bias, biasGrad(dPre, layer.bias));
          dConv = dPre;
        } else {
          const [dx, dGamma, dBeta] = engine().runKernel(SeglossBatchNormTrainingGrad,
            { x: saved.conv!, dy: dPre, gamma: layer.gamma!, stats: saved.stats! }, {}) as Tensor[];
          grads.set(layer.gamma!, dGamma);
          grads.set(layer.beta!, dBeta);
          dConv = dx;
        }
        grads.set(layer.kernel, filterGrad(saved.input, dConv, layer.kernel));
        if (l > 0) dh = inputGrad(saved.input, dConv, layer.kernel);
      }
      return Object.fromEntries(this.trainable.map((v) => [v.name, grads.get(v)!]));
    });
  }

  /** Releases a pass's tensors but its statistics (and the input image it refers to). */
  disposePass(pass: TrainingPass): void {
    dispose([pass.logits, pass.headInput, ...pass.layers.slice(1).map((l) => l.input),
      ...pass.layers.flatMap((l) => [l.preActivation, l.reluMask, l.conv, l.stats].filter((t): t is Tensor => t != null))]);
  }

  /**
   * moving ← 0.99·moving + 0.01·batch, for each BN layer's statistics from `apply`: in float32
   * arithmetic as tfjs's Mul and Add kernels do it (each product and the sum rounded to float32;
   * done in float64 and rounded, which is exact for these operations), on the few values of each
   * layer in JS rather than with six kernel calls per layer.
   */
  updateMovingAverages(statistics: BatchStatistics[]): void {
    const bnLayers = this.layers.filter((l) => l.movingMean);
    const keep = Math.fround(BN_MOMENTUM);
    const take = Math.fround(1 - BN_MOMENTUM);
    statistics.forEach(({ mean, variance }, i) => {
      const layer = bnLayers[i];
      for (const [moving, batch] of [[layer.movingMean!, mean], [layer.movingVariance!, variance]] as const) {
        const current = moving.dataSync();
        const observed = batch.dataSync();
        const next = Float32Array.from(current, (v, k) => Math.fround(v * keep) + Math.fround(observed[k] * take));
        const value = tensor(next, moving.shape);
        moving.assign(value);
        value.dispose();
      }
    });
  }

  /** The batch norm layers' moving means and variances, per layer [mean…, variance…], flattened (empty without BN). */
  movingAverages(): Float32Array {
    return Float32Array.from(this.layers.filter((l) => l.movingMean)
      .flatMap((l) => [...l.movingMean!.dataSync(), ...l.movingVariance!.dataSync()]));
  }

  dispose(): void {
    for (const layer of [...this.layers, this.head]) {
      for (const v of [layer.kernel, layer.bias, layer.gamma, layer.beta, layer.movingMean, layer.movingVariance]) v?.dispose();
    }
  }
}
