import {
  getKernel, Identity, registerKernel, unregisterKernel, type KernelConfig, type KernelFunc, type TensorInfo,
} from '@tensorflow/tfjs-core';
import type { BackendWasm } from '../wasm/backend.js';

/**
 * A zero-copy Identity for the wasm backend: the result shares the input's bytes (a reference
 * count, like tfjs-backend-cpu's Identity and tfjs-backend-wasm's own Reshape), where
 * tfjs-backend-wasm 4.22 copies them. tfjs runs Identity for tf.clone and to save every tensor a
 * gradient needs, so with the copy each fused loss paid a full pass over its gradient just to be
 * differentiable. Sharing is safe because tfjs tensors are immutable: no kernel writes into its
 * inputs. Strings keep the original copying kernel.
 */
let original: KernelConfig | undefined;

function identityShared(args: { inputs: { x: TensorInfo }; backend: unknown }): TensorInfo {
  const { inputs: { x }, backend } = args;
  if (x.dtype === 'string') return original!.kernelFunc(args as never) as TensorInfo;
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
  const current = getKernel(Identity, 'wasm');
  if (enabled && current?.kernelFunc !== sharedIdentityConfig.kernelFunc) {
    original ??= current;
    if (current) unregisterKernel(Identity, 'wasm');
    registerKernel(sharedIdentityConfig);
  } else if (!enabled && current?.kernelFunc === sharedIdentityConfig.kernelFunc) {
    unregisterKernel(Identity, 'wasm');
    if (original) registerKernel(original);
  }
}
