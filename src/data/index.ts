/**
 * segloss/data in Node: everything of api.ts (the same in browsers), and folder paths as sources.
 */
import { registerFolderReader } from './api.js';
import { filesInDirectory } from './node_files.js';

registerFolderReader(filesInDirectory);

export * from './api.js';
export { filesInDirectory } from './node_files.js';
export { decodeWorkers, defaultDecodeWorkerUrl } from './node_decode.js';
