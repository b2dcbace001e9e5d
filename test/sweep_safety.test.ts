/**
 * Sweep directories under faults, with real `segloss sweep` processes on the built package:
 * - 2 and 3 processes resuming one directory at once split its runs, train each once, and leave
 *   the files of a single process, bit for bit;
 * - the claim of a SIGKILLed process is taken over at once; a stalled process (SIGSTOP) loses its
 *   run after the claim timeout, and abandons it when it wakes;
 * - damaged tables (a changed byte, truncated, missing) and, in a directory from before columnar
 *   logs, damaged JSONL logs (truncated, a garbage line, a changed row, a missing log or marker, a
 *   marker that is not JSON) are named by `report`, `export` and `merge`, and retrained by `--resume`;
 * - a full disk and a file system gone read-only stop the sweep with exit 1, the path and the cause,
 *   no temporaries, and `--resume` finishes once the cause is fixed.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mergeSweeps, planSweep, runSweep } from '../dist/index.js';
import { cli, listFiles, logLines, runCli, snapshot, waitFor, withJsonlLogs, withoutReductions } from './helpers/sweep_dir.js';

const scratch = mkdtempSync(join(tmpdir(), 'segloss-safety-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const dir = (name: string) => join(scratch, name);

const STEPS = 600;
/** Steps of runs that must still be training when a test interrupts them (a few seconds each). */
const LONG = 3000;
const ids = planSweep({ preset: 'quick', steps: STEPS }).map((r) => r.id);
const sweepArgs = (out: string, ...more: string[]) =>
  ['sweep', '--preset', 'quick', '--steps', String(STEPS), '--out', out, ...more];
const trainedHere = (stderr: string) => Number(/: (\d+) trained here/.exec(stderr)?.[1] ?? NaN);
const logPath = (out: string, id: string) => join(out, 'runs', `${id}.jsonl`);
const tablePath = (out: string, id: string) => join(out, 'runs', `${id}.parquet`);
const markerPath = (out: string, id: string) => join(out, 'runs', `${id}.done.json`);
/** Rows logged: a run in progress's JSONL lines, a complete run's rows as its marker records them. */
const rowsOf = (out: string, id: string) => {
  if (existsSync(logPath(out, id))) return readFileSync(logPath(out, id), 'utf8').split('\n').length - 1;
  return existsSync(markerPath(out, id)) ? JSON.parse(readFileSync(markerPath(out, id), 'utf8')).table.rows as number : 0;
};
const claims = (out: string) => (existsSync(join(out, 'runs')) ? readdirSync(join(out, 'runs')).filter((f) => f.endsWith('.claim')) : []);

let reference: Record<string, string>;
beforeAll(async () => {
  await runSweep({ preset: 'quick', steps: STEPS }, { outDir: dir('reference'), workers: 2 });
  reference = snapshot(dir('reference'));
}, 120_000);

describe('several processes resuming one directory', () => {
  it.each([2, 3])('%i at once train every run exactly once, and leave the files of one process', async (n) => {
    const out = dir(`concurrent-${n}`);
    const results = await Promise.all(Array.from({ length: n }, () => runCli(sweepArgs(out, '--workers', '1', '--resume'))));
    for (const r of results) {
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/^6 runs complete: /m);
    }
    // Each process counts the runs it trained: together exactly the 6 of the plan, none twice.
    expect(results.map((r) => trainedHere(r.stderr)).reduce((a, b) => a + b, 0)).toBe(6);
    for (const id of ids) expect(rowsOf(out, id)).toBe(STEPS);
    expect(claims(out)).toEqual([]);
    expect(snapshot(out)).toEqual(reference);
  });

  it('writes completion markers that record the table\'s rows, size and SHA-256; the write-ahead logs are gone', async () => {
    const out = dir('reference');
    for (const id of ids) {
      const table = readFileSync(tablePath(out, id));
      const marker = JSON.parse(readFileSync(markerPath(out, id), 'utf8'));
      expect(marker.table).toEqual({ rows: STEPS, bytes: table.length, sha256: createHash('sha256').update(table).digest('hex') });
      expect(existsSync(logPath(out, id))).toBe(false);
      expect(await logLines(out, id)).toHaveLength(STEPS);
    }
  });
});

