/**
 * segloss: fast, correct segmentation losses for TensorFlow.js on the CPU.
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
export { runSweep, type SweepOptions, type SweepProgress, type SweepResult } from './sdk/sweep.js';
export { mergeSweeps, type MergeResult } from './sdk/merge.js';
export { parseSweepSpec, planSweep, shardOf, type SweepSpec } from './sdk/plan.js';
export type { RunSummary, FailedRun } from './sdk/store.js';
export { renderReport, specToSvg, type Report, type ReportRun, type ReportCell } from './report/render.js';
export { writeReport, readSweepRuns } from './report/write.js';
export { judgeRun, type Verdict, type RunVerdict } from './report/verdict.js';
export type { RunLog } from './report/figures.js';
