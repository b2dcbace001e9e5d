// Entry of the lockstep training engine (a module of its own, SIMD only; see engine/lanes.ts).
// Its benchmark-only exports (the lane convolutions alone, and the other design's) are a module
// of their own too, assembly/engine_bench.ts, which the engine that trains never loads.
export { lanes_init, lanes_step, lanes_eval } from './engine/lanes';
