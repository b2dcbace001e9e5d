import { Identity, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '../wasm/backend.js';
import { originalKernel, replaceKernel, restoreKernel } from './replace.js';

/**
 * A zero-copy Identity for the wasm backend: the result shares the input's bytes (a reference
 * count, like tfjs-backend-cpu's Identity and tfjs-backend-wasm's own Reshape), where
 * tfjs-backend-wasm 4.22 copies them. tfjs runs Identity for tf.clone and to save every tensor a
 * gradient needs, so with the copy every differentiable op paid a full pass over what it saved.
 * Sharing is safe because tfjs tensors are immutable: no kernel writes into its inputs. Strings
 * keep the original copying kernel.
 */
function identityShared(args: { inputs: { x: TensorInfo }; backend: unknown }): TensorInfo {
  const { inputs: { x }, backend } = args;
  if (x.dtype === 'string') return originalKernel(sharedIdentityConfig)!.kernelFunc(args as never) as TensorInfo;
  (backend as BackendWasm).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

const sharedIdentityConfig: KernelConfig = {
  kernelName: Identity,
  backendName: 'wasm',
  kernelFunc: identityShared as unknown as KernelFunc,
};

/** Installs (true) or removes (false) the zero-copy Identity for 'wasm'; idempotent. */
export function useZeroCopyIdentity(enabled: boolean): void {
  if (enabled) replaceKernel(sharedIdentityConfig);
  else restoreKernel(sharedIdentityConfig);
}
