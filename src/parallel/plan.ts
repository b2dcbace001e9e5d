/**
 * How many threads a training step gets (ExecutionOptions.threads), and what the user is told
 * when that is not what they asked for. Never a hang, never an error: a thread count that cannot
 * be had falls back to one that can, with a notice.
 */
export interface ThreadPlan {
  threads: number;
  notices: string[];
}

export interface ThreadEnvironment {
  /** Cores there are (Node: os.availableParallelism(); a browser: navigator.hardwareConcurrency). */
  cores: number;
  /** Images in a step's batch: a thread needs at least one. */
  batch: number;
  /** Why threads cannot run here (a sentence), or null when they can. */
  unavailable: string | null;
}

export function planThreads(requested: number | undefined, env: ThreadEnvironment): ThreadPlan {
  if (requested != null && (!Number.isInteger(requested) || requested < 1)) {
    throw new Error(`segloss threads: threads must be a positive integer, got ${String(requested)}`);
  }
  const notices: string[] = [];
  let threads = requested ?? env.cores;
  if (threads > 1 && env.unavailable != null) {
    if (requested != null) notices.push(`segloss threads: ${requested} threads asked for, but ${env.unavailable}: training on one thread (docs/threads.md)`);
    return { threads: 1, notices };
  }
  if (threads > env.batch) {
    if (requested != null) {
      notices.push(`segloss threads: ${requested} threads for a batch of ${env.batch}: each thread takes at least one image, so ${env.batch} thread${env.batch > 1 ? 's' : ''}`);
    }
    threads = env.batch;
  }
  if (threads > env.cores) {
    notices.push(`segloss threads: ${threads} threads on ${env.cores} core${env.cores > 1 ? 's' : ''}: they share the cores, so a step is slower than on ${env.cores} `
      + '(the log is the same bits either way)');
  }
  return { threads, notices };
}
