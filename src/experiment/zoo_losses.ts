/**
 * A zoo loss of the study by its key (src/experiment/losses.ts), on int32 labels and the model's
 * logits, through segloss's fused ops with their defaults beyond the key's options: softmax over
 * the two classes, background included, mean over the batch.
 */
import type { Scalar, Tensor, Tensor3D } from '@tensorflow/tfjs-core';
import { lovaszSoftmax } from '../losses/lovasz.js';
import { diceCrossEntropy, focal } from '../losses/pixel.js';
import { generalizedDice, tversky } from '../losses/region.js';
import { zooLossOf, type LossKey } from './losses.js';

export function zooLoss(key: LossKey, labels: Tensor3D, logits: Tensor): Scalar {
  const spec = zooLossOf(key);
  if (!spec) throw new Error(`segloss: unknown loss ${JSON.stringify(key)}`);
  switch (spec.name) {
    case 'generalized-dice': return generalizedDice(labels, logits) as Scalar;
    case 'tversky': return tversky(labels, logits, { alpha: spec.alpha, beta: spec.beta }) as Scalar;
    case 'focal': return focal(labels, logits, { gamma: spec.gamma }) as Scalar;
    case 'dice-ce': return diceCrossEntropy(labels, logits, { lambdaDice: spec.lambdaDice, lambdaCe: spec.lambdaCe }) as Scalar;
    case 'lovasz': return lovaszSoftmax(labels, logits) as Scalar;
  }
}
