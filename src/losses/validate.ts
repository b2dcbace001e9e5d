/**
 * Argument checks of the public loss ops. Every error names the op and the argument, and says
 * what was expected and what was given; nothing is computed from invalid input.
 */
import { Tensor } from '@tensorflow/tfjs-core';
import type {
  Activation, BinaryCrossEntropyOptions, LovaszSoftmaxOptions, CategoricalCrossEntropyOptions, DiceCrossEntropyOptions, DiceFocalOptions, FocalOptions, DiceOptions, GeneralizedDiceOptions, RegionLossOptions, SegmentationLossesOptions,
  TverskyOptions,
} from './types.js';

const describe = (t: Tensor) => `${t.dtype} [${t.shape.join(',')}]`;

function fail(op: string, message: string): never {
  throw new Error(`segloss.losses.${op}: ${message}`);
}

/**
 * Checks logits (float32 [N,H,W,C], nothing empty) and labels (float32 of the same shape, or
 * int32 [N,H,W]); returns C.
 */
export function checkLabelsAndLogits(op: string, labels: unknown, logits: unknown, minClasses: number): number {
  if (!(logits instanceof Tensor)) fail(op, `logits must be a tf.Tensor, got ${typeof logits}`);
  if (!(labels instanceof Tensor)) fail(op, `labels must be a tf.Tensor, got ${typeof labels}`);
  if (logits.dtype !== 'float32' || logits.rank !== 4) {
    fail(op, `logits must be float32 [N,H,W,C], got ${describe(logits)}`);
  }
  if (logits.size === 0) fail(op, `logits must not be empty, got shape [${logits.shape.join(',')}]`);
  const C = logits.shape[3];
  if (C < minClasses) fail(op, `logits must have at least ${minClasses} classes (last axis), got C = ${C}`);
  const [N, H, W] = logits.shape;
  const oneHot = labels.dtype === 'float32' && labels.rank === 4
    && labels.shape.every((d: number, i: number) => d === logits.shape[i]);
  const indices = labels.dtype === 'int32' && labels.rank === 3
    && labels.shape[0] === N && labels.shape[1] === H && labels.shape[2] === W;
  if (!oneHot && !indices) {
    fail(op, `labels must be float32 one-hot [${N},${H},${W},${C}] or int32 class indices [${N},${H},${W}] `
      + `matching logits, got ${describe(labels)}`);
  }
  return C;
}

function checkKeys(op: string, opts: object, allowed: readonly string[]): void {
  if (opts == null || typeof opts !== 'object') fail(op, `options must be an object, got ${String(opts)}`);
  for (const key of Object.keys(opts)) {
    if (!allowed.includes(key)) fail(op, `unknown option '${key}' (known: ${allowed.join(', ')})`);
  }
}

function checkBoolean(op: string, name: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'boolean') fail(op, `${name} must be a boolean, got ${String(value)}`);
}

function checkEpsilon(op: string, value: unknown, upper: number): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value >= upper) {
    fail(op, `epsilon must be a finite number in (0, ${upper}), got ${String(value)}`);
  }
}

export function checkCceOptions(op: string, opts: CategoricalCrossEntropyOptions, C: number, labels: Tensor): void {
  checkKeys(op, opts, ['clip', 'epsilon', 'classWeights', 'ignoreIndex', 'reduction', 'labelSmoothing', 'activation']);
  checkBoolean(op, 'clip', opts.clip);
  checkEpsilon(op, opts.epsilon, 0.5);
  checkClassWeights(op, opts.classWeights, C);
  checkIgnoreIndex(op, opts.ignoreIndex, labels);
  checkEnum(op, 'reduction', opts.reduction, ['mean', 'sum', 'none']);
  checkSmoothing(op, opts.labelSmoothing);
  checkEnum(op, 'activation', opts.activation, ['softmax', 'none']);
  if (opts.clip && (opts.labelSmoothing ?? 0) > 0) {
    fail(op, 'clip (the seed\'s and Keras\' form) does not take labelSmoothing');
  }
}

/**
 * Checks the input of a region loss — float32 [N, ...spatial, C] with 1 to 3 spatial axes, nothing
 * empty — and labels (float32 of the same shape, or int32 [N, ...spatial]), and that the activation
 * suits C; returns C.
 */
