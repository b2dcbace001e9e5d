/**
 * tfjs-layers' BatchNormalization in training, on segloss's fused batch-norm kernels (forward one
 * kernel, backward one: src/ops/batch_norm_training.ts) where tfjs-layers composes tf.moments and
 * tf.batchNorm, about 20 small ops each way through the tape. Installed by setupWasmKernels()
 * (and undone by `replaceTfjsKernels: false`) for any model built from the stock layer.
 *
 * No import of tfjs-layers: its classes register themselves with tfjs-core's serialization map,
 * where this finds BatchNormalization when tfjs-layers is loaded (segloss/models installs it
 * again on import, in case tfjs-layers was loaded after setupWasmKernels()).
 *
 * The fused path takes the layer's training calls on float32 input normalised over its last axis
 * with γ and β (tfjs-layers' defaults); it updates the moving averages as the layer does,
 * moving − (moving − value)·(1 − momentum), with the batch's biased variance. Anything else —
 * inference, another axis, no γ or β, another backend — runs the layer's own call.
 */
import { mul, serialization, sub, tidy, type Tensor, type Variable } from '@tensorflow/tfjs-core';
import { SeglossBatchNormTraining } from '../kernels/kernel_names.js';
import { fusedKernelAvailable } from '../losses/fused.js';
import { batchNormTraining } from '../ops/batch_norm_training.js';

/** What the fused path reads of a tfjs-layers BatchNormalization (its public fields). */
interface LayerVariableLike { read(): Tensor; write(value: Tensor): unknown }
interface BatchNormLayer {
  axis: number;
  epsilon: number;
  momentum: number;
  gamma: LayerVariableLike | null;
  beta: LayerVariableLike | null;
  movingMean: LayerVariableLike;
  movingVariance: LayerVariableLike;
}
type Call = (this: BatchNormLayer, inputs: Tensor | Tensor[], kwargs: Record<string, unknown>) => Tensor | Tensor[];
interface Patchable { call: Call; [ORIGINAL]?: Call }

const ORIGINAL = Symbol.for('segloss.layersBatchNorm.originalCall');

/** The stock layer's prototype, if tfjs-layers is loaded. */
function batchNormPrototype(): Patchable | null {
  const entry = serialization.SerializationMap.getMap().classNameMap.BatchNormalization as unknown as [{ prototype: Patchable }] | undefined;
  return entry?.[0]?.prototype ?? null;
}

/** The layer's training call on the fused kernels, or null where they do not apply. */
function fusedTrainingCall(layer: BatchNormLayer, inputs: Tensor | Tensor[], kwargs: Record<string, unknown> | undefined): Tensor | null {
  if (!kwargs?.training) return null;
  const input = Array.isArray(inputs) ? (inputs.length === 1 ? inputs[0] : null) : inputs;
  if (input == null || input.dtype !== 'float32' || input.rank < 2) return null;
  const axis = layer.axis >= 0 ? layer.axis : layer.axis + input.rank;
  if (axis !== input.rank - 1 || layer.gamma == null || layer.beta == null) return null;
  if (!fusedKernelAvailable(SeglossBatchNormTraining)) return null;
  return tidy(() => {
    const { y, mean, variance } = batchNormTraining(input, layer.gamma!.read(), layer.beta!.read(), layer.epsilon);
    for (const [variable, value] of [[layer.movingMean, mean], [layer.movingVariance, variance]] as const) {
      tidy(() => {
        const orig = variable.read() as Variable;
        variable.write(sub(orig, mul(sub(orig, value), 1 - layer.momentum)));
      });
    }
    mean.dispose();
    variance.dispose();
    return y;
  });
}

/**
 * Routes tfjs-layers' BatchNormalization training calls to the fused kernels (`enable`), or
 * restores the layer's own call. Returns whether tfjs-layers is loaded (false: nothing to do).
 */
export function useFusedLayersBatchNorm(enable: boolean): boolean {
  const proto = batchNormPrototype();
  if (!proto) return false;
  if (enable && !proto[ORIGINAL]) {
    const original = proto.call;
    proto[ORIGINAL] = original;
    proto.call = function (this: BatchNormLayer, inputs, kwargs) {
      return fusedTrainingCall(this, inputs, kwargs) ?? original.call(this, inputs, kwargs);
    };
  } else if (!enable && proto[ORIGINAL]) {
    proto.call = proto[ORIGINAL]!;
    delete proto[ORIGINAL];
  }
  return true;
}

/** Whether the fused path is installed on tfjs-layers' BatchNormalization. */
export function fusedLayersBatchNormInstalled(): boolean {
  return batchNormPrototype()?.[ORIGINAL] != null;
}