describe('claims of processes that died or stalled', () => {
  it('takes over at once the runs of a SIGKILLed process of this host', async () => {
    const out = dir('killed');
    const first = runCli(sweepArgs(out, '--workers', '1', '--steps', String(LONG)));
    await waitFor(() => claims(out).length > 0 && rowsOf(out, ids[0]) > 0, 'the first run to start');
    process.kill(first.pid, 'SIGKILL');
    expect((await first).signal).toBe('SIGKILL');
    // Left behind by the killed process: the lockstep engine trains the three BN-off runs together.
    const group = ids.slice(0, 3);
    expect(claims(out).sort()).toEqual(group.map((id) => `${id}.claim`).sort());
    const resumed = await runCli(sweepArgs(out, '--workers', '2', '--resume', '--steps', String(LONG), '--claim-timeout', '600'));
    expect(resumed.code, resumed.stderr).toBe(0);
    for (const id of group) expect(resumed.stderr).toContain(`${id}: taken over from ${hostname()} (pid ${first.pid}), whose process is gone`);
    expect(resumed.stderr).not.toMatch(/waiting for/);
    expect(trainedHere(resumed.stderr)).toBe(6);
    for (const id of ids) expect(rowsOf(out, id)).toBe(LONG);
  }, 300_000);

  it('takes a stalled process\'s run after the timeout; the stalled process abandons it when it wakes', async () => {
    const out = dir('stalled');
    const stalled = runCli(sweepArgs(out, '--workers', '1', '--claim-timeout', '1'));
    await waitFor(() => rowsOf(out, ids[0]) >= 250, 'the first run to log 250 rows');
    process.kill(stalled.pid, 'SIGSTOP');
    const rowsWhenStopped = rowsOf(out, ids[0]);
    expect(rowsWhenStopped).toBeLessThan(STEPS);
    let taker;
    try {
      taker = await runCli(sweepArgs(out, '--workers', '2', '--resume', '--claim-timeout', '1'));
    } finally {
      process.kill(stalled.pid, 'SIGCONT');
    }
    expect(taker.code, taker.stderr).toBe(0);
    expect(taker.stderr).toMatch(new RegExp(`${ids[0]}: taken over from ${hostname()} \\(pid ${stalled.pid}\\), which showed no heartbeat for \\d`));
    expect(trainedHere(taker.stderr)).toBe(6);
    const woken = await stalled;
    expect(woken.code, woken.stderr).toBe(0);
    expect(woken.stderr).toMatch(new RegExp(`${ids[0]}: another process took over the claim .*; the run is left to that process`));
    expect(woken.stderr).toMatch(/^6 runs complete: 0 trained here, 6 by other processes/m);
    // The stalled process's late rows went to the file the taker replaced: no row is there twice.
    expect(snapshot(out)).toEqual(reference);
  }, 120_000);
});

