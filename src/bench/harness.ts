/**
 * A tiny benchmark harness: warm up, time repeated runs, report the median and spread.
 * Numbers are only compared with baselines measured in the same process.
 */
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
 * Times `run` until both `minRuns` runs and `minMs` of measurement are done (after `warmup` runs).
 */
export function time(name: string, elements: number, run: () => void,
  { warmup = 3, minRuns = 10, minMs = 400, maxRuns = 200 } = {}): Timing {
  for (let i = 0; i < warmup; i++) run();
  const samples: number[] = [];
  const start = performance.now();
  while (samples.length < maxRuns && (samples.length < minRuns || performance.now() - start < minMs)) {
    const t0 = performance.now();
    run();
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
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
