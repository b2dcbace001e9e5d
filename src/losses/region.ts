/**
 * The region losses — Dice in all its forms, generalized Dice, Tversky and focal Tversky — on one
 * engine: a statistics kernel (the per-class sums of each group), the loss's formula in float64
 * (region_formulas.ts), and a gradient kernel that applies the formula's per-class coefficients
 * through the activation's Jacobian. Off the wasm kernels, the same losses from tfjs ops
 * (region_composite.ts). Any rank: [N, ...spatial, C] with 1 to 3 spatial axes.
 */
import {
  add, customGrad, div, engine, maximum, mean, mul, reshape, sum, tensor, tidy,
  type GradSaveFunc, type NamedAttrMap, type Tensor, type Tensor2D,
} from '@tensorflow/tfjs-core';
import {
  ACTIVATION_CODES, PIXEL_KINDS, SeglossRegionGrad, SeglossRegionStats, type RegionGradAttrs, type RegionStatsAttrs,
} from '../kernels/kernel_names.js';
import { DEFAULT_EPSILON } from './composite.js';
import {
  checkIndexLabelsInRange, directGradientWanted, fusedKernelAvailable, giveDirectGradient, recordingGradients, scaleFusedGradient,
  type CustomGradientFunc,
} from './fused.js';
import {
  diceFormula, generalizedDiceFormula, tverskyFormula, type DiceFormulaOptions, type GeneralizedDiceFormulaOptions,
  type GroupSums, type RegionFormula, type TverskyFormulaOptions,
} from './region_formulas.js';
import { diceValues, generalizedDiceValues, regionSums, tverskyValues, type SumTensors } from './region_composite.js';
import type {
  Activation, DiceOptions, GeneralizedDiceOptions, Reduction, RegionEpsilon, RegionLossOptions, TverskyOptions,
} from './types.js';
import { checkGeneralizedDiceOptions, checkRegionInputs, checkTverskyOptions } from './validate.js';

/** What every region loss shares, with the defaults filled in. */
export interface ResolvedRegion {
  activation: Activation;
  firstClass: number;
  perImage: boolean;
  numerator: number;
  denominator: number;
  ignoreIndex: number | null;
  reduction: Reduction;
}

function resolveEpsilon(epsilon: RegionEpsilon | undefined): { numerator: number; denominator: number } {
  if (epsilon == null) return { numerator: DEFAULT_EPSILON, denominator: DEFAULT_EPSILON };
  if (typeof epsilon === 'number') return { numerator: epsilon, denominator: epsilon };
  return { numerator: epsilon.numerator, denominator: epsilon.denominator };
}

export function resolveRegion(opts: RegionLossOptions): ResolvedRegion {
  return {
    activation: opts.activation ?? 'softmax',
    firstClass: opts.includeBackground === false ? 1 : 0,
    perImage: opts.perImage ?? false,
    ...resolveEpsilon(opts.epsilon),
    ignoreIndex: opts.ignoreIndex ?? null,
    reduction: opts.reduction ?? 'mean',
  };
}

/**
 * A pixel term (cross-entropy, BCE, focal) run in the same passes (region_losses.ts), alone or
 * beside a region formula. `values` is its tfjs-op twin: per-pixel (or per-element) values and the
 * mean's denominator per pixel, for the composite path.
 */
export interface PixelTerm {
  kind: Exclude<keyof typeof PIXEL_KINDS, 'none'>;
  /** The pixel term's input: logits (its own softmax or sigmoid) or probabilities. */
  givenProbabilities: boolean;
  /** f32 parameters as region_losses.ts reads them: w [C], a [C], γ, s, hasAlpha, hasWeights. */
  params: number[];
  lambda: number;
  values: (labels: Tensor, input: Tensor) => { values: Tensor; denominators: Tensor };
}

/** A loss of the engine: a region formula (with its tfjs-op twin), a pixel term, or both (a compound). */
export interface EngineLoss {
  region: ResolvedRegion;
  formula: RegionFormula | null;
  composite: ((sums: SumTensors) => Tensor2D) | null;
  lambdaRegion: number;
  pixel: PixelTerm | null;
}

/** The group values [G·V] reduced as `reduction` says: a scalar, or [V] / [N, V] for 'none'. */
function reduceValues(values: Tensor, groups: number, perGroup: number, region: ResolvedRegion): Tensor {
  if (region.reduction === 'mean') return mean(values);
  if (region.reduction === 'sum') return sum(values);
  return reshape(values, region.perImage ? [groups, perGroup] : [perGroup]);
}

