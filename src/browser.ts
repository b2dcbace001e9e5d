/**
 * segloss for browsers (built to dist/browser/index.js; `import … from 'segloss/browser'`): what
 * every entry has (common.ts: losses, kernels, experiment, plans, the report's figures as SVG
 * strings), runSweep on module Web Workers with an in-memory store, and the benchmark's row type.
 * Nothing here touches node:*.
 *
 * The sweep workers run dist/browser/worker.js, a self-contained module (tfjs bundled in); serve it
 * with tfjs-backend-wasm's .wasm files beside it (dist/browser/ holds copies). On the page itself,
 * tell tfjs where those files are with `setWasmPaths` before `tf.setBackend('wasm')`.
 */
export * from './common.js';
export {
  runSweep, type BrowserSweepOptions, type BrowserSweepResult,
} from './sdk/sweep.browser.js';
export { MemorySweepStore, type MemorySweepStoreData } from './sdk/memory_store.js';
export type { LossBenchRow, Shape4 } from './bench/losses.js';