export function checkRegionInputs(op: string, labels: unknown, input: unknown, activation: Activation): number {
  if (!(input instanceof Tensor)) fail(op, `logits must be a tf.Tensor, got ${typeof input}`);
  if (!(labels instanceof Tensor)) fail(op, `labels must be a tf.Tensor, got ${typeof labels}`);
  if (input.dtype !== 'float32' || input.rank < 3 || input.rank > 5) {
    fail(op, `logits must be float32 [N, ...spatial, C] with 1, 2 or 3 spatial axes (rank 3 to 5), got ${describe(input)}`);
  }
  if (input.size === 0) fail(op, `logits must not be empty, got shape [${input.shape.join(',')}]`);
  const C = input.shape[input.rank - 1];
  const pixelShape = input.shape.slice(0, -1);
  const dense = labels.dtype === 'float32' && labels.rank === input.rank && labels.shape.every((d: number, i: number) => d === input.shape[i]);
  const indices = labels.dtype === 'int32' && labels.rank === input.rank - 1 && labels.shape.every((d: number, i: number) => d === pixelShape[i]);
  if (!dense && !indices) {
    fail(op, `labels must be float32 [${input.shape.join(',')}] (one-hot, soft or multi-label) or int32 class indices `
      + `[${pixelShape.join(',')}] matching logits, got ${describe(labels)}`);
  }
  if (activation === 'softmax' && C < 2) {
    fail(op, `activation 'softmax' needs at least 2 classes (a softmax over one channel is the constant 1), got C = ${C}: `
      + `use activation 'sigmoid' for a single-channel (binary) output`);
  }
  return C;
}

function checkNumber(op: string, name: string, value: unknown, { min = -Infinity, open = false } = {}): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || (open && value === min)) {
    fail(op, `${name} must be a finite number ${open ? '>' : '≥'} ${min}, got ${String(value)}`);
  }
}

function checkClassWeights(op: string, w: unknown, C: number): void {
  if (w === undefined) return;
  if (!Array.isArray(w) && !ArrayBuffer.isView(w)) fail(op, `classWeights must be an array of ${C} numbers, got ${String(w)}`);
  const weights = Array.from(w as ArrayLike<unknown>);
  if (weights.length !== C) fail(op, `classWeights must have one weight per class (${C}), got ${weights.length}`);
  const bad = weights.findIndex((x) => typeof x !== 'number' || !Number.isFinite(x) || x < 0);
  if (bad >= 0) fail(op, `classWeights[${bad}] must be a finite number ≥ 0, got ${String(weights[bad])}`);
}

function checkIgnoreIndex(op: string, ignoreIndex: unknown, labels: Tensor): void {
  if (ignoreIndex === undefined) return;
  if (!Number.isInteger(ignoreIndex) || Math.abs(ignoreIndex as number) > 2 ** 31 - 1) {
    fail(op, `ignoreIndex must be an int32 integer, got ${String(ignoreIndex)}`);
  }
  if (labels.dtype !== 'int32') fail(op, `ignoreIndex applies to int32 class-index labels only, got labels ${describe(labels)}`);
}

function checkEnum(op: string, name: string, value: unknown, allowed: readonly string[]): void {
  if (value !== undefined && !allowed.includes(value as string)) {
    const names = allowed.map((a) => `'${a}'`);
    fail(op, `${name} must be ${names.slice(0, -1).join(', ')}${names.length > 1 ? ' or ' : ''}${names[names.length - 1]}, got ${String(value)}`);
  }
}

function checkSmoothing(op: string, value: unknown, name = 'labelSmoothing'): void {
  if (value !== undefined && (typeof value !== 'number' || !(value >= 0 && value < 1))) {
    fail(op, `${name} must be a number in [0, 1), got ${String(value)}`);
  }
}

/** A weight per channel (posWeight, alpha): an array of C finite numbers ≥ 0. */
function checkPerClass(op: string, name: string, w: unknown, C: number): void {
  if (w === undefined) return;
  if (!Array.isArray(w) && !ArrayBuffer.isView(w)) fail(op, `${name} must be an array of ${C} numbers, got ${String(w)}`);
  const values = Array.from(w as ArrayLike<unknown>);
  if (values.length !== C) fail(op, `${name} must have one value per class (${C}), got ${values.length}`);
  const bad = values.findIndex((x) => typeof x !== 'number' || !Number.isFinite(x) || x < 0);
  if (bad >= 0) fail(op, `${name}[${bad}] must be a finite number ≥ 0, got ${String(values[bad])}`);
}

