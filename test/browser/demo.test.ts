/**
 * segloss in real headless Chromium: the loss ops give Node's numbers bit for bit (on the page's
 * main thread, where a cross-origin isolated page runs tfjs's threaded build on a shared memory),
 * a sweep in module Web Workers logs exactly what Node logs (on the lockstep engine, and on tfjs
 * ops with engine 'tfjs'), the sweep aborts and
 * resumes, a worker that cannot start fails its runs and nothing else, and the demo page's own
 * sweep and benchmark complete and draw. With and without the cross-origin isolation headers.
 * A screenshot of the page after its sweep goes to test-output/browser/.
 */
import { mkdirSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRunConfig, parseSweepSpec, planSweep, trainLanes, trainRun, type StepLog, type SweepSpec } from '../../src/index.js';
import { trainUNetRun } from '../../src/models/sweep_run.js';
import { lossCheck } from '../../web/loss_check.js';
import { useWasm } from '../helpers/wasm.js';
import { mulberry32 } from '../helpers/random.js';
import { launchChromium, openDemo, serve, type Served } from './chromium.js';

const SCREENSHOTS = 'test-output/browser';

/** A short grid over what changes the kernels a step runs: optimizer, batch norm, training loss. */
const SPEC: SweepSpec = {
  parameters: {
    optimizer: { values: [{ name: 'adam' }, { name: 'sgd' }] },
    batchNorm: { values: [false, true] },
    trainLoss: { values: ['cce', 'dicefg'] },
    foreground: { value: 0.95 },
    steps: { value: 120 },
    evalEvery: { value: 50 },
    seed: { values: [3] },
  },
};

/**
 * Every run's log, trained in this Node process: on the lockstep engine (each run alone in its
 * group: a run's lanes give the same bits in any group), or on tfjs ops (tfjs-backend-wasm,
 * segloss's simd kernels).
 */
async function nodeLogs(spec: SweepSpec, engine: 'lanes' | 'tfjs'): Promise<Record<string, StepLog[]>> {
  await useWasm('simd');
  const logs: Record<string, StepLog[]> = {};
  for (const run of planSweep(parseSweepSpec(spec))) {
    const rows: StepLog[] = [];
    if (engine === 'tfjs') {
      const it = trainRun(run.config);
      for (let next = it.next(); !next.done; next = it.next()) rows.push(next.value);
    } else {
      for (const step of trainLanes([run.config])) rows.push(step[0]!);
    }
    logs[run.id] = rows;
  }
  return logs;
}

/** runSweep of the browser SDK, on the page, with 2 module Web Workers; rows per run id. */
function browserSweep(page: Page, spec: SweepSpec, engine: 'lanes' | 'tfjs' = 'lanes') {
  return page.evaluate(async ([spec, engine]) => {
    const { runSweep } = (globalThis as any).segloss;
    const result = await runSweep(spec, { workerUrl: new URL('./worker.js', location.href), workers: 2, engine });
    return {
      failed: result.failed,
      rows: Object.fromEntries(result.plan.map((r: { id: string }) => [r.id, result.store.rowsOf(r.id)])),
      samples: Object.fromEntries(result.plan.map((r: { id: string }) => [r.id, result.store.inspect(r.id).summary?.samples ?? null])),
    };
  }, [spec, engine] as const);
}

const LOSS_CASES = [
  { shape: [2, 5, 7, 2], seed: 1 },  // C = 2: the sigmoid path; 70 pixels, not a multiple of 4
  { shape: [1, 6, 5, 4], seed: 2 },  // C = 4: the tile path
  { shape: [1, 3, 3, 3], seed: 3 },  // C = 3: the scalar path
];

function lossInputs(shape: number[], seed: number) {
  const rng = mulberry32(seed);
  const pixels = shape[0] * shape[1] * shape[2];
  return {
    logits: Array.from({ length: pixels * shape[3] }, () => Math.fround((rng() - 0.5) * 12)),
    labels: Array.from({ length: pixels }, () => Math.floor(rng() * shape[3])),
  };
}

let reference: Record<string, StepLog[]>;
let tfjsReference: Record<string, StepLog[]>;
let nodeLosses: Awaited<ReturnType<typeof lossCheck>>[];
let browser: Browser;

