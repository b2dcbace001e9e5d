/**
 * U-Nets from stock tfjs-layers layers (Ronneberger et al., 2015, at small scale): per level two
 * 3×3 convolutions, each followed by batch norm (or a bias) and ReLU; 2×2 max-pooling down; a 2×2
 * transposed convolution (stride 2) up, concatenated with the level's skip connection; a 1×1 head.
 * Nothing here is special to segloss: the speed on tfjs-backend-wasm comes from the kernels
 * `setupWasmKernels()` installs, so a U-Net of your own from the same layers trains as fast.
 */
import * as tfl from '@tensorflow/tfjs-layers';

export interface UNet2DOptions {
  /** [height, width, channels]: height and width divisible by 2^(levels − 1). */
  inputShape: readonly [number, number, number];
  /** Output channels: classes (softmax) or labels (sigmoid). */
  classes: number;
  /** Channels per level, the last one the bottleneck (default [16, 32, 64, 128]: 4 levels). */
  filters?: readonly number[];
  /** Batch norm after each 3×3 conv, whose bias it makes redundant (default true). */
  batchNorm?: boolean;
  /** 'none' (default): the head's logits, for segloss's losses; 'softmax' or 'sigmoid': probabilities. */
  activation?: 'none' | 'softmax' | 'sigmoid';
  /** Seeds the kernels' Glorot-uniform initializers (default 0): the same seed, the same initial weights. */
  seed?: number;
  /** Layer names start with this (default 'unet'). */
  name?: string;
}

function checkOptions(o: UNet2DOptions): Required<Omit<UNet2DOptions, 'name'>> & { name: string } {
  const fail = (what: string) => { throw new Error(`segloss unet2d: ${what}`); };
  const filters = o.filters ?? [16, 32, 64, 128];
  if (!Array.isArray(o.inputShape) || o.inputShape.length !== 3 || !o.inputShape.every((d) => Number.isInteger(d) && d > 0)) {
    fail(`inputShape must be [height, width, channels] of positive integers, got ${JSON.stringify(o.inputShape)}`);
  }
  if (!Number.isInteger(o.classes) || o.classes < 1) fail(`classes must be a positive integer, got ${String(o.classes)}`);
  if (!Array.isArray(filters) || filters.length < 1 || !filters.every((f) => Number.isInteger(f) && f > 0)) {
    fail(`filters must be a non-empty list of positive integers, got ${JSON.stringify(filters)}`);
  }
  const scale = 2 ** (filters.length - 1);
  const [h, w] = o.inputShape;
  if (h % scale !== 0 || w % scale !== 0) {
    fail(`inputShape's height and width (${h}×${w}) must be divisible by 2^${filters.length - 1} = ${scale} for ${filters.length} levels`);
  }
  const activation = o.activation ?? 'none';
  if (!['none', 'softmax', 'sigmoid'].includes(activation)) fail(`activation must be 'none', 'softmax' or 'sigmoid', got '${String(activation)}'`);
  return { inputShape: o.inputShape, classes: o.classes, filters, batchNorm: o.batchNorm ?? true, activation, seed: o.seed ?? 0, name: o.name ?? 'unet' };
}

/** A 2D U-Net as a tfjs-layers model: images [N, H, W, C] → [N, H, W, classes]. */
export function unet2d(options: UNet2DOptions): tfl.LayersModel {
  const o = checkOptions(options);
  let seed = o.seed;
  const init = () => tfl.initializers.glorotUniform({ seed: seed++ });
  const block = (x: tfl.SymbolicTensor, f: number, tag: string) => {
    for (let i = 1; i <= 2; i++) {
      x = tfl.layers.conv2d({ filters: f, kernelSize: 3, padding: 'same', useBias: !o.batchNorm, kernelInitializer: init(), name: `${o.name}_${tag}_conv${i}` })
        .apply(x) as tfl.SymbolicTensor;
      if (o.batchNorm) x = tfl.layers.batchNormalization({ name: `${o.name}_${tag}_bn${i}` }).apply(x) as tfl.SymbolicTensor;
      x = tfl.layers.reLU({ name: `${o.name}_${tag}_relu${i}` }).apply(x) as tfl.SymbolicTensor;
    }
    return x;
  };
  const input = tfl.input({ shape: [...o.inputShape], name: `${o.name}_input` });
  let x = input;
  const skips: tfl.SymbolicTensor[] = [];
  o.filters.slice(0, -1).forEach((f, level) => {
    x = block(x, f, `down${level}`);
    skips.push(x);
    x = tfl.layers.maxPooling2d({ poolSize: 2, name: `${o.name}_pool${level}` }).apply(x) as tfl.SymbolicTensor;
  });
  x = block(x, o.filters[o.filters.length - 1], 'bottom');
  for (let level = o.filters.length - 2; level >= 0; level--) {
    const f = o.filters[level];
    x = tfl.layers.conv2dTranspose({ filters: f, kernelSize: 2, strides: 2, padding: 'same', kernelInitializer: init(), name: `${o.name}_up${level}` })
      .apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.concatenate({ name: `${o.name}_skip${level}` }).apply([x, skips[level]]) as tfl.SymbolicTensor;
    x = block(x, f, `up${level}`);
  }
  const head = tfl.layers.conv2d({
    filters: o.classes, kernelSize: 1, kernelInitializer: init(), name: `${o.name}_head`,
    activation: o.activation === 'none' ? 'linear' : o.activation,
  }).apply(x) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: head, name: o.name });
}