describe('damaged runs', () => {
  /**
   * The reference sweep as segloss wrote it before columnar logs (JSONL logs), damaged six ways;
   * returns the problems `inspect` must name.
   */
  async function damage(out: string): Promise<Record<string, RegExp>> {
    cpSync(dir('reference'), out, { recursive: true });
    await withJsonlLogs(out);
    const [truncated, garbage, changed, noLog, noMarker, badMarker] = ids;
    const text = readFileSync(logPath(out, truncated), 'utf8');
    writeFileSync(logPath(out, truncated), text.split('\n').slice(0, 3).join('\n') + '\n{"step":3,"loss');
    const lines = readFileSync(logPath(out, garbage), 'utf8').split('\n');
    lines.splice(100, 0, 'garbage');
    writeFileSync(logPath(out, garbage), lines.join('\n'));
    const row = readFileSync(logPath(out, changed), 'utf8').replace(/"step":7,/, '"step":7.5,');
    writeFileSync(logPath(out, changed), row);
    rmSync(logPath(out, noLog));
    rmSync(join(out, 'runs', `${noMarker}.done.json`));
    writeFileSync(join(out, 'runs', `${badMarker}.done.json`), '{"id": "');
    return {
      [truncated]: new RegExp(`runs/${truncated}\\.jsonl is damaged: 3 of ${STEPS} rows readable, 1 unreadable line`),
      [garbage]: new RegExp(`runs/${garbage}\\.jsonl is damaged: ${STEPS} of ${STEPS} rows readable, 1 unreadable line`),
      [changed]: new RegExp(`runs/${changed}\\.jsonl is damaged: its ${STEPS} rows are not those its completion marker recorded \\(SHA-256 differs\\)`),
      [noLog]: new RegExp(`runs/${noLog}\\.jsonl is missing \\(its completion marker is there\\)`),
      [badMarker]: new RegExp(`runs/${badMarker}\\.done\\.json is damaged \\(not JSON\\)`),
    };
  }

  it('report names each and leaves it out; --resume names each, retrains it, and ends as the reference', async () => {
    const out = dir('damaged');
    const problems = await damage(out);
    // A report reads each run's reduction, not its log (issue #24): the runs whose logs are
    // damaged but whose reductions are intact are reported; the damaged marker is named.
    const report = await runCli(['report', out]);
    expect(report.code, report.stderr).toBe(0);
    const badMarker = ids[5];
    expect(report.stderr).toMatch(new RegExp(`segloss report: ${problems[badMarker].source}; left out of the report`));
    expect(report.stderr).not.toMatch(/\.jsonl is (damaged|missing)|JSON at position|Unexpected token/);
    const reported = JSON.parse(readFileSync(join(out, 'report', 'report.json'), 'utf8')).runs.map((r: { id: string }) => r.id);
    expect(reported.sort()).toEqual(ids.slice(0, 4).sort());
    // A directory from before reductions: its report reads the logs, and names every damaged one.
    const old = dir('damaged-old');
    cpSync(out, old, { recursive: true });
    withoutReductions(old);
    const oldReport = await runCli(['report', old]);
    expect(oldReport.code, oldReport.stderr).toBe(0);
    for (const problem of Object.values(problems)) expect(oldReport.stderr).toMatch(new RegExp(`segloss report: ${problem.source}; left out of the report`));
    expect(JSON.parse(readFileSync(join(old, 'report', 'report.json'), 'utf8')).runs).toEqual([]);

    const resumed = await runCli(sweepArgs(out, '--workers', '2', '--resume'));
    expect(resumed.code, resumed.stderr).toBe(0);
    for (const problem of Object.values(problems)) expect(resumed.stderr).toMatch(new RegExp(`segloss: ${problem.source}; will retrain`));
    expect(trainedHere(resumed.stderr)).toBe(6);
    expect(snapshot(out)).toEqual(reference);
  });

  it('merge takes a run from the shard that has it intact, and reports the damaged copy', async () => {
    const damaged = dir('merge-damaged');
    await damage(damaged);
    const merged = mergeSweeps([damaged, dir('reference')], dir('merge-out'));
    expect(merged.missing).toEqual([]);
    expect(merged.damaged).toHaveLength(5);
    expect(merged.damaged[0]).toMatch(new RegExp(`^${damaged}: runs/${ids[0]}\\.jsonl is damaged: 3 of ${STEPS} rows readable`));
    expect(snapshot(dir('merge-out'))).toEqual(reference);
    const alone = mergeSweeps([damaged], dir('merge-alone'));
    expect(alone.missing).toEqual(ids);
  });

  it('names a damaged or missing table in report, export and merge; --resume retrains it and ends as the reference', async () => {
    const out = dir('damaged-tables');
    cpSync(dir('reference'), out, { recursive: true });
    const [flipped, truncated, missing] = ids;
    const table = readFileSync(tablePath(out, flipped));
    table[table.length >> 1] ^= 0x40;
    writeFileSync(tablePath(out, flipped), table);
    writeFileSync(tablePath(out, truncated), readFileSync(tablePath(out, truncated)).subarray(0, 200));
    rmSync(tablePath(out, missing));
    const problems = [
      `runs/${flipped}\\.parquet is damaged: not the ${STEPS} rows its completion marker recorded \\(SHA-256 differs\\)`,
      `runs/${truncated}\\.parquet is damaged: not the ${STEPS} rows its completion marker recorded \\(200 bytes, not \\d+\\)`,
      `runs/${missing}\\.parquet is missing \\(its completion marker is there\\)`,
    ];
    // A report reads reductions: the three runs are reported (as for a damaged JSONL log).
    const report = await runCli(['report', out]);
    expect(report.code, report.stderr).toBe(0);
    expect(report.stderr).not.toMatch(/parquet is (damaged|missing)/);
    const exported = await runCli(['export', out, '--format', 'csv']);
    expect(exported.code, exported.stderr).toBe(0);
    for (const problem of problems) expect(exported.stderr).toMatch(new RegExp(`segloss export: ${problem}; left out of the export`));
    expect(exported.stderr).toMatch(/3 runs, 1,800 rows/);
    const merged = mergeSweeps([out, dir('reference')], dir('merge-tables'));
    expect(merged.damaged.map((d) => d.slice(out.length + 2))).toEqual(problems.map((p) => expect.stringMatching(new RegExp(`^${p}`))));
    expect(snapshot(dir('merge-tables'))).toEqual(reference);
    rmSync(join(out, 'export.csv'));
    const resumed = await runCli(sweepArgs(out, '--workers', '2', '--resume'));
    expect(resumed.code, resumed.stderr).toBe(0);
    for (const problem of problems) expect(resumed.stderr).toMatch(new RegExp(`segloss: ${problem}; will retrain`));
    expect(trainedHere(resumed.stderr)).toBe(3);
    expect(snapshot(out)).toEqual(reference);
  });

  it('names a sweep.json that is not JSON instead of failing on a parse error', async () => {
    const out = dir('bad-sweep-json');
    cpSync(dir('reference'), out, { recursive: true });
    writeFileSync(join(out, 'sweep.json'), '{"runs": [');
    for (const args of [['report', out], sweepArgs(out, '--resume')]) {
      const r = await runCli(args);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`${join(out, 'sweep.json')} is damaged (not the JSON of a sweep)`);
    }
  });
});

