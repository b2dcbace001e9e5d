/**
 * Decode workers in Node: `decodeWorkers(n)` starts n worker_threads running dist/data-worker.js
 * (decode_worker.ts) and hands cases to them in turn. A case whose files are not on disk (given
 * as Blobs, say), or a worker that fails to start, is prepared on the calling thread instead: the
 * same bits either way, only slower.
 */
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { DecodeWorkerApi, FileOnDisk } from './decode_worker.js';
import type { DataFile } from './layout.js';
import { prepareCase, type DecodeWorkers } from './prepare.js';

const onDisk = (f: DataFile): FileOnDisk | null => (f.fsPath ? { path: f.path, fsPath: f.fsPath } : null);

/** The worker script beside this module (dist/), or null where there is none (running from src/). */
export function defaultDecodeWorkerUrl(): URL | null {
  const url = new URL('./data-worker.js', import.meta.url);
  return url.protocol === 'file:' && existsSync(fileURLToPath(url)) ? url : null;
}

/** n decode workers (n ≥ 1) running `url` (default: dist/data-worker.js); null when there is no worker script. */
export function decodeWorkers(n: number, url: URL | null = defaultDecodeWorkerUrl()): DecodeWorkers | null {
  if (!url || !(n >= 1)) return null;
  const threads = Array.from({ length: n }, () => new Worker(url));
  const remotes = threads.map((w) => {
    w.unref(); // an idle decoder never keeps the process alive
    return Comlink.wrap<DecodeWorkerApi>(nodeEndpoint(w as never));
  });
  let next = 0;
  return {
    async prepare(pair, settings) {
      const images = pair.images.map(onDisk);
      const mask = pair.mask && onDisk(pair.mask);
      if (!mask || images.some((f) => !f)) return prepareCase(pair, settings);
      const remote = remotes[next++ % remotes.length];
      return remote.prepare(images as FileOnDisk[], mask, settings);
    },
    async close() {
      await Promise.all(threads.map((w) => w.terminate()));
    },
  };
}
