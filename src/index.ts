/**
 * segloss: fast, correct segmentation losses for TensorFlow.js on the CPU. The Node entry: what
 * every entry has (common.ts), runSweep on worker_threads with its sweep directory, the report's
 * files, merging shards, and exporting a sweep's rows. Browsers get browser.ts.
 */
export * from './common.js';
export { runSweep, type SweepOptions, type SweepResult } from './sdk/sweep.js';
export { mergeSweeps, type MergeResult } from './sdk/merge.js';
export { writeReport, readSweepRuns, sweepRunHandles, type ReadOptions } from './report/write.js';
export { exportSweep, type ExportFormat, type ExportOptions, type ExportResult } from './sdk/export.js';
export { SweepIOError, SweepDataError } from './sdk/fsio.js';
export { registerFileIO } from './models/file_io.js';

// file:// for model.save / tf.loadLayersModel in Node without tfjs-node (where nothing else takes it).
import { registerFileIO } from './models/file_io.js';
registerFileIO();
