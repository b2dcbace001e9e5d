/**
 * A training thread in a browser (a module Web Worker started by src/parallel/web.ts; built to
 * build/web/train-replica-worker.js beside tfjs's .wasm files): src/parallel/replica.ts, its init
 * the first message. It answers { kind: 'ready' } or { kind: 'error', message }.
 *
 * The listener is attached before anything else runs: replica.ts's imports include a top-level
 * await (tfjs-core's gradients), and a module worker drops the messages that arrive while its
 * evaluation awaits with no listener. So replica.ts is imported lazily.
 */
import type { ReplicaInit, ReplicaStep } from './replicas.js';
import type { Replica } from './replica.js';

let replica: Replica | null = null;
const steps: ReplicaStep[] = [];

async function start(init: ReplicaInit): Promise<Replica> {
  const { setWasmPaths } = await import('@tensorflow/tfjs-backend-wasm');
  setWasmPaths(new URL('./', import.meta.url).href);
  const { startReplica } = await import('./replica.js');
  return startReplica(init);
}

self.addEventListener('message', (event: MessageEvent<ReplicaInit | ReplicaStep | { kind: 'close' }>) => {
  const m = event.data;
  if (m.kind === 'close') self.close();
  else if (m.kind === 'step') {
    if (replica) replica.step(m);
    else steps.push(m);
  } else {
    start(m).then((started) => {
      replica = started;
      postMessage({ kind: 'ready' });
      for (const s of steps.splice(0)) started.step(s);
    }, (error: Error) => postMessage({ kind: 'error', message: error.message }));
  }
});
