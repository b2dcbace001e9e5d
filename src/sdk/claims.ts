/**
 * Claims: which process trains which run when several share a sweep directory, on one machine or
 * on many machines sharing a volume. A run is trained by the process that holds its claim, and by
 * no other.
 *
 * The protocol, on `runs/<id>.claim`:
 * - Claim: an exclusive create (O_CREAT | O_EXCL, which has one winner on local file systems and on
 *   NFS v3 and later alike), holding `{host, pid, token, started, heartbeat, beats}` padded to a
 *   fixed size.
 * - Heartbeat: every timeout/6 the owner rewrites the file in place through the descriptor it
 *   created it with. Through the descriptor, not the path: if the claim was taken over meanwhile,
 *   the beat lands in the old, unlinked file and cannot keep the new owner's claim looking alive.
 * - Ownership: the owner holds the claim while `runs/<id>.claim` is still the file it created (same
 *   device and inode). It checks before every write to the run's log and before the completion
 *   marker; a process that finds it lost its claim abandons the run without writing anything else.
 * - Stale: a claim may be taken over when its owner is a process of this host that no longer runs
 *   (at once: `--resume` after a crash or a SIGKILL does not wait), or when its bytes have not
 *   changed for the timeout, as measured by the observer's own monotonic clock. Only change is
 *   observed, never a timestamp compared, so hosts need no synchronised clocks.
 * - Takeover: the stale file is renamed aside (of racing takers exactly one moves it), what moved is
 *   compared with the stale bytes that were judged, removed, and the run claimed as usual. If what
 *   moved was a live claim after all (its owner beat in between, or another taker had already
 *   replaced it) it is linked back; should a new claim be there already, the newest wins and the
 *   other owner sees, at its next check, that it lost.
 *
 * The timeout (30 s by default) trades how long a run whose owner died on another host waits (once,
 * against runs that take minutes) against the risk of taking a run from a live owner that merely
 * stalled: the heartbeat comes from the main thread, which does no training (the workers do), so
 * missing six beats in a row takes a stall of 30 s (a suspended process, a hung network mount). A
 * process that did stall that long loses its run to the taker and abandons it; the log cannot get
 * a row twice, since the taker writes a new file and the stalled process's descriptor points at the
 * old one. Set it higher on file systems that can stall for longer (`--claim-timeout`).
 */
