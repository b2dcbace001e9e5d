/**
 * A decode worker for Node worker_threads (built to dist/data-worker.js): prepareCase on files it
 * reads itself by path, its arrays transferred back. See prepare.ts and node_decode.ts.
 */
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { readFile } from 'node:fs/promises';
import { parentPort } from 'node:worker_threads';
import type { DataFile, SamplePair } from './layout.js';
import { prepareCase, type PrepareSettings } from './prepare.js';

/** A file as it crosses to the worker: its data set path and where it is on disk. */
export interface FileOnDisk {
  path: string;
  fsPath: string;
}

const onDisk = (f: FileOnDisk): DataFile => ({ path: f.path, read: async () => new Uint8Array(await readFile(f.fsPath)) });

const api = {
  async prepare(images: FileOnDisk[], mask: FileOnDisk, settings: PrepareSettings) {
    const pair: SamplePair = { id: '', images: images.map(onDisk), mask: onDisk(mask), split: 'train' };
    const prepared = await prepareCase(pair, settings);
    return Comlink.transfer(prepared, [prepared.image.data.buffer as ArrayBuffer, prepared.labels.labels.buffer as ArrayBuffer]);
  },
};

export type DecodeWorkerApi = typeof api;

Comlink.expose(api, nodeEndpoint(parentPort!));
