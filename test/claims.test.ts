/**
 * The claim protocol (src/sdk/claims.ts) in one process: exclusive claims, the heartbeat, which
 * claims are stale (a dead process of this host at once; another host's only after its bytes stop
 * changing for the timeout; an earlier sweep of this very process), takeover, and a lost claim.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ClaimBook } from '../src/sdk/claims.js';
import { ClaimLost } from '../src/sdk/pool.js';
import { listFiles } from './helpers/sweep_dir.js';

const scratch = mkdtempSync(join(tmpdir(), 'segloss-claims-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => mkdtempSync(join(scratch, `d${dirs++}-`));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A claim file as another process would write it. */
function foreignClaim(path: string, host: string, pid: number, beats = 0): void {
  const record = { host, pid, token: 'foreign', started: '2026-12-01T00:00:00.000Z', heartbeat: new Date().toISOString(), beats };
  writeFileSync(path, JSON.stringify(record).padEnd(511) + '\n');
}

/** The pid of a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

describe('ClaimBook', () => {
  it('gives a run to one claimant at a time, and the file says who', () => {
    const dir = freshDir();
    const a = new ClaimBook(dir).tryClaim('run');
    expect(a).not.toBeNull();
    const record = JSON.parse(readFileSync(join(dir, 'run.claim'), 'utf8'));
    expect(record).toMatchObject({ host: hostname(), pid: process.pid, beats: 0 });
    expect(readFileSync(join(dir, 'run.claim')).length).toBe(512);
    const other = new ClaimBook(dir);
    expect(other.tryClaim('run')).toBeNull(); // this process's live claim: never stale
    expect(other.holder('run')).toBe(`${hostname()} (pid ${process.pid})`);
    a!.release();
    expect(existsSync(join(dir, 'run.claim'))).toBe(false);
    expect(other.holder('run')).toBeNull();
    const b = other.tryClaim('run');
    expect(b).not.toBeNull();
    b!.release();
  });

  it('refreshes its heartbeat in place, at a sixth of the timeout', async () => {
    const dir = freshDir();
    const claim = new ClaimBook(dir, { timeoutMs: 300 }).tryClaim('run')!;
    const before = readFileSync(join(dir, 'run.claim'), 'utf8');
    await sleep(250);
    const after = JSON.parse(readFileSync(join(dir, 'run.claim'), 'utf8'));
    expect(after.beats).toBeGreaterThanOrEqual(2);
    expect(after.token).toBe(JSON.parse(before).token);
    claim.release();
  });

  it('takes over at once the claim of a process of this host that is gone, and says so', () => {
    const dir = freshDir();
    const pid = deadPid();
    foreignClaim(join(dir, 'run.claim'), hostname(), pid);
    const claim = new ClaimBook(dir).tryClaim('run');
    expect(claim).not.toBeNull();
    expect(claim!.tookOverFrom).toBe(`${hostname()} (pid ${pid}), whose process is gone`);
    expect(JSON.parse(readFileSync(join(dir, 'run.claim'), 'utf8')).pid).toBe(process.pid);
    claim!.release();
    expect(listFiles(dir)).toEqual([]); // nothing set aside is left behind
  });

  it('takes over a claim of this process that no sweep holds any more (a leftover)', () => {
    const dir = freshDir();
    foreignClaim(join(dir, 'run.claim'), hostname(), process.pid);
    const claim = new ClaimBook(dir).tryClaim('run');
    expect(claim?.tookOverFrom).toMatch(/an earlier sweep of this process/);
    claim!.release();
  });

  it('leaves another host\'s claim alone while it beats, and takes it once it has not changed for the timeout', async () => {
    const dir = freshDir();
    const path = join(dir, 'run.claim');
    const book = new ClaimBook(dir, { timeoutMs: 400 });
    let beats = 0;
    foreignClaim(path, 'elsewhere', 1, beats);
    const started = performance.now();
    while (performance.now() - started < 1200) {
      expect(book.tryClaim('run')).toBeNull();
      foreignClaim(path, 'elsewhere', 1, ++beats); // it beats every 100 ms, well within the timeout
      await sleep(100);
    }
    expect(book.holder('run')).toBe('elsewhere (pid 1)');
    // It stops beating: not stale before the timeout has passed, stale after.
    expect(book.tryClaim('run')).toBeNull();
    const stopped = performance.now();
    let claim = null;
    while (claim == null) {
      await sleep(50);
      claim = book.tryClaim('run');
    }
    expect(performance.now() - stopped).toBeGreaterThanOrEqual(400);
    expect(claim.tookOverFrom).toMatch(/^elsewhere \(pid 1\), which showed no heartbeat for \d+\.\d s$/);
    claim.release();
  });

  it('notices when its claim was taken over, and then leaves the new owner\'s claim alone', () => {
    const dir = freshDir();
    const path = join(dir, 'run.claim');
    const claim = new ClaimBook(dir).tryClaim('run')!;
    expect(() => claim.verify()).not.toThrow();
    renameSync(path, join(dir, 'moved'));
    foreignClaim(path, 'elsewhere', 1);
    expect(claim.held()).toBe(false);
    expect(() => claim.verify()).toThrow(ClaimLost);
    expect(() => claim.verify()).toThrow(/another process took over the claim .*run\.claim/);
    claim.release();
    expect(JSON.parse(readFileSync(path, 'utf8')).host).toBe('elsewhere');
  });

  it('refuses a timeout that is not a positive number', () => {
    for (const timeoutMs of [0, -1, NaN, Infinity]) {
      expect(() => new ClaimBook(freshDir(), { timeoutMs })).toThrow(/claim timeout must be a positive number/);
    }
  });
});
