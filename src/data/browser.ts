/**
 * segloss/data in browsers: the loaders from File, FileList, Blob and URLs (no folder paths: those
 * are Node's; see index.ts).
 */
export * from './api.js';
