/**
 * U-Nets from stock tfjs-layers layers (Ronneberger et al., 2015; in 3D Çiçek et al., 2016; both at small scale): per level two
 * 3×3 convolutions, each followed by batch norm (or a bias) and ReLU; 2×2 max-pooling down; a 2×2
 * transposed convolution (stride 2) up, concatenated with the level's skip connection; a 1×1 head.
 * Nothing here is special to segloss: the speed on tfjs-backend-wasm comes from the kernels
 * `setupWasmKernels()` installs, so a U-Net of your own from the same layers trains as fast.
 */
import * as tfl from '@tensorflow/tfjs-layers';

export interface UNet2DOptions {
  /** The input shape, [height, width, channels]: height and width divisible by 2^(levels − 1). */
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

/** A 3D U-Net's options: `inputShape` is [depth, height, width, channels]. */
export interface UNet3DOptions extends Omit<UNet2DOptions, 'inputShape'> {
  /** The input shape, [depth, height, width, channels]: depth, height and width divisible by 2^(levels − 1). */
  inputShape: readonly [number, number, number, number];
}

type Checked = Required<Omit<UNet2DOptions, 'name' | 'inputShape'>> & { name: string; inputShape: readonly number[] };

function checkOptions(o: UNet2DOptions | UNet3DOptions, dims: 2 | 3): Checked {
  const op = dims === 2 ? 'unet2d' : 'unet3d';
  const fail = (what: string) => { throw new Error(`segloss ${op}: ${what}`); };
  const filters = o.filters ?? [16, 32, 64, 128];
  const spatial = dims === 2 ? '[height, width, channels]' : '[depth, height, width, channels]';
  if (!Array.isArray(o.inputShape) || o.inputShape.length !== dims + 1 || !o.inputShape.every((d) => Number.isInteger(d) && d > 0)) {
    fail(`inputShape must be ${spatial} of positive integers, got ${JSON.stringify(o.inputShape)}`);
  }
  if (!Number.isInteger(o.classes) || o.classes < 1) fail(`classes must be a positive integer, got ${String(o.classes)}`);
  if (!Array.isArray(filters) || filters.length < 1 || !filters.every((f) => Number.isInteger(f) && f > 0)) {
    fail(`filters must be a non-empty list of positive integers, got ${JSON.stringify(filters)}`);
  }
  const scale = 2 ** (filters.length - 1);
  const sizes = o.inputShape.slice(0, dims);
  if (sizes.some((d) => d % scale !== 0)) {
    fail(`inputShape's ${dims === 2 ? 'height and width' : 'depth, height and width'} (${sizes.join('×')}) must be divisible by 2^${filters.length - 1} = ${scale} for ${filters.length} levels`);
  }
  const activation = o.activation ?? 'none';
  if (!['none', 'softmax', 'sigmoid'].includes(activation)) fail(`activation must be 'none', 'softmax' or 'sigmoid', got '${String(activation)}'`);
  return { inputShape: o.inputShape, classes: o.classes, filters, batchNorm: o.batchNorm ?? true, activation, seed: o.seed ?? 0, name: o.name ?? op };
}

/**
 * The U-Net for 2 or 3 spatial dimensions. In 3D, batch norm is tfjs-layers' own layer between two
 * reshapes ([D, H, W, C] → [D, H·W, C] → back): its statistics over every axis but the channels are
 * the same, and tfjs-layers' batch norm stops at rank 4.
 */
function build(o: Checked, dims: 2 | 3): tfl.LayersModel {
  let seed = o.seed;
  const init = () => tfl.initializers.glorotUniform({ seed: seed++ });
  const conv = (args: { filters: number; kernelSize: number; name: string; useBias?: boolean; activation?: string }) => (dims === 2
    ? tfl.layers.conv2d({ ...args, padding: 'same', kernelInitializer: init() } as never)
    : tfl.layers.conv3d({ ...args, padding: 'same', kernelInitializer: init() } as never));
  const batchNorm = (x: tfl.SymbolicTensor, name: string) => {
    if (dims === 2) return tfl.layers.batchNormalization({ name }).apply(x) as tfl.SymbolicTensor;
    const [, d, h, w, c] = x.shape as number[];
    const flat = tfl.layers.reshape({ targetShape: [d, h * w, c], name: `${name}_flat` }).apply(x) as tfl.SymbolicTensor;
    const normed = tfl.layers.batchNormalization({ name }).apply(flat) as tfl.SymbolicTensor;
    return tfl.layers.reshape({ targetShape: [d, h, w, c], name: `${name}_unflat` }).apply(normed) as tfl.SymbolicTensor;
  };
  const block = (x: tfl.SymbolicTensor, f: number, tag: string) => {
    for (let i = 1; i <= 2; i++) {
      x = conv({ filters: f, kernelSize: 3, useBias: !o.batchNorm, name: `${o.name}_${tag}_conv${i}` }).apply(x) as tfl.SymbolicTensor;
      if (o.batchNorm) x = batchNorm(x, `${o.name}_${tag}_bn${i}`);
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
    const pool = dims === 2 ? tfl.layers.maxPooling2d({ poolSize: 2, name: `${o.name}_pool${level}` })
      : tfl.layers.maxPooling3d({ poolSize: 2, name: `${o.name}_pool${level}` });
    x = pool.apply(x) as tfl.SymbolicTensor;
  });
  x = block(x, o.filters[o.filters.length - 1], 'bottom');
  for (let level = o.filters.length - 2; level >= 0; level--) {
    const f = o.filters[level];
    const upArgs = { filters: f, kernelSize: 2, strides: 2, padding: 'same', kernelInitializer: init(), name: `${o.name}_up${level}` } as never;
    x = (dims === 2 ? tfl.layers.conv2dTranspose(upArgs) : tfl.layers.conv3dTranspose(upArgs)).apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.concatenate({ name: `${o.name}_skip${level}` }).apply([x, skips[level]]) as tfl.SymbolicTensor;
    x = block(x, f, `up${level}`);
  }
  const head = conv({ filters: o.classes, kernelSize: 1, name: `${o.name}_head`, activation: o.activation === 'none' ? 'linear' : o.activation })
    .apply(x) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: head, name: o.name });
}

/** A 2D U-Net as a tfjs-layers model: images [N, H, W, C] → [N, H, W, classes]. */
export function unet2d(options: UNet2DOptions): tfl.LayersModel {
  return build(checkOptions(options, 2), 2);
}

/**
 * A 3D U-Net (Çiçek et al., 2016, at small scale) as a tfjs-layers model: volumes [N, D, H, W, C]
 * → [N, D, H, W, classes]. It trains on tfjs-backend-wasm with segloss's kernels, which supply what
 * tfjs lacks for it: Conv3DBackpropInputV2's gradient (conv3dTranspose) and, through the reshapes,
 * batch norm at rank 5.
 */
export function unet3d(options: UNet3DOptions): tfl.LayersModel {
  return build(checkOptions(options, 3), 3);
}