import { randomUUID } from 'node:crypto';
import { closeSync, fstatSync, linkSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { io, pidAlive, SweepIOError, temporaryPath, writeAll } from './fsio.js';
import { ClaimLost } from './pool.js';

export const DEFAULT_CLAIM_TIMEOUT_MS = 30_000;
/** Every claim file has this size, so a heartbeat rewrites the same bytes and never needs space. */
const CLAIM_BYTES = 512;

interface ClaimRecord {
  host: string;
  pid: number;
  token: string;
  started: string;
  heartbeat: string;
  beats: number;
}

/** The tokens of the claims this process holds (a claim of this pid with another token is stale). */
const liveTokens = new Set<string>();

function encode(record: ClaimRecord): Buffer {
  const json = JSON.stringify(record);
  if (json.length >= CLAIM_BYTES) throw new Error(`segloss: a claim record is longer than ${CLAIM_BYTES} bytes`);
  return Buffer.from(json.padEnd(CLAIM_BYTES - 1) + '\n');
}

function parse(content: string): ClaimRecord | null {
  try {
    const record = JSON.parse(content) as ClaimRecord;
    return typeof record?.host === 'string' && Number.isInteger(record.pid) && typeof record.token === 'string' ? record : null;
  } catch {
    return null;
  }
}

/** A claim this process holds, refreshed by a heartbeat until it is released. */
export class Claim {
  private readonly ino: number;
  private readonly dev: number;
  private readonly timer: ReturnType<typeof setInterval>;
  private released = false;
  private trouble: SweepIOError | null = null;

  /** When this claim replaced a stale one: whose it was and why it was stale. */
  tookOverFrom: string | null = null;

  constructor(readonly path: string, private readonly fd: number, private readonly record: ClaimRecord, heartbeatMs: number) {
    const stat = fstatSync(fd);
    this.ino = stat.ino;
    this.dev = stat.dev;
    liveTokens.add(record.token);
    this.timer = setInterval(() => this.beat(), heartbeatMs);
    this.timer.unref?.();
  }

  get token(): string {
    return this.record.token;
  }

  /** Whether `path` is still the file this process created. */
  held(): boolean {
    if (this.released) return false;
    const stat = io('check the claim', this.path, () => statSync(this.path, { throwIfNoEntry: false }));
    return stat != null && stat.ino === this.ino && stat.dev === this.dev;
  }

  /** Throws ClaimLost unless the claim is still this process's, or the heartbeat's I/O error if one failed. */
  verify(): void {
    if (this.trouble) throw this.trouble;
    if (!this.held()) {
      throw new ClaimLost(`another process took over the claim ${this.path} (this process stalled for longer than the claim timeout)`);
    }
  }

  private beat(): void {
    try {
      if (!this.held()) {
        clearInterval(this.timer);
        return;
      }
      this.record.heartbeat = new Date().toISOString();
      this.record.beats++;
      const bytes = encode(this.record);
      writeSync(this.fd, bytes, 0, bytes.length, 0);
    } catch (error) {
      this.trouble = error instanceof SweepIOError ? error : new SweepIOError('refresh the claim', this.path, error);
      clearInterval(this.timer);
    }
  }

  /** Gives the claim up: its file is removed if it is still this process's. Idempotent. */
  release(): void {
    if (this.released) return;
    let mine = false;
    try {
      mine = this.held();
    } finally {
      this.released = true;
      clearInterval(this.timer);
      liveTokens.delete(this.record.token);
      try {
        if (mine) io('remove the claim', this.path, () => rmSync(this.path, { force: true }));
      } finally {
        closeSync(this.fd);
      }
    }
  }
}

export interface ClaimOptions {
  /** A claim whose bytes have not changed for this long is stale (default 30 s). */
  timeoutMs?: number;
}

/** The claims of one directory, as this process sees them (it remembers when each last changed). */
export class ClaimBook {
  readonly timeoutMs: number;
  private readonly heartbeatMs: number;
  private readonly observed = new Map<string, { content: string; since: number }>();

  constructor(private readonly dir: string, options: ClaimOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_CLAIM_TIMEOUT_MS;
    if (!(this.timeoutMs > 0) || !Number.isFinite(this.timeoutMs)) {
      throw new RangeError(`segloss: the claim timeout must be a positive number of milliseconds, got ${this.timeoutMs}`);
    }
    this.heartbeatMs = Math.max(10, this.timeoutMs / 6);
  }

  path(id: string): string {
    return join(this.dir, `${id}.claim`);
  }

  /** Claims run `id`: a Claim, or null while another live process holds it (`holder` says who). */
  tryClaim(id: string): Claim | null {
    const path = this.path(id);
    let tookOverFrom: string | null = null;
    for (let attempt = 0; attempt < 3; attempt++) {
      const claim = this.create(path);
      if (claim) {
        this.observed.delete(path);
        claim.tookOverFrom = tookOverFrom;
        return claim;
      }
      const content = this.read(path);
      if (content == null) continue; // released between our create and read: try again
      const stale = this.staleness(path, content);
      if (stale == null) return null;
      if (this.takeOver(path, content)) tookOverFrom = stale;
    }
    return null;
  }

  /** Who holds run `id`'s claim, for messages: "host (pid 123)", or null when nobody does. */
  holder(id: string): string | null {
    const content = this.read(this.path(id));
    if (content == null) return null;
    const record = parse(content);
    return record ? `${record.host} (pid ${record.pid})` : 'a process that is still writing its claim';
  }

  /**
   * Removes run `id`'s claim when its process is known to be gone (a process of this host that has
   * exited, or an earlier sweep of this one): what a process killed after its run's completion marker
   * and before releasing its claim leaves. Claims of other hosts are left to the heartbeat's judgement.
   * True when a claim was removed.
   */
  removeAbandoned(id: string): boolean {
    const path = this.path(id);
    const content = this.read(path);
    if (content == null) return false;
    const record = parse(content);
    if (!record || record.host !== hostname()) return false;
    const alive = record.pid === process.pid ? liveTokens.has(record.token) : pidAlive(record.pid);
    return !alive && this.takeOver(path, content);
  }

  private create(path: string): Claim | null {
    let fd: number;
    try {
      fd = openSync(path, 'wx');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return null;
      throw new SweepIOError('create the claim', path, error);
    }
    try {
      const now = new Date().toISOString();
      const record = { host: hostname(), pid: process.pid, token: randomUUID(), started: now, heartbeat: now, beats: 0 };
      writeAll(fd, encode(record));
      return new Claim(path, fd, record, this.heartbeatMs);
    } catch (error) {
      closeSync(fd);
      try { rmSync(path, { force: true }); } catch { /* the write's error is the one to report */ }
      throw error instanceof SweepIOError ? error : new SweepIOError('write the claim', path, error);
    }
  }

  private read(path: string): string | null {
    try {
      return readFileSync(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new SweepIOError('read the claim', path, error);
    }
  }

  /** Null while the claim is live; when it is stale, whose it is and why ("host (pid 12), whose process is gone"). */
  private staleness(path: string, content: string): string | null {
    const record = parse(content);
    const owner = record ? `${record.host} (pid ${record.pid})` : 'a process that never finished writing it';
    if (record && record.host === hostname()) {
      if (record.pid === process.pid) return liveTokens.has(record.token) ? null : `${owner}: an earlier sweep of this process`;
      if (!pidAlive(record.pid)) return `${owner}, whose process is gone`;
      // A live pid may have been reused by another program: the heartbeat decides.
    }
    const now = performance.now();
    const seen = this.observed.get(path);
    if (!seen || seen.content !== content) {
      this.observed.set(path, { content, since: now });
      return null;
    }
    const idle = now - seen.since;
    return idle >= this.timeoutMs ? `${owner}, which showed no heartbeat for ${(idle / 1000).toFixed(1)} s` : null;
  }

  /** Moves a stale claim out of the way; false if it was gone already or turned out to be live. */
  private takeOver(path: string, content: string): boolean {
    const aside = temporaryPath(path);
    try {
      renameSync(path, aside);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false; // gone already: claim it as usual
      throw new SweepIOError('take over the stale claim', path, error);
    }
    this.observed.delete(path);
    let moved: string | null = null;
    try {
      moved = readFileSync(aside, 'utf8');
    } catch { /* unreadable: treat as not what was judged */ }
    if (moved !== content) {
      // A live claim was moved: put it back, unless a newer one is already in place.
      try { linkSync(aside, path); } catch { /* EEXIST: the newer claim wins */ }
    }
    io('remove the stale claim', aside, () => rmSync(aside, { force: true }));
    return moved === content;
  }
}
