/**
 * What segloss's Node entry (index.ts) and browser entry (browser.ts) both export: the losses, the
 * kernels' setup, the experiment, sweep plans and the report's figures. Each entry adds its own
 * runSweep and what only it can do.
 */
import './tfjs/core_gradients.js';
import * as losses from './losses/index.js';

export { losses };
export { setupWasmKernels, kernelVariant, type SetupOptions, type SetupResult } from './setup.js';
export type {
  Activation, BinaryCrossEntropyOptions, CategoricalCrossEntropyOptions, CompoundDiceOptions, DiceCrossEntropyOptions,
  DiceFocalOptions, DiceOptions, FocalOptions, LovaszSoftmaxOptions, GeneralizedDiceOptions, LossName, Reduction, RegionEpsilon,
  RegionLossOptions, SeedDiceOptions, SegmentationLossesOptions, TverskyOptions,
} from './losses/types.js';
export { LOSS_NAMES } from './losses/types.js';
export type { KernelVariant } from './wasm/module.js';
export { presets, expandPreset, type Preset, type PlannedRun } from './experiment/presets.js';
export {
  parseRunConfig, runId, ConfigError, type RunConfig, type RunConfigInput,
} from './experiment/config.js';
export { trainRun, type StepLog, type RunOutcome, type Evaluation } from './experiment/train.js';
export {
  trainLanes, LaneGroup, laneGroupKey, laneEngineAvailable, laneEngineSupports, prepareLaneEngine, LANES, type LaneRows,
} from './engine/lanes.js';
export type { SweepProgress, SweepEngine } from './sdk/pool.js';
export { parseSweepSpec, planSweep, shardOf, type Shard, type SweepSpec } from './sdk/plan.js';
export type { RunSummary, FailedRun } from './sdk/summary.js';
export { renderReport, specToSvg, type Report, type ReportRun, type ReportCell } from './report/render.js';
export { figureSpec, groupFigures, type RunLog, type FigureGroup } from './report/figures.js';
export { reduceRun, RunReducer, type RunReduction, type ReportInput } from './report/reduce.js';
export { judgeRun, type Verdict, type RunVerdict } from './report/verdict.js';
export { analysePuzzle, describeComparison as describePuzzleComparison, type PuzzleAnalysis, type PuzzleComparison } from './report/puzzle.js';
export { checkObservations, type ObservationCheck } from './report/observations.js';
export { lossTitle, ZOO_LOSS_NAMES, type LossKey } from './experiment/losses.js';
export { FusedAdam, fusedAdam } from './ops/fused_adam.js';