/** The upstream weight of each group value, from dy of the reduced loss. */
function upstream(dy: Float32Array | Int32Array | Uint8Array, count: number, reduction: Reduction): Float64Array {
  if (reduction === 'none') return Float64Array.from(dy);
  return new Float64Array(count).fill(reduction === 'mean' ? dy[0] / count : dy[0]);
}

/** Group g's sums; S2 and Y2 only when the statistics pass was asked for them (else NaN: see RegionFormula). */
function groupSums(all: Float64Array, g: number, C: number, squares: boolean): GroupSums {
  const pick = (stat: number) => Float64Array.from({ length: C }, (_, c) => all[(g * C + c) * 5 + stat]);
  const unread = () => new Float64Array(C).fill(NaN);
  return { I: pick(0), S: pick(1), Y: pick(2), S2: squares ? pick(3) : unread(), Y2: squares ? pick(4) : unread() };
}

const EMPTY = () => tensor([], [0], 'float32');

/**
 * The loss on the wasm kernels: one statistics pass forward, one gradient pass backward. Inside
 * fusedValueAndGrad (a scalar loss) both run at once and the gradient goes to it, with no tape node.
 */
function runFused(labels: Tensor, input: Tensor, loss: EngineLoss): Tensor {
  const { region, formula, pixel } = loss;
  const C = input.shape[input.rank - 1];
  const groups = region.perImage ? input.shape[0] : 1;
  const activation = ACTIVATION_CODES[region.activation];
  const pixelAttrs = {
    pixelKind: pixel ? PIXEL_KINDS[pixel.kind] : PIXEL_KINDS.none,
    pxAct: pixel?.givenProbabilities ? 1 : 0,
    params: pixel?.params ?? [],
  };
  const pixelOnly = formula == null;
  const pixelNone = pixelOnly && region.reduction === 'none';
  const squares = formula?.squares ?? false;
  const direct = directGradientWanted() && region.reduction !== 'none';
  const withGrad = direct || recordingGradients();
  // A pixel loss alone, reduced: its gradient (for λ = 1) comes from the same pass (one read of the input).
  const oneShot = withGrad && pixelOnly && !pixelNone && pixel!.lambda === 1;
  // A focal term riding in the region part saves for the gradient pass what would cost it a log
  // (softmax focal with class indices, C > 2: h per pixel) or an exp, a log and a division (sigmoid
  // focal: ce per element). The kernel writes it on its SIMD paths only; elsewhere it goes unread.
  const compound = withGrad && !pixelOnly && pixel != null && !pixel.givenProbabilities;
  const saved: RegionStatsAttrs['saved'] = !compound ? 'none'
    : pixel.kind === 'focalSoftmax' && region.activation === 'softmax' && labels.dtype === 'int32' && C > 2 ? 'pixel'
      : pixel.kind === 'focalSigmoid' && region.activation === 'sigmoid' ? 'element' : 'none';
  const forward = (x: Tensor, save: GradSaveFunc) => {
    const statsAttrs: RegionStatsAttrs = {
      activation, groups, ignoreIndex: region.ignoreIndex, regionOn: !pixelOnly, squares, withProbs: withGrad && !pixelOnly,
      pixelValues: pixelNone, oneShot, reduction: region.reduction, saved, ...pixelAttrs,
    };
    const [sumsT, probs, pixelValues, oneShotGrad, savedT] = engine().runKernel(SeglossRegionStats, { labels, input: x },
      statsAttrs as unknown as NamedAttrMap) as Tensor[];
    const sums = new Float64Array((sumsT.dataSync() as Float32Array).slice().buffer);
    sumsT.dispose();
    // The pixel term's total and its mean's denominator follow the region sums, per group.
    const pixelAt = groups * C * 5;
    let pixelTotal = 0;
    let pixelDenominator = 0;
    for (let g = 0; g < groups; g++) {
      pixelTotal += sums[pixelAt + 2 * g];
      pixelDenominator += sums[pixelAt + 2 * g + 1];
    }
    // A mean over no counted pixel (every one ignored) is 0, with a zero gradient: nothing to learn from.
    const pixelValue = region.reduction === 'mean' ? (pixelDenominator > 0 ? pixelTotal / pixelDenominator : 0) : pixelTotal;
    if (oneShot) {
      probs.dispose();
      pixelValues.dispose();
      savedT.dispose();
      save([oneShotGrad]);
      return {
        value: tensor(pixelValue),
        gradFunc: (dy: Tensor, [saved]: Tensor[]) => scaleFusedGradient(saved, dy),
      };
    }
    oneShotGrad.dispose();
    const terms = formula ? Array.from({ length: groups }, (_, g) => formula(groupSums(sums, g, C, squares))) : [];
    const perGroup = terms[0]?.values.length ?? 0;
    let value: Tensor;
    if (pixelNone) {
      value = pixelValues;
    } else {
      pixelValues.dispose();
      const values = new Float32Array(groups * perGroup);
      terms.forEach((t, g) => values.set(t.values, g * perGroup));
      if (!pixel && region.reduction === 'none') {
        value = tidy(() => reduceValues(tensor(values), groups, perGroup, region));
      } else {
        // The group values' mean or sum and the pixel term's, weighted, in float64: one scalar tensor.
        let total = 0;
        if (formula) total = loss.lambdaRegion * (values.reduce((a, b) => a + b, 0) / (region.reduction === 'mean' ? values.length : 1));
        if (pixel) total += pixel.lambda * pixelValue;
        value = tensor(total);
      }
    }
    // The labels are saved too: created inside the differentiated function (say a cast in a
    // tfjs-layers loss), they are disposed after the forward pass unless the tape keeps them.
    // What the gradient pass does not read (an empty `saved`) is not kept.
    if (withGrad) {
      save(savedT.size > 0 ? [x, probs, labels, savedT] : [x, probs, labels]);
      if (savedT.size === 0) savedT.dispose();
    } else {
      probs.dispose();
      savedT.dispose();
    }
    return {
      value: value!,
      gradFunc: (dy: Tensor, [savedInput, p, savedLabels, pixelSaved = EMPTY()]: Tensor[]) => {
        const dyValues = dy.dataSync() as Float32Array;
        const coefs = new Float64Array(pixelOnly ? 0 : groups * C * 3);
        if (!pixelOnly) {
          const m = upstream(dyValues, groups * perGroup, region.reduction);
          if (pixel) m.forEach((v, k) => { m[k] = v * loss.lambdaRegion; });
          terms.forEach((t, g) => {
            const d = t.partials(m.subarray(g * perGroup, (g + 1) * perGroup));
            for (let c = 0; c < C; c++) {
              coefs[(g * C + c) * 3] = d.S[c];
              coefs[(g * C + c) * 3 + 1] = d.I[c];
              coefs[(g * C + c) * 3 + 2] = 2 * d.S2[c];
            }
          });
        }
        const coefsT = tensor(new Float32Array(coefs.buffer));
        const pixelDy = pixelNone ? dy : EMPTY();
        const pixelScale = pixel && !pixelNone
          ? (region.reduction === 'mean' ? (pixelDenominator > 0 ? dyValues[0] * pixel.lambda / pixelDenominator : 0) : dyValues[0] * pixel.lambda) : 0;
        const gradAttrs: RegionGradAttrs = {
          activation, groups, ignoreIndex: region.ignoreIndex, regionOn: !pixelOnly, pixelScale, ...pixelAttrs,
        };
        const grad = engine().runKernel(SeglossRegionGrad, { labels: savedLabels, input: savedInput, probs: p, coefs: coefsT, pixelDy, saved: pixelSaved },
          gradAttrs as unknown as NamedAttrMap) as Tensor;
        coefsT.dispose();
        if (!pixelNone) pixelDy.dispose();
        if (pixelSaved.size === 0) pixelSaved.dispose();
        return grad;
      },
    };
  };
  if (!direct) return customGrad(forward as CustomGradientFunc)(input);
  let kept: Tensor[] = [];
  const { value, gradFunc } = forward(input, (tensors) => { kept = tensors; });
  const grad = tidy(() => gradFunc(tensor(1), kept));
  for (const t of kept) if (t !== input && t !== labels) t.dispose();
  giveDirectGradient(grad, value, input);
  return value;
}

