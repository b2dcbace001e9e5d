/** Helpers for tests of sweep directories and the segloss CLI. */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SweepStore } from '../../src/sdk/store.js';
import { rowToJson } from '../../src/sdk/summary.js';

export const cli = fileURLToPath(new URL('../../bin/segloss.js', import.meta.url));

/** Every file of a sweep directory but its report, name → content (what "the same sweep" means). */
export function snapshot(path: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const f of ['sweep.json', 'summary.csv']) if (existsSync(join(path, f))) files[f] = readFileSync(join(path, f), 'utf8');
  for (const f of readdirSync(join(path, 'runs')).sort()) files[`runs/${f}`] = readFileSync(join(path, 'runs', f), f.endsWith('.parquet') ? 'base64' : 'utf8');
  return files;
}

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  stdout: string;
}

/**
 * Runs `segloss ARGS` as a child process. A process still running after `deadlineMs` is killed,
 * and `signal` says so: a test can tell a process that exited from one that hung.
 */
export function runCli(args: string[], options: { cwd?: string; deadlineMs?: number; uid?: number; gid?: number } = {}):
  Promise<CliRun> & { pid: number } {
  const child = spawn(process.execPath, [cli, ...args], {
    cwd: options.cwd, uid: options.uid, gid: options.gid, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stderr!.on('data', (chunk) => { stderr += chunk; });
  child.stdout!.on('data', (chunk) => { stdout += chunk; });
  const timer = setTimeout(() => child.kill('SIGKILL'), options.deadlineMs ?? 120_000);
  const done = new Promise<CliRun>((resolve) => child.once('close', (code, signal) => {
    clearTimeout(timer);
    resolve({ code, signal, stderr, stdout });
  }));
  return Object.assign(done, { pid: child.pid! });
}

/** Polls `condition` every 20 ms until it holds (or throws after `timeoutMs`). */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Every file name under `dir`, recursively, relative to it. */
export function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath ?? (e as unknown as { path: string }).path, e.name).slice(dir.length + 1));
}

/** A sweep directory as segloss wrote it before columnar logs and before reductions (issue #24); the report benchmark's. */
export { withJsonlLogs, withoutReductions } from '../../src/bench/report.js';

/**
 * A sweep run's rows as its JSONL lines read (`rowToJson`): from its table (runs/<id>.parquet) once
 * complete, from its write-ahead log before.
 */
export async function logLines(dir: string, id: string): Promise<string[]> {
  return (await new SweepStore(dir).readRows(id)).map(rowToJson);
}

/** `logLines`, each parsed: the rows as JSON has them (NaN as null), as loosely typed as JSON.parse's. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function logRows(dir: string, id: string): Promise<any[]> {
  return (await logLines(dir, id)).map((line) => JSON.parse(line));
}
