/**
 * A training thread in Node (built to dist/train-replica-worker.js; src/parallel/node.ts starts
 * it): src/parallel/replica.ts on worker_threads, its init in workerData.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { startReplica } from './replica.js';
import type { ReplicaInit, ReplicaStep } from './replicas.js';

const init = workerData as ReplicaInit;
const replica = await startReplica(init);
// A thread that ends for any reason lets no other wait for it, and says why.
let closing = false;
process.on('exit', (code) => {
  replica.collective.stop(closing ? undefined : `thread ${init.rank} exited (code ${code})`);
});
parentPort!.on('message', (m: ReplicaStep | { kind: 'close' }) => {
  if (m.kind === 'close') closing = true;
  else replica.step(m);
});
parentPort!.postMessage({ kind: 'ready' });
