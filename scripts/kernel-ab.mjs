// Two (or more) builds of the loss kernels, side by side in one process, on one memory: how the
// assembly/ code of a change compares with the code before it, without tfjs around the kernels.
//
//   cp build/segloss-simd.wasm /tmp/before.wasm     # before the change (npm run asbuild first)
//   npm run asbuild                                 # after it
//   node scripts/kernel-ab.mjs /tmp/before.wasm build/segloss-simd.wasm        # speed
//   node scripts/kernel-ab.mjs --bits /tmp/before.wasm build/segloss-simd.wasm # same bits?
//
// Speed: forward + backward of each loss kernel (the seed's CCE and five losses, the loss engine's
// Dice, square Dice and CE), Melem/s over the logits, median of REPS (default 21) calls per build,
// the builds' calls interleaved so that the machine's drift hits both; the last column is B / A.
// Between runs of the same build a cell moves by up to ±5 %. ONLY=regex picks rows.
// --bits: every C = 2 and sigmoid path of the loss kernels (seed CCE, five losses, the engine's
// statistics and gradient with and without a pixel term, ignored pixels, both label kinds) on
// 1,027 pixels with extreme logits (±1e4, ±3e38, ±0, 88, …): the outputs of A and B byte for byte.
// Works for the scalar builds too. The calls follow the kernels' signatures in src/wasm/module.ts.
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const bits = args[0] === '--bits';
const files = bits ? args.slice(1) : args;
if (files.length < (bits ? 2 : 1)) {
  console.error('usage: node scripts/kernel-ab.mjs [--bits] A.wasm B.wasm [more.wasm …]');
  process.exit(2);
}
const memory = new WebAssembly.Memory({ initial: 4096 }); // 256 MiB
const builds = files.map((f) => new WebAssembly.Instance(new WebAssembly.Module(readFileSync(f)), { env: { memory } }).exports);

const INDEX = 1;
const ONE_HOT = 0;
const REGION_ON = 1;
const REGION_SQUARES = 2;
let top = 1 << 20;
const alloc = (bytes) => { const at = top; top += Math.ceil(bytes / 64) * 64 + 64; return at; };
const f32 = (at, n) => new Float32Array(memory.buffer, at, n);
function rng(seed) { let s = seed >>> 0; return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32); }

/** Buffers for P pixels of C classes: logits, index and one-hot labels, outputs, scratch. */
function setup(P, C, logit) {
  top = 1 << 20;
  const r = rng(7);
  const b = {
    P, C, logits: alloc(P * C * 4), labels: alloc(P * 4), oneHot: alloc(P * C * 4), grad: alloc(P * C * 4),
    probs: alloc(P * C * 4), out: alloc(1 << 16), scratch: alloc(1 << 16), weights: alloc(64 + 16 * C * 8),
  };
  const z = f32(b.logits, P * C);
  for (let i = 0; i < z.length; i++) z[i] = logit(i, r);
  const l = new Int32Array(memory.buffer, b.labels, P);
  for (let i = 0; i < P; i++) l[i] = Math.floor(r() * C);
  const y = f32(b.oneHot, P * C);
  for (let i = 0; i < P; i++) y[i * C + l[i]] = 1;
  f32(b.weights, C).fill(1);
  return b;
}

// Scratch layout of the engine's calls (as src/kernels/SeglossRegionLosses.ts lays it out).
const statsScratch = (C, paramCount) => {
  const offset = Math.ceil(paramCount / 2) * 8;
  return [offset, offset + Math.ceil(((C * 7 + 4) * 4) / 16) * 16];
};
const gradScratch = (C, paramCount) => {
  const offset = Math.ceil(paramCount / 2) * 8;
  return [offset, offset + Math.ceil((C * 6 * 4) / 16) * 16];
};
/** The pixel term's parameters: w [C], a [C], γ, s, hasAlpha, hasWeights. */
const writeParams = (b, values) => { f32(b.scratch, values.length).set(values); return values.length; };

function engine(k, b, { labels = b.labels, kind = INDEX, act = 0, squares = false, pixel = 0, ignore = false, params = [] } = {}) {
  const n = writeParams(b, params);
  const [so, ss] = statsScratch(b.C, n);
  const region = REGION_ON | (squares ? REGION_SQUARES : 0);
  k.region_stats(labels, kind, b.logits, b.probs, act, 1, b.P, b.C, ignore ? 1 : 0, 1, region, b.out, pixel, 0, b.scratch, 0,
    b.scratch + so, b.scratch + ss, 0, 1, 0);
  const coefs = b.scratch + 32768;
  new Float64Array(memory.buffer, coefs, b.C * 3).set(Array.from({ length: b.C * 3 }, (_, j) => 0.01 * (j - 4)));
  const [go, gs] = gradScratch(b.C, n);
  k.region_grad(labels, kind, b.logits, b.probs, b.grad, act, 1, b.P, b.C, ignore ? 1 : 0, 1, REGION_ON, coefs, pixel, 0,
    b.scratch, 0.01, 0, b.scratch + go, b.scratch + gs, 0);
}

function engineCe(k, b, { labels = b.labels, kind = INDEX, act = 0, pixel = 1, ignore = false } = {}) {
  const n = writeParams(b, [...new Array(2 * b.C).fill(1), 2, 0, 0, 0]);
  const [so, ss] = statsScratch(b.C, n);
  k.region_stats(labels, kind, b.logits, 0, act, 1, b.P, b.C, ignore ? 1 : 0, 1, 0, b.out, pixel, 0, b.scratch, 0,
    b.scratch + so, b.scratch + ss, b.grad, 1 / b.P, 0);
}

