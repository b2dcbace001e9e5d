/**
 * segloss's benchmarks, by name: what `segloss bench [NAME…]` and `npm run bench` run. Each prints
 * medians (and ratios against a baseline measured in the same process) and returns its rows.
 * Modules load on demand, so a benchmark only pulls in what it measures.
 */
export interface BenchContext {
  print: (line: string) => void;
  /** Smaller shapes and fewer steps: a smoke run of the benchmark, not numbers to quote. */
  quick: boolean;
  /** Steps per run (sweep) or timed steps (step), instead of the benchmark's default. */
  steps?: number;
  /** Thread counts to compare with one thread (threads; unet adds that table), `--threads`. */
  threads?: number[];
}

export interface Benchmark {
  name: string;
  description: string;
  run: (context: BenchContext) => Promise<unknown>;
}

export const BENCHMARKS: Benchmark[] = [
  {
    name: 'exp', description: 'the kernels\' exp/log approximations alone, SIMD and scalar',
    run: async (c) => (await import('./exp.js')).benchExp(c),
  },
  {
    name: 'kernels', description: 'each fused loss kernel alone (forward + backward, one call), SIMD and scalar',
    run: async (c) => (await import('./kernels.js')).benchKernels(c),
  },
  {
    name: 'losses', description: 'the fused losses vs the same losses from tfjs ops, through tf.grad',
    run: async (c) => {
      const { benchmarkLosses, LOSS_BENCH_SHAPES } = await import('./losses.js');
      return benchmarkLosses(c.quick ? LOSS_BENCH_SHAPES.slice(0, 1) : LOSS_BENCH_SHAPES, c.print);
    },
  },
  {
    name: 'zoo', description: 'the loss zoo (region engine) vs its tfjs-op twins, [8,128,128,4], [2,48,48,48,4], [8,128,128,2], [8,128,128,3]',
    run: async (c) => (await import('./zoo.js')).benchZoo(c),
  },
  {
    name: 'conv', description: 'the conv gradient kernels vs tfjs-cpu\'s and the wasm forward conv',
    run: async (c) => (await import('./conv.js')).benchConv(c),
  },
  {
    name: 'step', description: 'one training step of the seed model, fused vs tfjs-op losses, BN off/on',
    run: async (c) => (await import('./step.js')).benchStep(c),
  },
  {
    name: 'sweep', description: 'run-steps/s of the seed preset with 1 and 2 workers; the full preset\'s projected time',
    run: async (c) => (await import('./sweep.js')).benchSweep(c),
  },
  {
    name: 'threads', description: 'one model on several threads: UNetTrainer\'s 2D and 3D steps on 1 thread and on --threads N (default 2), the same bits, ratios of time',
    run: async (c) => (await import('./threads.js')).benchThreads(c),
  },
  {
    name: 'unet', description: 'a 2D U-Net\'s training step (batch 4, 128², 485 k parameters) on wasm with and without segloss\'s kernels, and on tfjs-cpu',
    run: async (c) => {
      const rows: unknown[] = await (await import('./unet.js')).benchUNet(c);
      if (!c.threads) return rows;
      c.print('');
      return [...rows, ...await (await import('./threads.js')).benchThreads(c)];
    },
  },
  {
    name: 'report', description: 'writeReport on a synthetic full seed sweep (108 runs × 10,001 steps)',
    run: async (c) => (await import('./report.js')).benchReport(c),
  },
  {
    name: 'data', description: 'your own data (segloss/data): 2D PNGs and 3D NIfTI patches per second, and the U-Net step on a folder vs synthetic data',
    run: async (c) => (await import('./data.js')).benchData(c),
  },
];
