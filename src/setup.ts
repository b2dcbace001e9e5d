import { useZeroCopyIdentity } from './kernels/Identity.js';
import { registerAll } from './kernels/register_all.js';
import { activeKernelVariant, setActiveVariant } from './wasm/backend.js';
import { compileKernels, simdSupported, type KernelVariant } from './wasm/module.js';

/** Options of setupWasmKernels: which kernel build, and which of tfjs-backend-wasm's kernels to replace. */
export interface SetupOptions {
  /**
   * Which build of the kernels to use: 'auto' (default) picks SIMD when
   * `WebAssembly.validate` accepts the SIMD module, else the scalar twin.
   */
  variant?: KernelVariant | 'auto';
  /**
   * Replace tfjs-backend-wasm's Identity kernel (which copies) by one that shares the bytes, as
   * tfjs-backend-cpu's does (default true). tfjs runs Identity to save every tensor a gradient
   * needs, so this makes every differentiable op on 'wasm' cheaper, the fused losses included.
   */
  zeroCopyClone?: boolean;
  /**
   * Replace tfjs-backend-wasm kernels that segloss has faster versions of (default true): today
   * Conv2DBackpropInput, 1.5–5× faster than tfjs-wasm's at 1–16 channels (bench/RESULTS.md; from
   * 8 channels on, a stride-1 'same' input gradient runs as tfjs-wasm's own forward conv on the
   * flipped filter, as fast as the forward pass it mirrors), and
   * Sum over every axis but the last in float32 (bias gradients; other reductions stay tfjs's), and
   * Tile and SplitV by memory copies (every dtype but string and complex64), MaxPoolGrad for
   * windows that do not overlap, Conv3DBackpropInputV2 and Conv3DBackpropFilterV2 (tfjs-wasm 4.22's
   * give wrong values) and Conv3D for stride-1 'same' odd kernels. `false` keeps tfjs's.
   */
  replaceTfjsKernels?: boolean;
}

/** What setupWasmKernels did: the kernel build it chose. */
export interface SetupResult {
  /** The build now in use. */
  variant: KernelVariant;
}

/**
 * Compiles segloss's kernels and registers them for tfjs's 'wasm' backend: the fused losses, the
 * conv gradients tfjs-backend-wasm lacks, and faster replacements (see the options).
 * Idempotent; calling it again with another `variant` switches the build. Call it before or after
 * `tf.setBackend('wasm')`: kernels bind to the backend's memory lazily, on first use.
 *
 * ```js
 * await tf.setBackend('wasm');
 * const { variant } = await setupWasmKernels(); // 'simd' on Node 20 and current browsers
 * ```
 */
export async function setupWasmKernels(options: SetupOptions = {}): Promise<SetupResult> {
  const requested = options.variant ?? 'auto';
  if (!['auto', 'simd', 'scalar'].includes(requested)) {
    throw new Error(`segloss.setupWasmKernels: variant must be 'auto', 'simd' or 'scalar', got ${String(requested)}`);
  }
  const variant: KernelVariant = requested === 'auto' ? (simdSupported() ? 'simd' : 'scalar') : requested;
  if (variant === 'simd' && !simdSupported()) {
    throw new Error('segloss.setupWasmKernels: this engine does not support WebAssembly SIMD; use variant \'scalar\' or \'auto\'');
  }
  await compileKernels(variant);
  setActiveVariant(variant);
  registerAll(options.replaceTfjsKernels ?? true);
  useZeroCopyIdentity(options.zeroCopyClone ?? true);
  return { variant };
}

/** The kernel build in use ('simd' | 'scalar'), or null before setupWasmKernels(). */
export function kernelVariant(): KernelVariant | null {
  return activeKernelVariant();
}