/** Mounts a tmpfs of `size` at `path`; false where this machine does not let the tests mount. */
function mountTmpfs(path: string, size: string): boolean {
  mkdirSync(path, { recursive: true });
  return spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', path]).status === 0;
}
const remount = (path: string, options: string) => expect(spawnSync('mount', ['-o', `remount,${options}`, path]).status).toBe(0);
const canMount = (() => {
  const probe = join(scratch, 'mount-probe');
  const ok = mountTmpfs(probe, '64k');
  if (ok) spawnSync('umount', [probe]);
  return ok;
})();

// Mounting a small tmpfs needs root (CAP_SYS_ADMIN); CI runs as root, a developer's laptop may not.
describe.skipIf(!canMount)('write faults (on a small tmpfs; skipped where this user cannot mount one)', () => {
  const mounted: string[] = [];
  afterAll(() => {
    for (const path of mounted) spawnSync('umount', [path]);
  });
  const volume = (name: string, size: string) => {
    const path = dir(name);
    expect(mountTmpfs(path, size)).toBe(true);
    mounted.push(path);
    return path;
  };

  it('a full disk: exit 1 naming the path and ENOSPC, no temporaries; --resume finishes once there is space', async () => {
    const disk = volume('full-disk', '300k');
    const out = join(disk, 'sweep');
    const full = await runCli(sweepArgs(out, '--workers', '2'), { deadlineMs: 60_000 });
    expect(full.signal, 'the sweep hung on a full disk').toBeNull();
    expect(full.code, full.stderr).toBe(1);
    expect(full.stderr).toMatch(new RegExp(`segloss: cannot write ${out}/\\S+: no space left on device \\(ENOSPC\\)`));
    expect(full.stderr).toMatch(/the sweep stopped: fix the cause, then rerun with --resume/);
    expect(listFiles(disk).filter((f) => /\.tmp$|\.claim$/.test(f))).toEqual([]);
    remount(disk, 'size=8m');
    const resumed = await runCli(sweepArgs(out, '--workers', '2', '--resume'));
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(snapshot(out)).toEqual(reference);
  });

});

