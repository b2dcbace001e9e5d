/**
 * tfjs-core's own gradients (Conv2D, Relu, Softmax, …), registered once.
 *
 * `@tensorflow/tfjs` registers them on import, but `@tensorflow/tfjs-core` alone does not, and in
 * Node its `dist/register_all_gradients` cannot be loaded by the ESM loader (its imports have no
 * file extensions). segloss's build bundles that module (rollup resolves the extensionless
 * imports; the gradients then call the ops of the shared global engine), so that
 * `import 'segloss'` next to tfjs-core alone gives a stack that trains. When gradients are already
 * registered (tfjs is loaded), nothing is registered twice.
 */
import { getGradient } from '@tensorflow/tfjs-core';

if (getGradient('Add') == null) {
  await import('@tensorflow/tfjs-core/dist/register_all_gradients');
}