beforeAll(async () => {
  browser = await launchChromium();
  reference = await nodeLogs(SPEC, 'lanes');
  tfjsReference = await nodeLogs(SPEC, 'tfjs');
  nodeLosses = [];
  for (const c of LOSS_CASES) {
    const { logits, labels } = lossInputs(c.shape, c.seed);
    nodeLosses.push(await lossCheck(c.shape, logits, labels));
  }
  mkdirSync(SCREENSHOTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
});

describe.each([
  { isolation: true, name: 'cross-origin isolated (COOP/COEP)' },
  { isolation: false, name: 'not isolated (no COOP/COEP headers)' },
])('Chromium, $name', ({ isolation }) => {
  let server: Served;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    server = await serve(isolation);
    ({ page, errors } = await openDemo(browser, server.url));
  });

  afterAll(async () => {
    await page?.close();
    await server?.close();
  });

  it('loads from a sub-path, with the SIMD kernels, isolated exactly when the headers are sent', async () => {
    expect(server.url).toMatch(/\/nested\/segloss-demo\/$/);
    const env = await page.evaluate(() => ({
      isolated: globalThis.crossOriginIsolated,
      variant: (globalThis as any).segloss.kernelVariant(),
      backend: (globalThis as any).seglossDemo.tf.getBackend(),
      shared: (globalThis as any).seglossDemo.sharedMemory(),
    }));
    // Isolated, tfjs picks its threaded build, whose memory is shared: the simd-shared kernels run.
    expect(env).toEqual({ isolated: isolation, variant: 'simd', backend: 'wasm', shared: isolation });
    expect(await page.textContent('#env')).toContain(isolation ? 'cross-origin isolated: yes' : 'cross-origin isolated: no');
  });

  it('computes every loss and its gradient bit-identically to Node', async () => {
    for (const [k, c] of LOSS_CASES.entries()) {
      const { logits, labels } = lossInputs(c.shape, c.seed);
      const inBrowser = await page.evaluate(([shape, logits, labels]) =>
        (globalThis as any).seglossDemo.lossCheck(shape, logits, labels), [c.shape, logits, labels] as const);
      expect(Object.keys(inBrowser)).toEqual(Object.keys(nodeLosses[k]));
      expect(inBrowser).toEqual(nodeLosses[k]);
    }
  });

  it('runs the lockstep engine on the page\'s main thread (compiled by prepareLaneEngine()), as Node does', async () => {
    const config = { steps: 30, evalEvery: 10, validationImages: 4, batchNorm: true, trainLoss: 'dicefg', seed: 4 };
    const rows = await page.evaluate(async (input) => {
      const { parseRunConfig, prepareLaneEngine, trainLanes } = (globalThis as any).segloss;
      await prepareLaneEngine();
      const out: unknown[] = [];
      for (const step of trainLanes([parseRunConfig(input)])) out.push(step[0]);
      return out;
    }, config);
    const here: StepLog[] = [];
    for (const step of trainLanes([parseRunConfig(config as never)])) here.push(step[0]!);
    expect(rows).toHaveLength(30);
    expect(rows).toEqual(here);
  });

  it.each([
    ['the lockstep engine', 'lanes'],
    ['tfjs ops (trainRun)', 'tfjs'],
  ] as const)('runs a sweep in module Web Workers on %s whose per-step logs equal Node\'s, bit for bit', async (_, engine) => {
    const { failed, rows } = await browserSweep(page, SPEC, engine);
    const expected = engine === 'lanes' ? reference : tfjsReference;
    expect(failed).toEqual([]);
    expect(Object.keys(rows)).toEqual(Object.keys(expected));
    for (const id of Object.keys(expected)) {
      expect(rows[id].length, id).toBe(120);
      expect(rows[id], id).toEqual(expected[id]);
    }
  });

  it('runs U-Net runs (issue #22) in the sweep\'s Web Workers, beside seed-net runs, with Node\'s losses and evaluations bit for bit', async () => {
    const spec: SweepSpec = {
      parameters: {
        model: { values: [{ name: 'unet2d', filters: [4, 8] }, { name: 'seed' }] },
        trainLoss: { values: ['cce', 'dice-ce'] },
        loggedLosses: { value: ['cce', 'dice'] },
        steps: { value: 12 },
        evalEvery: { value: 5 },
        seed: { values: [2] },
      },
    };
    const { failed, rows, samples } = await browserSweep(page, spec);
    expect(failed).toEqual([]);
    const plan = planSweep(parseSweepSpec(spec));
    expect(Object.keys(rows)).toEqual(plan.map((r) => r.id));
    await useWasm('simd');
    // Gradient norms as the log keeps them: the training loss's every step, the other's on evaluation steps (gradNormEvery's default).
    const norms = (r: StepLog) => Object.fromEntries((['cce', 'dice'] as const).map((k) => [k, r.gradNorms[k] ?? null]).filter(([, v]) => v != null && !Number.isNaN(v)));
    const seen = (r: StepLog) => ({ step: r.step, losses: r.losses, eval: r.eval, gradNorms: norms(r) });
    for (const run of plan.filter((r) => r.config.model)) {
      const here: StepLog[] = [];
      const it = trainUNetRun(run.config);
      let next = await it.next();
      for (; !next.done; next = await it.next()) here.push(next.value);
      expect(rows[run.id].map(seen), run.id).toEqual(here.map(seen));
      expect(Object.keys(here[5].gradNorms)).toHaveLength(run.config.loggedLosses.length); // an evaluation step: every logged loss's norm
      // The validation pictures the report's overlays draw: the same predictions in the browser.
      expect(samples[run.id], run.id).toEqual(next.value.samples);
      expect(next.value.samples!.count).toBe(3);
    }
  });

  it('aborts a sweep and resumes it from the same store, keeping complete runs untouched', async () => {
    const outcome = await page.evaluate(async (spec) => {
      const { runSweep, MemorySweepStore } = (globalThis as any).segloss;
      const workerUrl = new URL('./worker.js', location.href);
      const store = new MemorySweepStore();
      const controller = new AbortController();
      const first = await runSweep(spec, {
        workerUrl, workers: 1, store, signal: controller.signal,
        // Stop once the second run has started: the first is complete, the second partial.
        onProgress: (p: { completedRuns: number }) => { if (p.completedRuns >= 1) controller.abort(); },
      });
      const kept = Object.fromEntries(first.runs.map((r: { id: string }) => [r.id, JSON.stringify(store.rowsOf(r.id))]));
      const second = await runSweep(spec, { workerUrl, workers: 2, store, resume: true });
      const again = Object.fromEntries(first.runs.map((r: { id: string }) => [r.id, JSON.stringify(store.rowsOf(r.id))]));
      let refused = '';
      try { await runSweep(spec, { workerUrl, store }); } catch (e) { refused = (e as Error).message; }
      return {
        firstAborted: first.aborted, firstComplete: first.runs.length, kept, again,
        resumed: second.resumed, secondComplete: second.runs.length, secondAborted: second.aborted,
        rows: Object.fromEntries(second.plan.map((r: { id: string }) => [r.id, store.rowsOf(r.id)])),
        refused,
      };
    }, SPEC);
    expect(outcome.firstAborted).toBe(true);
    expect(outcome.firstComplete).toBeGreaterThanOrEqual(1);
    expect(outcome.firstComplete).toBeLessThan(8);
    expect(outcome.resumed).toBe(outcome.firstComplete);
    expect(outcome.again).toEqual(outcome.kept);
    expect(outcome.secondAborted).toBe(false);
    expect(outcome.secondComplete).toBe(8);
    expect(outcome.rows).toEqual(reference);
    expect(outcome.refused).toMatch(/already holds a sweep/);
  });

  it('records runs as failed, with the error, when their worker cannot start', async () => {
    const result = await page.evaluate(async () => {
      const { runSweep } = (globalThis as any).segloss;
      const spec = { parameters: { steps: { value: 5 }, trainLoss: { values: ['cce', 'dice'] } } };
      const r = await runSweep(spec, { workerUrl: new URL('./no-such-worker.js', location.href), workers: 1 });
      return { complete: r.runs.length, failed: r.failed, storeFailed: r.store.failed().length };
    });
    expect(result.complete).toBe(0);
    expect(result.failed.map((f: { id: string }) => f.id)).toEqual(['adam-bn0-95fg-cce-run0', 'adam-bn0-95fg-dice-run0']);
    for (const f of result.failed) expect(f.error).toMatch(/^WorkerDied: worker died during the run/);
    expect(result.storeFailed).toBe(2);
    // The page itself logs the 404 of the missing script; nothing else may have gone wrong.
    errors.splice(0, errors.length, ...errors.filter((e) => !/404|no-such-worker/.test(e)));
  });

  it('raised no page, console or worker error', () => {
    expect(errors).toEqual([]);
  });
});

