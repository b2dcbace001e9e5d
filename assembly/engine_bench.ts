// For `segloss bench step` only (src/bench/designs.ts): the lane engine's convolutions alone, and
// the one-run-per-call design's (engine/design1.ts), to compare the two designs on the bulk of a
// step. Built to its own module (build/segloss-engine-bench.wasm), so that the engine that trains
// (assembly/engine.ts) carries none of it.
export {
  conv3x3 as bench_lanes_conv3x3, conv3x3BackInput as bench_lanes_back_input,
  conv3x3BackFilter as bench_lanes_back_filter,
} from './engine/lanes';
export { design1_conv3x3, design1_conv3x3_back_input, design1_conv3x3_back_filter } from './engine/design1';