function checkFocalParts(op: string, prefix: string, gamma: unknown, alpha: unknown, activation: string, C: number): void {
  checkNumber(op, `${prefix}gamma`, gamma, { min: 0 });
  if (typeof alpha === 'number') {
    if (!Number.isFinite(alpha) || alpha < 0 || (activation === 'sigmoid' && alpha > 1)) {
      fail(op, `${prefix}alpha must be a finite number ${activation === 'sigmoid' ? 'in [0, 1]' : '≥ 0'}, got ${alpha}`);
    }
  } else {
    checkPerClass(op, `${prefix}alpha`, alpha, C);
  }
}

export function checkBinaryCrossEntropyOptions(op: string, opts: BinaryCrossEntropyOptions, C: number, labels: Tensor): void {
  checkKeys(op, opts, ['activation', 'posWeight', 'labelSmoothing', 'ignoreIndex', 'reduction']);
  checkEnum(op, 'activation', opts.activation, ['sigmoid', 'none']);
  checkPerClass(op, 'posWeight', opts.posWeight, C);
  checkSmoothing(op, opts.labelSmoothing);
  checkIgnoreIndex(op, opts.ignoreIndex, labels);
  checkEnum(op, 'reduction', opts.reduction, ['mean', 'sum', 'none']);
}

export function checkFocalOptions(op: string, opts: FocalOptions, C: number, labels: Tensor): void {
  checkKeys(op, opts, ['activation', 'gamma', 'alpha', 'ignoreIndex', 'reduction']);
  checkEnum(op, 'activation', opts.activation, ['softmax', 'sigmoid', 'none']);
  checkFocalParts(op, '', opts.gamma, opts.alpha, opts.activation ?? 'softmax', C);
  checkIgnoreIndex(op, opts.ignoreIndex, labels);
  checkEnum(op, 'reduction', opts.reduction, ['mean', 'sum', 'none']);
}

function checkCompoundDice(op: string, dice: unknown, C: number): void {
  if (dice === undefined) return;
  checkKeys(op, dice as object, ['square', 'jaccard', 'log', 'classWeights', 'includeBackground', 'perImage', 'epsilon']);
  const d = dice as Record<string, unknown>;
  for (const name of ['square', 'jaccard', 'log', 'includeBackground', 'perImage']) checkBoolean(op, `dice.${name}`, d[name]);
  checkClassWeights(op, d.classWeights, C);
  checkRegionEpsilon(op, d.epsilon);
  if (d.includeBackground === false && C < 2) fail(op, `dice.includeBackground: false needs at least 2 classes, got C = ${C}`);
}

function checkCompound(op: string, opts: DiceCrossEntropyOptions | DiceFocalOptions, labels: Tensor, lambdas: string[], part: string, partKeys: string[]): void {
  checkKeys(op, opts, ['activation', ...lambdas, 'dice', part, 'ignoreIndex', 'reduction']);
  checkEnum(op, 'activation', opts.activation, ['softmax', 'sigmoid']);
  const o = opts as unknown as Record<string, unknown>;
  for (const name of lambdas) checkNumber(op, name, o[name], { min: 0 });
  if (o[part] !== undefined) checkKeys(op, o[part] as object, partKeys);
  checkIgnoreIndex(op, opts.ignoreIndex, labels);
  checkEnum(op, 'reduction', opts.reduction, ['mean', 'sum']);
}

export function checkLovaszOptions(op: string, opts: LovaszSoftmaxOptions, labels: Tensor): void {
  checkKeys(op, opts, ['activation', 'classes', 'perImage', 'ignoreIndex']);
  checkEnum(op, 'activation', opts.activation, ['softmax', 'none']);
  checkEnum(op, 'classes', opts.classes, ['present', 'all']);
  checkBoolean(op, 'perImage', opts.perImage);
  checkIgnoreIndex(op, opts.ignoreIndex, labels);
}

