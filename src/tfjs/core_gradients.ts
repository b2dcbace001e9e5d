/**
 * tfjs-core's own gradients (Conv2D, Relu, Softmax, …), registered once.
 *
 * `@tensorflow/tfjs` registers them on import, but `@tensorflow/tfjs-core` alone does not, and in
 * Node its `dist/register_all_gradients` cannot be loaded by the ESM loader (its imports have no
 * file extensions). segloss's build bundles that module (rollup resolves the extensionless
 * imports; the gradients then call the ops of the shared global engine), so that
 * `import 'segloss'` next to tfjs-core alone gives a stack that trains. When gradients are already
 * registered (tfjs is loaded), nothing is registered twice. Plus one gradient tfjs lacks (below).
 */
import { conv3d, engine, getGradient, registerGradient, type GradConfig, type Tensor, type Tensor5D } from '@tensorflow/tfjs-core';

if (getGradient('Add') == null) {
  await import('@tensorflow/tfjs-core/dist/register_all_gradients');
}

// The gradient tfjs-core lacks for 3D transposed convolutions (tensorflow/tfjs#6323): the kernel
// Conv3DBackpropInputV2 computes conv3dTranspose(dy; filter), so its gradient w.r.t. dy is the
// forward conv3d of the incoming gradient, and w.r.t. the filter Conv3DBackpropFilterV2 with the
// roles of input and output gradient swapped — the 3D twin of tfjs's Conv2DBackpropInput gradient.
export const conv3DBackpropInputGradConfig: GradConfig = {
  kernelName: 'Conv3DBackpropInputV2',
  inputsToSave: ['dy', 'filter'],
  gradFunc: (ddx: Tensor | Tensor[], saved: Tensor[], attrs) => {
    const [dy, filter] = saved as [Tensor5D, Tensor5D];
    const { strides, pad } = attrs as unknown as { strides: [number, number, number]; pad: 'valid' | 'same' };
    const g = ddx as Tensor5D;
    return {
      dy: () => conv3d(g, filter, strides, pad),
      filter: () => engine().runKernel('Conv3DBackpropFilterV2', { x: g, dy }, { strides, pad, filterShape: filter.shape } as never) as Tensor,
    };
  },
};

if (getGradient('Conv3DBackpropInputV2') == null) registerGradient(conv3DBackpropInputGradConfig);
