/** The kernel lists of src/kernels/register_all.ts: one entry per kernel name, all for 'wasm'. */
import { describe, expect, it } from 'vitest';
import { kernelConfigs, replacementConfigs } from '../src/kernels/register_all.js';

describe('register_all', () => {
  it('lists every kernel once, for the wasm backend', () => {
    const names = [...kernelConfigs, ...replacementConfigs].map((c) => c.kernelName);
    expect(new Set(names).size).toBe(names.length);
    expect([...kernelConfigs, ...replacementConfigs].every((c) => c.backendName === 'wasm')).toBe(true);
  });

  it('adds only Segloss-prefixed names besides the conv gradients tfjs-backend-wasm lacks', () => {
    const own = kernelConfigs.map((c) => c.kernelName).filter((n) => !n.startsWith('Segloss'));
    expect(own.sort()).toEqual(['Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput']);
  });
});