/** The same loss from tfjs ops. */
function runComposite(labels: Tensor, input: Tensor, loss: EngineLoss): Tensor {
  const { region, pixel } = loss;
  const C = input.shape[input.rank - 1];
  checkIndexLabelsInRange(labels, C === 1 ? 2 : C, region.ignoreIndex);
  return tidy(() => {
    let regionValue: Tensor | null = null;
    if (loss.composite) {
      const values = loss.composite(regionSums(labels, input, region.activation, region.perImage, region.ignoreIndex));
      regionValue = reduceValues(reshape(values, [-1]), values.shape[0], values.shape[1], region);
      if (!pixel) return regionValue;
    }
    const { values, denominators } = pixel!.values(labels, input);
    const pixelValue = region.reduction === 'none' ? values
      : region.reduction === 'sum' ? sum(values) : div(sum(values), maximum(sum(denominators), 1e-30)); // 0 when nothing counts (the sum is 0 too)
    if (!regionValue) return pixelValue;
    return add(mul(loss.lambdaRegion, regionValue), mul(pixel!.lambda, pixelValue));
  });
}

/** Runs an engine loss fused where the kernels are registered, composed from tfjs ops elsewhere. */
export function runEngineLoss(labels: Tensor, input: Tensor, loss: EngineLoss): Tensor {
  return fusedKernelAvailable(SeglossRegionStats) ? runFused(labels, input, loss) : runComposite(labels, input, loss);
}

