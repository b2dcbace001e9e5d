/**
 * A trainer's other threads in Node: worker_threads running dist/train-replica-worker.js
 * (replica_worker.ts). See replicas.ts for what they do.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { startReplicas as start, type ReplicaSource, type Replicas, type SpawnReplica } from './replicas.js';

export const cores = (): number => availableParallelism();

/** dist/train-replica-worker.js: beside this module once built, else (running from src/) in dist/. */
function workerUrl(): URL {
  const beside = new URL('./train-replica-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(beside))) return beside;
  const built = new URL('../../dist/train-replica-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(built))) return built;
  throw new Error('segloss threads: dist/train-replica-worker.js is missing: npm run build');
}

const spawn: SpawnReplica = (init, onProblem) => {
  const worker = new Worker(workerUrl(), { workerData: init });
  worker.unref();
  let closed = false;
  return new Promise((resolve, reject) => {
    const refuse = (error: Error) => { closed = true; void worker.terminate(); reject(error); };
    worker.once('message', (m: { kind: string }) => {
      if (m.kind !== 'ready') return refuse(new Error(`thread ${init.rank} said ${m.kind}`));
      worker.on('error', (error) => onProblem(`thread ${init.rank}: ${error.message}`));
      worker.on('exit', (code) => { if (!closed) onProblem(`thread ${init.rank} exited (code ${code})`); });
      resolve({
        rank: init.rank,
        post: (message, transfer) => worker.postMessage(message, transfer as never),
        terminate: () => { closed = true; void worker.terminate(); },
      });
    });
    worker.once('error', refuse);
    worker.once('exit', (code) => { if (!closed) refuse(new Error(`thread ${init.rank} exited (code ${code}) while starting`)); });
  });
};

export function startReplicas(o: Omit<ReplicaSource, 'failAt'>): Promise<Replicas> {
  return start({ ...o, failAt: process.env.SEGLOSS_TEST_THREAD_FAIL }, spawn);
}