const seedCce = (clip) => (k, b, labels = b.labels, kind = INDEX) => {
  f32(b.out, 1)[0] = k.softmax_cce_fwd_bwd(labels, kind, b.logits, b.grad, b.out + 64, b.P, b.C, b.weights, -1, clip, 1e-7, 1 / b.P, b.weights + 64);
};

function seedFive(k, b, labels = b.labels, kind = INDEX) {
  k.seg_losses_fwd(labels, kind, b.logits, b.P, b.C, 1e-7, b.scratch, b.out, b.out + 4096, b.scratch + 8192);
  const dy = b.scratch + 60000;
  f32(dy, 5).set([0.3, 0.1, 0.2, 0.3, 0.1]);
  k.seg_losses_bwd(labels, kind, b.logits, b.grad, b.P, b.C, 1e-7, b.out, dy, b.scratch + 4096, b.scratch + 8192);
}

if (bits) {
  const special = [0, -0, 1e-30, -1e-30, 80, -80, 100, -100, 1e4, -1e4, 0.5, -0.5, 20, -20, 88, -88, 3e38, -3e38];
  const b = setup(1027, 2, (i, r) => (i < 2 * special.length ? special[(i * 7) % special.length] : (r() - 0.5) * (r() < 0.1 ? 200 : 12)));
  const cases = {};
  for (const [kind, labels] of [[INDEX, b.labels], [ONE_HOT, b.oneHot]]) {
    cases[`seed CCE exact, labels ${kind}`] = (k) => seedCce(0)(k, b, labels, kind);
    cases[`seed CCE clip, labels ${kind}`] = (k) => seedCce(1)(k, b, labels, kind);
    cases[`seed five losses, labels ${kind}`] = (k) => seedFive(k, b, labels, kind);
    for (const ignore of [false, true]) {
      const params = [...new Array(4).fill(1), 2, 0.1, 1, 0];
      for (const [act, pixel] of [[0, 0], [0, 1], [0, 3], [1, 0], [1, 2], [1, 4]]) {
        const what = `act ${act}, pixel ${pixel}, labels ${kind}, ignore ${ignore}`;
        cases[`engine, ${what}`] = (k) => engine(k, b, { labels, kind, act, squares: true, pixel, ignore, params });
        if (pixel) cases[`engine pixel term alone, ${what}`] = (k) => engineCe(k, b, { labels, kind, act, pixel, ignore });
      }
    }
  }
  const regions = [[b.out, 1 << 16], [b.grad, b.P * 8], [b.probs, b.P * 8]];
  const snapshot = () => regions.map(([at, n]) => new Uint8Array(memory.buffer, at, n).slice());
  const clear = () => regions.forEach(([at, n]) => new Uint8Array(memory.buffer, at, n).fill(0));
  let differ = 0;
  for (const [name, run] of Object.entries(cases)) {
    const outs = builds.map((k) => { clear(); run(k); return snapshot(); });
    for (let j = 1; j < outs.length; j++) {
      const where = outs[0].map((x, r) => x.findIndex((v, i) => v !== outs[j][r][i]));
      if (where.some((i) => i >= 0)) { differ++; console.log(`differs: ${name}, build ${j} (first byte of out/grad/probs: ${where})`); }
    }
  }
  console.log(`${Object.keys(cases).length} cases, ${differ} differ`);
  process.exit(differ ? 1 : 0);
}

const SHAPES = [[8, 128, 128, 2], [8, 128, 128, 3], [8, 128, 128, 4], [2, 48 * 48, 48, 4], [2, 256, 256, 8]];
const reps = Number(process.env.REPS ?? 21);
const only = process.env.ONLY ? new RegExp(process.env.ONLY) : null;
const works = {
  'seed CCE exact': { run: seedCce(0), needs: 'softmax_cce_fwd_bwd' },
  'seed CCE clip': { run: seedCce(1), needs: 'softmax_cce_fwd_bwd' },
  'seed five losses': { run: seedFive, needs: 'seg_losses_fwd' },
  'engine Dice': { run: (k, b) => engine(k, b), needs: 'region_stats' },
  'engine Dice, square': { run: (k, b) => engine(k, b, { squares: true }), needs: 'region_stats' },
  'engine CE': { run: (k, b) => engineCe(k, b), needs: 'region_stats' },
};
for (const [N, H, W, C] of SHAPES) {
  const b = setup(N * H * W, C, (i, r) => (r() + r() + r() - 1.5) * 4);
  for (const [name, { run, needs }] of Object.entries(works)) {
    if (only && !only.test(name)) continue;
    const times = builds.map(() => []);
    for (let rep = 0; rep < reps; rep++) {
      builds.forEach((k, j) => {
        if (!k[needs]) return;
        const t0 = performance.now();
        run(k, b);
        times[j].push(performance.now() - t0);
      });
    }
    const rate = times.map((t) => (t.length ? (b.P * C) / t.sort((x, y) => x - y)[t.length >> 1] / 1e3 : NaN));
    const ratio = builds.length > 1 ? `   B/A ${(rate[1] / rate[0]).toFixed(3)}` : '';
    console.log(`[${N},${H},${W},${C}] ${name.padEnd(20)} ${rate.map((m) => m.toFixed(0).padStart(5)).join(' ')} Melem/s${ratio}`);
  }
}
