// Entry of the lockstep training engine (a module of its own, SIMD only; see engine/lanes.ts).
export { lanes_init, lanes_step, lanes_eval } from './engine/lanes';
