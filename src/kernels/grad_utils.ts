import { clone, mul, type Tensor } from '@tensorflow/tfjs-core';

/**
 * dy · g for the gradient a fused kernel already wrote for an upstream gradient of 1. When dy is
 * the scalar 1 (the loss is what is being differentiated, the usual case) this is a clone of g,
 * not another pass over it; reading one float back is free on the wasm backend.
 */
export function scaleFusedGradient(fusedGrad: Tensor, dy: Tensor): Tensor {
  if (dy.size === 1 && dy.dataSync()[0] === 1) return clone(fusedGrad);
  return mul(fusedGrad, dy);
}

/**
 * The fused kernels do not keep their labels for backprop (saving a tensor copies it on the wasm
 * backend); a gradient with respect to labels is asked for only by code that should say so. The
 * error aborts backprop before tfjs disposes the node's saved tensors, so this disposes them.
 */
export function labelsNotDifferentiable(op: string, saved: Tensor[]): () => Tensor {
  const composite = { categoricalCrossEntropy: 'cceComposite', dice: 'diceComposite' }[op] ?? `${op}Composite`;
  return () => {
    for (const tensor of saved) tensor.dispose();
    throw new Error(`segloss: ${op} is not differentiable with respect to labels on the fused wasm path; `
      + `use losses.${composite} for that`);
  };
}
