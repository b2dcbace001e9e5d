/**
 * File I/O for sweep directories, written for faults: every failing call becomes a SweepIOError
 * that names the path and the cause (ENOSPC, EACCES, EIO, …); a file replaced "atomically" is
 * written to a temporary beside it, fsynced, renamed into place and its directory fsynced, and the
 * temporary is removed whatever fails, so a fault leaves either the old file or the new one and
 * nothing half-written. Temporaries are named after the host and process that wrote them, so a
 * later sweep can remove those a killed process left (removeOrphanedTemporaries).
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync, fsyncSync, openSync, readdirSync, renameSync, rmSync, writeSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';

const CAUSES: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  EIO: 'input/output error',
  ENOENT: 'no such file or directory',
  ENOTDIR: 'a parent is not a directory',
  EISDIR: 'is a directory',
  EMFILE: 'too many open files',
  ESTALE: 'stale file handle (the file was removed on the server)',
};

/** A file operation of a sweep failed: `path` and the cause (`code`) are in the message. */
export class SweepIOError extends Error {
  override readonly name = 'SweepIOError';
  readonly code: string | undefined;

  constructor(readonly action: string, readonly path: string, cause: unknown) {
    const code = (cause as NodeJS.ErrnoException)?.code;
    const text = code && CAUSES[code] ? `${CAUSES[code]} (${code})` : (cause as Error)?.message ?? String(cause);
    super(`cannot ${action} ${path}: ${text}`, { cause });
    this.code = code;
  }
}

/** A file of a sweep is there but not what it should be (not JSON, wrong shape). */
export class SweepDataError extends Error {
  override readonly name = 'SweepDataError';
}

/** Runs `fn`, turning any error into a SweepIOError for `action` on `path`. */
export function io<T>(action: string, path: string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof SweepIOError) throw error;
    throw new SweepIOError(action, path, error);
  }
}

const HOST_TAG = hostname().replace(/[^A-Za-z0-9-]+/g, '_');

/** A unique temporary name beside `path`: `<path>.<host>~<pid>~<random>.tmp`. */
export function temporaryPath(path: string): string {
  return `${path}.${HOST_TAG}~${process.pid}~${randomBytes(4).toString('hex')}.tmp`;
}

const TEMPORARY = /\.([A-Za-z0-9_-]+)~(\d+)~[0-9a-f]+\.tmp$/;

/** Whether a process with this pid exists on this machine. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the temporaries in `dir` left by processes of this host that no longer run (a SIGKILL
 * between create and rename). Others' temporaries, and live processes', are left alone.
 */
export function removeOrphanedTemporaries(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const m = TEMPORARY.exec(name);
    if (m && m[1] === HOST_TAG && Number(m[2]) !== process.pid && !pidAlive(Number(m[2]))) {
      rmSync(join(dir, name), { force: true });
    }
  }
}

/** Writes all of `data` to `fd` (a write may take fewer bytes than given). */
export function writeAll(fd: number, data: Uint8Array): void {
  for (let offset = 0; offset < data.length;) offset += writeSync(fd, data, offset, data.length - offset);
}

/** fsync of a directory, so that a rename in it is durable (where the platform can: not on Windows). */
export function fsyncDirectory(dir: string): void {
  if (process.platform === 'win32') return;
  let fd: number | null = null;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch (error) {
    // Some file systems cannot fsync a directory (EINVAL): the rename is as durable as they make it.
    if ((error as NodeJS.ErrnoException).code !== 'EINVAL') throw new SweepIOError('sync the directory', dir, error);
  } finally {
    if (fd != null) closeSync(fd);
  }
}

/**
 * Replaces `path` with `content`: temporary, fsync, rename, fsync of the directory. On any failure
 * the temporary is removed, `path` is untouched, and a SweepIOError names `path` and the cause.
 */
export function writeAtomic(path: string, content: string | Uint8Array): void {
  const tmp = temporaryPath(path);
  let fd: number | null = null;
  try {
    fd = openSync(tmp, 'wx');
    writeAll(fd, typeof content === 'string' ? Buffer.from(content) : content);
    fsyncSync(fd);
    closeSync(fd);
    fd = null;
    renameSync(tmp, path);
  } catch (error) {
    if (fd != null) {
      try { closeSync(fd); } catch { /* already failing */ }
    }
    try { rmSync(tmp, { force: true }); } catch { /* the write's error is the one to report */ }
    throw new SweepIOError('write', path, error);
  }
  fsyncDirectory(dirname(path));
}

/** A path shown relative to its sweep directory's runs/ folder: `runs/<name>`. */
export function runsRelative(path: string): string {
  return `runs/${basename(path)}`;
}
