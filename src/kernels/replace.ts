/**
 * Installing a segloss kernel in place of one tfjs-backend-wasm registers itself (tfjs warns and
 * overwrites on a plain second registration), remembering the original so it can be put back.
 */
import { getKernel, registerKernel, unregisterKernel, type KernelConfig } from '@tensorflow/tfjs-core';

const originals = new Map<string, KernelConfig>();
const key = (config: Pick<KernelConfig, 'kernelName' | 'backendName'>) => `${config.backendName}/${config.kernelName}`;

/** Registers `config` in place of whatever is registered under its name; idempotent. */
export function replaceKernel(config: KernelConfig): void {
  const current = getKernel(config.kernelName, config.backendName);
  if (current?.kernelFunc === config.kernelFunc) return;
  if (current) {
    if (!originals.has(key(config))) originals.set(key(config), current);
    unregisterKernel(config.kernelName, config.backendName);
  }
  registerKernel(config);
}

/** Puts back the kernel `config` replaced (if it is the one registered now); idempotent. */
export function restoreKernel(config: KernelConfig): void {
  const current = getKernel(config.kernelName, config.backendName);
  if (current?.kernelFunc !== config.kernelFunc) return;
  unregisterKernel(config.kernelName, config.backendName);
  const original = originals.get(key(config));
  if (original) registerKernel(original);
}

/** The kernel `config` replaced, if any. */
export function originalKernel(config: Pick<KernelConfig, 'kernelName' | 'backendName'>): KernelConfig | undefined {
  return originals.get(key(config));
}
