/**
 * The benchmarks' timing: tinybench warms up and times repeated runs; this reports the median and
 * the quartiles, and Melem/s. Numbers are only compared with baselines measured in the same process.
 * The whole-step benchmarks (unet, threads, sweep) time their own few steps: a U-Net step of
 * 0.3–3 s is measured a handful of times, each with its own set-up, where a time-budgeted harness
 * would run it for many seconds.
 */
import { Bench } from 'tinybench';
export interface Timing {
  name: string;
  /** Median wall time of one run, in ms. */
  medianMs: number;
  /** 25th and 75th percentiles, in ms. */
  p25Ms: number;
  p75Ms: number;
  runs: number;
  /** Elements processed per run (for Melem/s). */
  elements: number;
}

export function melemPerSecond(t: Timing): number {
  return t.elements / (t.medianMs * 1e3);
}

function quantile(sorted: number[], q: number): number {
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (at - lo);
}

/**
 * Times `run` until both `minRuns` runs and `minMs` of measurement are done (after `warmup` runs),
 * with tinybench (synchronous: every run is a synchronous tfjs call). The median and quartiles come
 * from its samples; a run that throws stops the benchmark with that error.
 */
export function time(name: string, elements: number, run: () => void,
  { warmup = 3, minRuns = 10, minMs = 400 } = {}): Timing {
  const bench = new Bench({
    time: minMs, iterations: minRuns, warmupIterations: warmup, warmupTime: 0, retainSamples: true, throws: true,
  });
  bench.add(name, run);
  bench.runSync();
  const result = bench.tasks[0].result;
  if (result.state !== 'completed') throw new Error(`segloss bench: ${name} did not complete (${result.state})`);
  const samples = [...result.latency.samples!].sort((a, b) => a - b);
  return {
    name, elements, runs: samples.length,
    medianMs: quantile(samples, 0.5), p25Ms: quantile(samples, 0.25), p75Ms: quantile(samples, 0.75),
  };
}

export function formatRow(t: Timing, baseline?: Timing): string {
  const ratio = baseline ? `${(baseline.medianMs / t.medianMs).toFixed(1)}×` : '';
  return [
    t.name.padEnd(44),
    `${t.medianMs.toFixed(3).padStart(9)} ms`,
    `[${t.p25Ms.toFixed(3)}–${t.p75Ms.toFixed(3)}]`.padStart(20),
    `${melemPerSecond(t).toFixed(1).padStart(8)} Melem/s`,
    ratio.padStart(8),
  ].join('  ');
}
