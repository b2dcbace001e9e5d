// Entry of the lockstep training engine (a module of its own, SIMD only; see engine/lanes.ts).
export { lanes_init, lanes_step, lanes_eval } from './engine/lanes';
// For `segloss bench step` only: the lane engine's convolutions alone, and the one-run-per-call
// design's (engine/design1.ts), to compare the two designs on the bulk of a step.
export {
  conv3x3 as bench_lanes_conv3x3, conv3x3BackInput as bench_lanes_back_input,
  conv3x3BackFilter as bench_lanes_back_filter,
} from './engine/lanes';
export { design1_conv3x3, design1_conv3x3_back_input, design1_conv3x3_back_filter } from './engine/design1';
