/**
 * A trainer's other threads in a browser: module Web Workers running train-replica-worker.js
 * (replica_worker.browser.ts; the demo's build puts it in build/web beside tfjs's .wasm files).
 * See replicas.ts for what they do.
 *
 * They need what Atomics.wait and a SharedArrayBuffer need: the trainer in a Worker (a page's
 * main thread may not wait) of a cross-origin isolated page.
 */
import { startReplicas as start, type ReplicaSource, type Replicas, type SpawnReplica } from './replicas.js';

export const cores = (): number => (typeof navigator !== 'undefined' && navigator.hardwareConcurrency) || 1;

/** Why threads cannot run here, or null when they can. */
export function unavailable(): string | null {
  const g = globalThis as { crossOriginIsolated?: boolean; WorkerGlobalScope?: unknown; Worker?: unknown };
  if (typeof SharedArrayBuffer !== 'function' || g.crossOriginIsolated !== true) {
    return 'threads need a cross-origin isolated page (served with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)';
  }
  if (g.WorkerGlobalScope === undefined) return 'threads need the trainer in a Web Worker (a page\'s main thread may not wait at a reduction)';
  if (g.Worker === undefined) return 'threads need Web Workers that start Web Workers';
  return null;
}

function spawnWith(url: URL | string): SpawnReplica {
  return (init, onProblem) => {
    const worker = new Worker(url, { type: 'module', name: `segloss-thread-${init.rank}` });
    let ready = false;
    return new Promise((resolve, reject) => {
      const refuse = (message: string) => { worker.terminate(); reject(new Error(`thread ${init.rank}: ${message}`)); };
      worker.addEventListener('error', (event) => {
        const message = event.message || `its script ${String(url)} failed to load`;
        if (ready) onProblem(`thread ${init.rank}: ${message}`);
        else refuse(message);
      });
      worker.addEventListener('message', (event: MessageEvent<{ kind: string; message?: string }>) => {
        if (ready) return;
        if (event.data.kind !== 'ready') return refuse(event.data.message ?? `said ${event.data.kind}`);
        ready = true;
        resolve({
          rank: init.rank,
          post: (message, transfer) => worker.postMessage(message, transfer ?? []),
          terminate: () => worker.terminate(),
        });
      });
      worker.postMessage(init);
    });
  };
}

/** The replica worker's script: `url`, or train-replica-worker.js beside this module. */
export function startReplicas(o: Omit<ReplicaSource, 'failAt'>, url?: URL | string): Promise<Replicas> {
  return start(o, spawnWith(url ?? new URL('./train-replica-worker.js', import.meta.url)));
}