export function checkDiceCrossEntropyOptions(op: string, opts: DiceCrossEntropyOptions, C: number, labels: Tensor): void {
  checkCompound(op, opts, labels, ['lambdaDice', 'lambdaCe'], 'ce', ['classWeights', 'posWeight', 'labelSmoothing']);
  checkCompoundDice(op, opts.dice, C);
  const sigmoid = opts.activation === 'sigmoid';
  if (sigmoid && opts.ce?.classWeights) fail(op, 'ce.classWeights is for the softmax cross-entropy: with activation \'sigmoid\' use ce.posWeight');
  if (!sigmoid && opts.ce?.posWeight) fail(op, 'ce.posWeight is for the binary cross-entropy (activation \'sigmoid\'): with a softmax use ce.classWeights');
  checkClassWeights(op, opts.ce?.classWeights, C);
  checkPerClass(op, 'ce.posWeight', opts.ce?.posWeight, C);
  checkSmoothing(op, opts.ce?.labelSmoothing, 'ce.labelSmoothing');
}

export function checkDiceFocalOptions(op: string, opts: DiceFocalOptions, C: number, labels: Tensor): void {
  checkCompound(op, opts, labels, ['lambdaDice', 'lambdaFocal'], 'focal', ['gamma', 'alpha', 'activation']);
  checkCompoundDice(op, opts.dice, C);
  const activation = opts.focal?.activation ?? opts.activation ?? 'softmax';
  checkEnum(op, 'focal.activation', opts.focal?.activation, ['softmax', 'sigmoid']);
  if (activation === 'softmax' && C < 2) fail(op, `a softmax focal part needs at least 2 classes, got C = ${C}`);
  checkFocalParts(op, 'focal.', opts.focal?.gamma, opts.focal?.alpha, activation, C);
}

function checkRegionEpsilon(op: string, eps: unknown): void {
  if (eps === undefined) return;
  if (typeof eps === 'object' && eps !== null) {
    checkKeys(op, eps, ['numerator', 'denominator']);
    const e = eps as Record<string, unknown>;
    checkNumber(op, 'epsilon.numerator', e.numerator ?? NaN, { min: 0 });
    checkNumber(op, 'epsilon.denominator', e.denominator ?? NaN, { min: 0 });
  } else {
    checkNumber(op, 'epsilon', eps, { min: 0 });
  }
}

const REGION_KEYS = ['activation', 'includeBackground', 'perImage', 'epsilon', 'ignoreIndex', 'reduction'] as const;

/** The options every region loss shares; `C` from checkRegionInputs. */
function checkRegionOptions(op: string, opts: RegionLossOptions, C: number, labels: Tensor, extra: readonly string[]): void {
  checkKeys(op, opts, [...REGION_KEYS, ...extra]);
  checkEnum(op, 'activation', opts.activation, ['softmax', 'sigmoid', 'none']);
  checkBoolean(op, 'includeBackground', opts.includeBackground);
  checkBoolean(op, 'perImage', opts.perImage);
  checkRegionEpsilon(op, opts.epsilon);
  checkIgnoreIndex(op, opts.ignoreIndex, labels);
  checkEnum(op, 'reduction', opts.reduction, ['mean', 'sum', 'none']);
  if (opts.includeBackground === false && C < 2) {
    fail(op, `includeBackground: false needs at least 2 classes (channel 0 is dropped), got C = ${C}`);
  }
}

export function checkDiceOptions(op: string, opts: DiceOptions, C: number, labels: Tensor): void {
  checkRegionOptions(op, opts, C, labels, ['square', 'jaccard', 'log', 'classWeights']);
  for (const name of ['square', 'jaccard', 'log'] as const) checkBoolean(op, name, opts[name]);
  checkClassWeights(op, opts.classWeights, C);
}

export function checkGeneralizedDiceOptions(op: string, opts: GeneralizedDiceOptions, C: number, labels: Tensor): void {
  checkRegionOptions(op, opts, C, labels, ['weightType']);
  checkEnum(op, 'weightType', opts.weightType, ['square', 'simple', 'uniform']);
}

export function checkTverskyOptions(op: string, opts: TverskyOptions, C: number, labels: Tensor): void {
  checkRegionOptions(op, opts, C, labels, ['alpha', 'beta', 'gamma']);
  checkNumber(op, 'alpha', opts.alpha, { min: 0 });
  checkNumber(op, 'beta', opts.beta, { min: 0 });
  checkNumber(op, 'gamma', opts.gamma, { min: 0, open: true });
}

export function checkSegmentationLossesOptions(op: string, opts: SegmentationLossesOptions): void {
  checkKeys(op, opts, ['epsilon']);
  checkEpsilon(op, opts.epsilon, 0.5);
}
