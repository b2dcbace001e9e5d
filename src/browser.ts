/**
 * segloss for browsers (built to dist/browser/index.js; `import … from 'segloss/browser'`): the
 * losses, kernels and experiment of the Node entry, `runSweep` on module Web Workers with an
 * in-memory store, and the report's figures as SVG strings. Nothing here touches node:*.
 *
 * The sweep workers run dist/browser/worker.js, a self-contained module (tfjs bundled in); serve it
 * with tfjs-backend-wasm's .wasm files beside it (dist/browser/ holds copies). On the page itself,
 * tell tfjs where those files are with `setWasmPaths` before `tf.setBackend('wasm')`.
 */
import './tfjs/core_gradients.js';
import * as losses from './losses/index.js';

export { losses };
export { setupWasmKernels, kernelVariant, type SetupOptions, type SetupResult } from './setup.js';
export type {
  CategoricalCrossEntropyOptions, DiceOptions, LossName, Reduction, SegmentationLossesOptions,
} from './losses/types.js';
export { LOSS_NAMES } from './losses/types.js';
export type { KernelVariant } from './wasm/module.js';
export { presets, expandPreset, type Preset, type PlannedRun } from './experiment/presets.js';
export {
  parseRunConfig, runId, ConfigError, type RunConfig, type RunConfigInput,
} from './experiment/config.js';
export { trainRun, type StepLog, type RunOutcome, type Evaluation } from './experiment/train.js';
export {
  runSweep, type BrowserSweepOptions, type BrowserSweepResult,
} from './sdk/sweep.browser.js';
export { MemorySweepStore } from './sdk/memory_store.js';
export type { SweepProgress } from './sdk/pool.js';
export { parseSweepSpec, planSweep, shardOf, type SweepSpec } from './sdk/plan.js';
export type { RunSummary, FailedRun } from './sdk/summary.js';
export { renderReport, specToSvg, type Report, type ReportRun, type ReportCell } from './report/render.js';
export { figureSpec, groupFigures, type RunLog, type FigureGroup } from './report/figures.js';
export { judgeRun, type Verdict, type RunVerdict } from './report/verdict.js';
export type { LossBenchRow, Shape4 } from './bench/losses.js';