/** A region loss alone. */
function runRegionLoss(labels: Tensor, input: Tensor, loss: { region: ResolvedRegion; formula: RegionFormula; composite: (s: SumTensors) => Tensor2D }): Tensor {
  return runEngineLoss(labels, input, { ...loss, lambdaRegion: 1, pixel: null });
}

/** Dice with any of its options on the region engine (losses.dice routes here beyond the seed's forms). */
export function diceRegion(labels: Tensor, input: Tensor, opts: DiceOptions): Tensor {
  const region = resolveRegion(opts);
  const C = input.shape[input.rank - 1];
  const o: DiceFormulaOptions = {
    firstClass: region.firstClass, square: opts.square ?? false, jaccard: opts.jaccard ?? false, log: opts.log ?? false,
    numerator: region.numerator, denominator: region.denominator,
    classWeights: opts.classWeights ? Array.from(opts.classWeights) : null,
  };
  return runRegionLoss(labels, input, { region, formula: diceFormula(o, C), composite: (s) => diceValues(s, o) });
}

/**
 * Generalized Dice (Sudre et al. 2017), as MONAI's GeneralizedDiceLoss: per group (the batch, or
 * each image with `perImage`)
 *   1 − (2 Σ_c w_c Σ y_c p_c + ε_n) / (Σ_c w_c (Σ y_c + Σ p_c) + ε_d),
 * w_c = 1/(Σ y_c)² by default; a class absent from the group's labels gets the largest finite weight.
 *
 * @param labels float32 [N, ...spatial, C] (one-hot, soft or multi-label), or int32 class indices [N, ...spatial]
 * @param logits float32 [N, ...spatial, C] (probabilities with `activation: 'none'`)
 */
export function generalizedDice(labels: Tensor, logits: Tensor, opts: GeneralizedDiceOptions = {}): Tensor {
  const op = 'generalizedDice';
  const C = checkRegionInputs(op, labels, logits, opts?.activation ?? 'softmax');
  checkGeneralizedDiceOptions(op, opts, C, labels);
  const region = resolveRegion(opts);
  const o: GeneralizedDiceFormulaOptions = {
    firstClass: region.firstClass, weightType: opts.weightType ?? 'square', numerator: region.numerator, denominator: region.denominator,
  };
  return runRegionLoss(labels, logits, { region, formula: generalizedDiceFormula(o, C), composite: (s) => generalizedDiceValues(s, o) });
}

/**
 * Tversky loss (MONAI's TverskyLoss), and focal Tversky with `gamma`: per class
 *   TI_c = (Σ y p + ε_n) / (Σ y p + α Σ p (1 − y) + β Σ (1 − p) y + ε_d),   loss_c = (1 − TI_c)^γ
 * then the mean over classes (and images with `perImage`). α weighs false positives, β false
 * negatives; α = β = 0.5 is Dice.
 *
 * @param labels float32 [N, ...spatial, C] (one-hot, soft or multi-label), or int32 class indices [N, ...spatial]
 * @param logits float32 [N, ...spatial, C] (probabilities with `activation: 'none'`)
 */
export function tversky(labels: Tensor, logits: Tensor, opts: TverskyOptions = {}): Tensor {
  const op = 'tversky';
  const C = checkRegionInputs(op, labels, logits, opts?.activation ?? 'softmax');
  checkTverskyOptions(op, opts, C, labels);
  const region = resolveRegion(opts);
  const o: TverskyFormulaOptions = {
    firstClass: region.firstClass, alpha: opts.alpha ?? 0.5, beta: opts.beta ?? 0.5, gamma: opts.gamma ?? 1,
    numerator: region.numerator, denominator: region.denominator,
  };
  return runRegionLoss(labels, logits, { region, formula: tverskyFormula(o, C), composite: (s) => tverskyValues(s, o) });
}
