/**
 * `file://` for tfjs in Node without tfjs-node: `model.save('file:///path/dir')` writes the
 * standard tfjs layout (dir/model.json with a weights manifest, dir/weights.bin), each file
 * atomically (written to a temporary, fsynced, renamed), and `tf.loadLayersModel('file:///path/
 * dir/model.json')` (or the directory) reads it back. tfjs-node's own handler, when present, is
 * left in charge: this registers only where no handler takes `file://`.
 */
import { readFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { io, type io as tfio } from '@tensorflow/tfjs-core';
import { io as fsio, writeAtomic } from '../sdk/fsio.js';

const SCHEME = 'file://';

/** The directory (and model.json path) a file:// URL names: a directory, or its model.json. */
function paths(url: string): { dir: string; modelJson: string } {
  const path = url.slice(SCHEME.length);
  if (path.length === 0) throw new Error('segloss file:// IO: the URL names no path');
  return path.endsWith('.json') ? { dir: path.replace(/\/[^/]*$/, '') || '/', modelJson: path } : { dir: path, modelJson: join(path, 'model.json') };
}

function weightBytes(data: tfio.WeightData | undefined): Uint8Array {
  if (data == null) return new Uint8Array(0);
  const buffer = Array.isArray(data) ? io.concatenateArrayBuffers(data) : data;
  return new Uint8Array(buffer);
}

/** A save/load handler for the directory or model.json of a file:// URL. */
export function fileHandler(url: string): tfio.IOHandler {
  const { dir, modelJson } = paths(url);
  return {
    async save(artifacts: tfio.ModelArtifacts): Promise<tfio.SaveResult> {
      fsio('create', dir, () => mkdirSync(dir, { recursive: true }));
      const weights = weightBytes(artifacts.weightData);
      // The weights first, the model.json that points at them last: a reader never sees a model.json without its weights.
      writeAtomic(join(dir, 'weights.bin'), weights);
      const json: tfio.ModelJSON = {
        modelTopology: artifacts.modelTopology!,
        format: artifacts.format, generatedBy: artifacts.generatedBy, convertedBy: artifacts.convertedBy,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }],
        ...(artifacts.trainingConfig ? { trainingConfig: artifacts.trainingConfig } : {}),
        ...(artifacts.userDefinedMetadata ? { userDefinedMetadata: artifacts.userDefinedMetadata } : {}),
      };
      writeAtomic(modelJson, JSON.stringify(json));
      return { modelArtifactsInfo: io.getModelArtifactsInfoForJSON(artifacts) };
    },
    async load(): Promise<tfio.ModelArtifacts> {
      const text = fsio('read', modelJson, () => readFileSync(modelJson, 'utf8'));
      let json: tfio.ModelJSON;
      try {
        json = JSON.parse(text);
      } catch (error) {
        throw new Error(`segloss file:// IO: ${modelJson} is not JSON (${(error as Error).message})`);
      }
      if (json.modelTopology == null || !Array.isArray(json.weightsManifest)) {
        throw new Error(`segloss file:// IO: ${modelJson} is not a tfjs model.json (no modelTopology or weightsManifest)`);
      }
      return io.getModelArtifactsForJSON(json, async (manifest) => {
        const specs = manifest.flatMap((group) => group.weights);
        const buffers = manifest.flatMap((group) => group.paths.map((p) => {
          const path = join(dir, p);
          const bytes = fsio('read', path, () => readFileSync(path));
          return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
        }));
        return [specs, io.concatenateArrayBuffers(buffers)];
      });
    },
  };
}

let registered = false;

/** Registers the file:// router unless one is registered already (tfjs-node's, or this one). */
export function registerFileIO(): void {
  if (registered) return;
  registered = true;
  const router = (url: string | string[]) => (typeof url === 'string' && url.startsWith(SCHEME) ? fileHandler(url) : null);
  if (io.getSaveHandlers('file:///probe').length === 0) io.registerSaveRouter(router as never);
  if (io.getLoadHandlers('file:///probe/model.json').length === 0) io.registerLoadRouter(router as never);
}
