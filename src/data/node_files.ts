/**
 * A folder on disk as a data set's files (Node): every file under it, recursively, with its size,
 * read on demand. Symbolic links are followed (data sets are often links into a shared store).
 */
import { readdirSync, realpathSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { DataFile } from './layout.js';

/**
 * Every file under the folder `root`, recursively, with paths relative to it; an Error when `root` is
 * not there or is not a folder.
 */
export function filesInDirectory(root: string): DataFile[] {
  let stat;
  try {
    stat = statSync(root);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(`${root}: ${code === 'ENOENT' ? 'no such folder' : (error as Error).message}`);
  }
  if (!stat.isDirectory()) throw new Error(`${root}: not a folder (give the data set's folder; a manifest goes inside it)`);
  const out: DataFile[] = [];
  // Folders by their real path: a link back up the tree is walked once, not forever.
  const seen = new Set<string>();
  const walk = (dir: string) => {
    const real = realpathSync(dir);
    if (seen.has(real)) return;
    seen.add(real);
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      let isDir = entry.isDirectory();
      let size: number | undefined;
      if (entry.isSymbolicLink() || entry.isFile()) {
        try {
          const s = statSync(path);
          isDir = s.isDirectory();
          size = s.size;
        } catch {
          // A dangling link: listed, so reading it names the problem.
        }
      }
      if (isDir) {
        walk(path);
        continue;
      }
      const rel = relative(root, path).split(sep).join('/');
      out.push({ path: rel, size, fsPath: path, read: async () => new Uint8Array(await readFile(path)) });
    }
  };
  walk(root);
  return out;
}
