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
  /** Cores there are (Node: os.availableParallelism()). */
  cores: number;
  /** Images in a step's batch: a thread needs at least one. */
  batch: number;
  /** Whether threads can run here (Node with SharedArrayBuffer and worker_threads). */
  available: boolean;
}

export function planThreads(requested: number | undefined, env: ThreadEnvironment): ThreadPlan {
  if (requested != null && (!Number.isInteger(requested) || requested < 1)) {
    throw new Error(`segloss threads: threads must be a positive integer, got ${String(requested)}`);
  }
  const notices: string[] = [];
  let threads = requested ?? env.cores;
  if (threads > 1 && !env.available) {
    if (requested != null) {
      notices.push(`segloss threads: ${requested} threads asked for, but threads need Node's worker_threads and SharedArrayBuffer `
        + '(browsers: not yet; see docs/threads.md): training on one thread');
    }
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