/**
 * Why user nobody cannot run this test's sweep, or null when it can. Permissions stop root from
 * nothing, so the sweep runs as nobody, which needs root to arrange; and nobody must reach Node,
 * this checkout's CLI and the scratch folder (a checkout in /root/…, a home directory or any
 * folder of mode 0700 is out of its reach: then the test says so and skips).
 */
function nobodyCannot(): string | null {
  if (process.getuid?.() !== 0) return 'it needs root, to run the sweep as user nobody';
  chmodSync(scratch, 0o777);
  const probe = `const fs = require('node:fs'); fs.accessSync(${JSON.stringify(cli)}, fs.constants.R_OK); fs.accessSync(${JSON.stringify(scratch)}, fs.constants.W_OK | fs.constants.X_OK);`;
  const r = spawnSync(process.execPath, ['-e', probe], { uid: 65534, gid: 65534, encoding: 'utf8' });
  if (r.status === 0) return null;
  const why = (r.error?.message ?? r.stderr.split('\n').find((l) => /Error/.test(l)) ?? `exit ${r.status}`).trim();
  return `user nobody cannot run ${process.execPath} on ${cli} or write ${scratch} (${why}): the checkout or the temporary folder sits in a folder nobody cannot enter`;
}
const nobody = nobodyCannot();
if (nobody) console.warn(`sweep_safety: skipping "a directory that becomes unwritable": ${nobody}`);

describe.skipIf(nobody != null)(`a directory that becomes unwritable (the sweep runs as nobody${nobody ? `; skipped: ${nobody}` : ''})`, () => {
  it('exit 1 naming the path and EACCES, no temporaries; --resume finishes once writable again', async () => {
    const base = dir('unwritable');
    mkdirSync(join(base, 'sweep', 'runs'), { recursive: true });
    for (const path of [scratch, base, join(base, 'sweep'), join(base, 'sweep', 'runs')]) chmodSync(path, 0o777);
    const out = join(base, 'sweep');
    const asNobody = { uid: 65534, gid: 65534 };
    const sweep = runCli(sweepArgs(out, '--workers', '1', '--steps', String(LONG)), { ...asNobody, deadlineMs: 120_000 });
    await waitFor(() => rowsOf(out, ids[0]) > 0, 'the first rows');
    chmodSync(join(out, 'runs'), 0o555); // the log being written stays open; the next file cannot be made
    const stopped = await sweep;
    expect(stopped.signal, 'the sweep hung on an unwritable directory').toBeNull();
    expect(stopped.code, stopped.stderr).toBe(1);
    // The first file a completing run makes: its table (written before its reduction and its marker).
    expect(stopped.stderr).toMatch(new RegExp(`segloss: cannot write ${out}/runs/${ids[0]}\\.parquet: permission denied \\(EACCES\\)`));
    expect(listFiles(out).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    chmodSync(join(out, 'runs'), 0o777);
    const resumed = await runCli(sweepArgs(out, '--workers', '2', '--resume', '--steps', String(LONG)), asNobody);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(trainedHere(resumed.stderr)).toBe(6);
    for (const id of ids) expect(rowsOf(out, id)).toBe(LONG);
    // The claim the stopped process could not remove was taken over at once (its process is gone).
    expect(claims(out)).toEqual([]);
  }, 300_000);
});

describe('segloss --version', () => {
  it('prints the package\'s version', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    for (const flag of ['--version', '-v']) {
      const r = await runCli([flag]);
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toBe(version);
    }
  });
});
