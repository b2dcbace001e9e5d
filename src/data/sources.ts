/**
 * A data set's files from what a browser has: a dropped folder or an <input webkitdirectory>
 * (`FileList`, `File[]`: paths from `webkitRelativePath`, the dropped folder's own name taken off),
 * named `Blob`s, or URLs (a base URL and the paths under it, e.g. from a manifest). In Node,
 * node_files.ts reads a folder. Nothing here leaves the machine: files are read where they are.
 */
import type { DataFile } from './layout.js';

/** A File's path inside the dropped folder: webkitRelativePath without its first part, else its name. */
function relativePath(file: File): string {
  const full = (file as File & { webkitRelativePath?: string }).webkitRelativePath || file.name;
  return full.replace(/\\/g, '/');
}

/**
 * Files of a dropped folder (FileList or File[]). When every path starts with one folder (the
 * folder that was dropped), it is removed, so `mydata/images/a.png` is `images/a.png`.
 */
export function filesFromFileList(list: ArrayLike<File> | Iterable<File>): DataFile[] {
  const files = Array.from(list as ArrayLike<File>);
  const paths = files.map(relativePath);
  const first = paths[0]?.split('/')[0];
  const common = first && paths.every((p) => p.includes('/') && p.split('/')[0] === first);
  return files.map((file, k) => ({
    path: common ? paths[k].slice(first.length + 1) : paths[k],
    size: file.size,
    read: async () => new Uint8Array(await file.arrayBuffer()),
  }));
}

/** Files from Blobs, each with the path it stands for: `{ 'images/a.png': blob, … }`. */
export function filesFromBlobs(blobs: Record<string, Blob>): DataFile[] {
  return Object.entries(blobs).map(([path, blob]) => ({ path, size: blob.size, read: async () => new Uint8Array(await blob.arrayBuffer()) }));
}

/** Files served under `baseUrl` (paths relative to it), fetched when read; a failed fetch names the URL and the status. */
export function filesFromUrls(baseUrl: string, paths: string[], init?: RequestInit): DataFile[] {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  return paths.map((path) => ({
    path,
    read: async () => {
      const url = new URL(path, new URL(base, globalThis.location?.href ?? 'http://localhost/')).href;
      const response = await fetch(url, init);
      if (!response.ok) throw new Error(`${url}: HTTP ${response.status} ${response.statusText}`);
      return new Uint8Array(await response.arrayBuffer());
    },
  }));
}