describe('the demo page', () => {
  let server: Served;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    server = await serve(true);
    ({ page, errors } = await openDemo(browser, server.url));
  });

  afterAll(async () => {
    await page?.close();
    await server?.close();
  });

  it('runs the quick preset from its form, with live progress, and draws the report\'s figures', async () => {
    await page.selectOption('#preset', 'quick');
    await page.fill('#steps', '501');
    await page.fill('#workers', '2');
    await page.click('#run');
    // Live: a figure is drawn and progress moves before the sweep is done.
    await page.waitForSelector('#figures svg', { timeout: 60_000 });
    const midway = await page.evaluate(() => (globalThis as any).seglossDemo.state.done);
    expect(midway).toBe(false);
    await page.waitForFunction(() => (globalThis as any).seglossDemo.state.done, null, { timeout: 120_000 });
    expect(await page.textContent('#progress-text')).toBe('Done: 6 of 6 runs complete.');
    expect(await page.textContent('#error')).toBe('');
    const statuses = await page.$$eval('#runs-table tbody tr td:last-child', (cells) => cells.map((c) => c.textContent));
    expect(statuses).toEqual(Array(6).fill('completed'));
    // Two figures (BN off, on), each with the seed's title and one column per training loss.
    const figures = await page.$$eval('#figures figure', (fs) => fs.map((f) => ({
      id: f.id, text: Array.from(f.querySelectorAll('svg text')).map((t) => t.textContent).join('|'),
      paths: f.querySelectorAll('svg path').length,
    })));
    expect(figures.map((f) => f.id)).toEqual(['fig-adam-bn0-95fg-run0', 'fig-adam-bn1-95fg-run0']);
    for (const f of figures) {
      expect(f.text).toContain('95% Foreground (run 0)');
      for (const column of ['CCE', 'DICEFG', 'DICE']) expect(f.text.split('|')).toContain(column);
      expect(f.paths).toBeGreaterThan(12);
    }
    expect(await page.$$eval('#verdicts tbody tr', (rows) => rows.length)).toBe(6);
    // The results can be downloaded: summary.csv, and the whole store as JSON.
    const downloads = await page.evaluate(async () => {
      const text = async (id: string) => (await fetch((document.getElementById(id) as HTMLAnchorElement).href)).text();
      return { csv: await text('dl-csv'), json: JSON.parse(await text('dl-json')) };
    });
    expect(downloads.csv.trim().split('\n')).toHaveLength(7);
    expect(downloads.csv).toMatch(/^id,optimizer,batchNorm,foreground,invertInput,trainLoss,seed,status/);
    expect(downloads.json.format).toBe('segloss-memory-sweep-store');
    expect(Object.values(downloads.json.rows as Record<string, unknown[]>).map((rows) => rows.length)).toEqual(Array(6).fill(501));
    await page.screenshot({ path: `${SCREENSHOTS}/demo-sweep.png`, fullPage: true });
  });

  it('stops a sweep from its Stop button and leaves the form ready for the next', async () => {
    await page.fill('#steps', '20001');
    await page.click('#run');
    await page.waitForSelector('#figures svg', { timeout: 60_000 });
    expect(await page.isEnabled('#stop')).toBe(true);
    expect(await page.isDisabled('#run')).toBe(true);
    await page.click('#stop');
    await page.waitForFunction(() => (globalThis as any).seglossDemo.state.done, null, { timeout: 60_000 });
    expect(await page.textContent('#progress-text')).toMatch(/^Stopped: 0 of 6 runs complete\.$/);
    expect(await page.isEnabled('#run')).toBe(true);
    expect(await page.isDisabled('#stop')).toBe(true);
    expect(await page.textContent('#error')).toBe('');
  });

  it('shows a clear error for a bad grid and loses nothing on the page', async () => {
    await page.selectOption('#preset', 'custom');
    await page.fill('#spec', '{"parameters": {"batchSize": {"value": -1}}}');
    await page.click('#run');
    await page.waitForSelector('#error:not([hidden])');
    expect(await page.textContent('#error')).toMatch(/batchSize/);
    // The stopped sweep's figures (its partial runs) are still there.
    expect(await page.locator('#figures figure').count()).toBeGreaterThanOrEqual(1);
  });

  it('saves a stopped sweep in the browser and resumes it after a reload', async () => {
    await page.selectOption('#preset', 'quick');
    await page.fill('#steps', '301');
    await page.fill('#workers', '1');
    await page.click('#run');
    await page.waitForFunction(() => (globalThis as any).seglossDemo.state.store?.runLogs().length >= 2, null, { timeout: 60_000 });
    await page.click('#stop');
    await page.waitForFunction(() => (globalThis as any).seglossDemo.state.done, null, { timeout: 60_000 });
    const kept = await page.evaluate(() => (globalThis as any).seglossDemo.state.store.runLogs().length);
    expect(kept).toBeGreaterThanOrEqual(2);
    expect(kept).toBeLessThan(6);
    await page.reload();
    await page.waitForSelector('body[data-ready=true]', { timeout: 60_000 });
    expect(await page.isVisible('#saved')).toBe(true);
    expect(await page.textContent('#saved-text')).toBe(`A sweep saved in this browser: ${kept} of 6 runs complete.`);
    const savedIds = await page.evaluate(() => JSON.parse(localStorage.getItem('segloss-demo-sweep')!).store.summaries.map((s: { id: string }) => s.id));
    expect(savedIds).toHaveLength(kept);
    await page.evaluate(() => { // record which runs the resumed sweep claims (trains)
      const proto = (globalThis as any).segloss.MemorySweepStore.prototype;
      const claim = proto.claim;
      (globalThis as any).claimed = [];
      proto.claim = function (id: string) { (globalThis as any).claimed.push(id); return claim.call(this, id); };
    });
    await page.click('#resume');
    await page.waitForFunction(() => (globalThis as any).seglossDemo.state.done, null, { timeout: 120_000 });
    const claimed = await page.evaluate(() => (globalThis as any).claimed as string[]);
    expect(claimed).toHaveLength(6 - kept);
    for (const id of savedIds) expect(claimed).not.toContain(id);
    expect(await page.textContent('#progress-text')).toBe('Done: 6 of 6 runs complete.');
    expect(await page.$$eval('#runs-table tbody tr td:last-child', (cells) => cells.map((c) => c.textContent))).toEqual(Array(6).fill('completed'));
    // Finished: nothing is left to resume.
    expect(await page.evaluate(() => localStorage.getItem('segloss-demo-sweep'))).toBeNull();
    expect(await page.isHidden('#saved')).toBe(true);
  });

  it('runs the puzzle preset and shows the puzzle\'s verdicts and figure beside the runs\' verdicts', async () => {
    await page.selectOption('#preset', 'puzzle');
    await page.fill('#steps', '2101');
    await page.fill('#runs', '1');
    await page.fill('#workers', '2');
    await page.click('#run');
    await page.waitForFunction(() => (globalThis as any).seglossDemo.state.done, null, { timeout: 120_000 });
    expect(await page.textContent('#progress-text')).toBe('Done: 8 of 8 runs complete.');
    expect(await page.$$eval('#figures figure', (fs) => fs.map((f) => f.id))).toContain('fig-adam-bn0-95fg-inv-run0');
    const items = await page.$$eval('#verdicts ul.puzzle li', (li) => li.map((l) => l.textContent!));
    expect(items).toHaveLength(4);
    for (const item of items) expect(item).toMatch(/^trained with (cce|dice), (cce|dice)'s gradient norm \(median from step 2000\): .* → (intensity|fraction|no gap|other)$/);
    expect(await page.locator('#fig-puzzle svg').count()).toBe(1);
    // Observation 5 is in the seed's setting only at 10,001 steps: not covered here, so not listed.
    expect(await page.locator('#verdicts table.observations').count()).toBe(0);
  });

  it('runs a U-Net grid from the form and shows each cell\'s validation pictures with the predictions', async () => {
    await page.selectOption('#preset', 'custom');
    await page.fill('#spec', JSON.stringify({ parameters: {
      model: { value: { name: 'unet2d', filters: [4, 8] } }, data: { value: { name: 'synthetic', size: 16, trainImages: 4, valImages: 2 } },
      trainLoss: { values: ['cce', 'dice'] }, steps: { value: 4 }, evalEvery: { value: 2 }, seed: { value: 0 },
    } }));
    await page.fill('#workers', '2');
    await page.click('#run');
    await page.waitForFunction(() => (globalThis as any).seglossDemo.state.done, null, { timeout: 120_000 });
    expect(await page.textContent('#progress-text')).toBe('Done: 2 of 2 runs complete.');
    const overlays = await page.$$eval('#verdicts .overlays figure', (fs) => fs.map((f) => [f.querySelector('figcaption')!.textContent, (f.querySelector('img') as HTMLImageElement).naturalWidth]));
    // Two 16² validation images, each zoomed to 96 px, image and prediction side by side.
    expect(overlays).toEqual([['unet2d-f4.8-bn1-syn16-adam-5fg-cce-run0', 2 * (2 * 96 + 4) + 8], ['unet2d-f4.8-bn1-syn16-adam-5fg-dice-run0', 2 * (2 * 96 + 4) + 8]]);
  });

  it('runs the losses preset: the zoo\'s runs on tfjs ops in the workers beside the lanes', async () => {
    await page.selectOption('#preset', 'losses');
    await page.fill('#steps', '5');
    await page.fill('#runs', '1');
    await page.click('#run');
    await page.waitForFunction(() => (globalThis as any).seglossDemo.state.done, null, { timeout: 120_000 });
    expect(await page.textContent('#progress-text')).toBe('Done: 16 of 16 runs complete.');
    expect(await page.textContent('#error')).toBe('');
    const ids = await page.$$eval('#runs-table tbody tr td:first-child', (cells) => cells.map((c) => c.textContent));
    expect(ids).toEqual(expect.arrayContaining(['adam-bn0-95fg-tversky-run0', 'adam-bn1-95fg-lovasz-run0', 'adam-bn0-95fg-focal-run0']));
  });

  it('says so when the browser\'s storage is full, and finishes the sweep in memory', async () => {
    await page.evaluate(() => {
      Storage.prototype.setItem = () => { throw new DOMException('the quota has been exceeded', 'QuotaExceededError'); };
    });
    await page.selectOption('#preset', 'quick');
    await page.fill('#steps', '201');
    await page.fill('#workers', '2');
    await page.click('#run');
    await page.waitForSelector('#save-warning:not([hidden])', { timeout: 60_000 });
    expect(await page.textContent('#save-warning')).toMatch(
      /^This sweep could not be saved in the browser \(QuotaExceededError: the quota has been exceeded\)\. It goes on in memory/);
    await page.waitForFunction(() => (globalThis as any).seglossDemo.state.done, null, { timeout: 120_000 });
    expect(await page.textContent('#progress-text')).toBe('Done: 6 of 6 runs complete.');
    expect(await page.textContent('#error')).toBe('');
    const json = await page.evaluate(async () => JSON.parse(await (await fetch((document.getElementById('dl-json') as HTMLAnchorElement).href)).text()));
    expect(Object.values(json.rows as Record<string, unknown[]>).map((rows) => rows.length)).toEqual(Array(6).fill(201));
    await page.reload(); // the real setItem again
    await page.waitForSelector('body[data-ready=true]', { timeout: 60_000 });
  });

  it('benchmarks the fused kernels against tfjs ops in a worker and shows the ratios', async () => {
    await page.click('#bench');
    await page.waitForSelector('#bench-table:not([hidden])', { timeout: 150_000 });
    const groups = await page.$$eval('#bench-table tbody tr.group', (trs) => trs.map((tr) => tr.textContent));
    expect(groups).toEqual(['[8,128,128,2] (0.26 M elements)', '[4,128,128,4] (0.26 M elements)']);
    const rows = await page.$$eval('#bench-table tbody tr:not(.group)', (trs) => trs.map((tr) => Array.from((tr as HTMLTableRowElement).cells).map((c) => c.textContent ?? '')));
    expect(rows.length).toBe(2 * 11);
    for (const row of rows) {
      expect(Number(row[1])).toBeGreaterThan(0);
      expect(Number(row[2])).toBeGreaterThan(0);
      expect(row[3] === 'baseline' || /^\d+(\.\d)?×$/.test(row[3])).toBe(true);
    }
    const fused = rows.filter((r) => r[0].startsWith('CCE  segloss fused (exact), simd'));
    expect(fused.length).toBe(2);
    expect(await page.textContent('#bench-status')).toMatch(/^done/);
    await page.screenshot({ path: `${SCREENSHOTS}/demo-benchmark.png`, fullPage: true });
  });

  it('raised no page, console or worker error', () => {
    expect(errors).toEqual([]);
  });
});
