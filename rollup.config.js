// Three builds, all ESM with the kernels' wasm inlined (src/wasm/binaries.generated.ts):
//
//  dist/            the Node library, CLI and worker_threads worker. tfjs is a peer dependency,
//                   left external. tfjs-core's gradient registrations are bundled on purpose: Node's
//                   ESM loader cannot load them from tfjs-core itself (see src/tfjs/core_gradients.ts).
//  dist/browser/    index.js, the browser library (tfjs and the other dependencies external, for the
//                   app's bundler), and worker.js, the sweep's module Web Worker, self-contained (tfjs
//                   bundled in) so that it loads from any URL with no bundler; tfjs-backend-wasm's
//                   .wasm files are copied beside it, where the worker looks for them.
//  build/web/       the demo page (web/): everything bundled, served by `npm run demo:web`; with its
//                   U-Net worker (web/unet_worker.ts: tfjs-layers and segloss/models bundled in) and
//                   its training threads' worker (train-replica-worker.js, src/parallel/).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import typescript from '@rollup/plugin-typescript';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import commonjs from '@rollup/plugin-commonjs';

const require = createRequire(import.meta.url);
const peer = ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-cpu', '@tensorflow/tfjs-layers', '@tensorflow/tfjs'];
const dependencies = /^(comlink|commander|zod|vega|vega-lite|@resvg\/resvg-js|fast-png|jpeg-js|nifti-reader-js|fflate|csv-parse|hyparquet-writer)(\/|$)/;
const external = (id) => peer.includes(id) || dependencies.test(id) || /^node:/.test(id);

const TFJS_WASM_FILES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'];
const tfjsWasmDir = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');

/** Emits files as assets of a build: tfjs-backend-wasm's binaries, the demo's page. */
function copy(files) {
  return {
    name: 'segloss-copy',
    buildStart() {
      for (const [fileName, path] of files) {
        this.addWatchFile(path);
        this.emitFile({ type: 'asset', fileName, source: readFileSync(path) });
      }
    },
  };
}

const ts = (outDir, tsconfig = 'tsconfig.build.json') => typescript({ tsconfig, declaration: false, outDir, sourceMap: true });

// Resolving for browsers: package.json `browser` fields; for tfjs, they drop the Node built-ins that
// its emscripten glue only requires behind a Node check.
// segloss/data's Node entry (folder paths, decode threads: node: imports) is its browser entry in
// browsers: code that reads a path only in Node (UNetTrainer, a sweep's U-Net run) bundles without it.
const browserData = {
  name: 'segloss-browser-data',
  resolveId(source, importer) {
    if (!importer || !/[\\/]src[\\/]/.test(importer) || !/(^|\/)data\/index\.js$/.test(source)) return null;
    return join(dirname(importer), source.replace(/index\.js$/, 'browser.ts'));
  },
};

const browserBundle = (outDir, tsconfig) => [
  browserData,
  nodeResolve({ browser: true, extensions: ['.mjs', '.js', '.ts'] }),
  commonjs(),
  ts(outDir, tsconfig),
];

const onwarn = (warning, warn) => {
  // tfjs's emscripten glue uses `this` at module level and eval-like constructs; harmless here.
  if (warning.code === 'THIS_IS_UNDEFINED' || warning.code === 'EVAL') return;
  warn(warning);
};

export default [
  {
    input: { index: 'src/index.ts', worker: 'src/workers/worker.ts', cli: 'src/cli/main.ts', models: 'src/models/index.ts', data: 'src/data/index.ts', 'data-worker': 'src/data/decode_worker.ts', 'train-replica-worker': 'src/parallel/replica_worker.ts', 'report-figure-worker': 'src/report/figure_worker.ts' },
    output: {
      dir: 'dist',
      format: 'es',
      sourcemap: true,
      // Chunks beside the entries: modules find dist/worker.js as ./worker.js wherever they land.
      chunkFileNames: '[name]-[hash].js',
    },
    external,
    plugins: [
      nodeResolve({ extensions: ['.mjs', '.js', '.ts'] }),
      // tfjs-core's internals import seedrandom (CommonJS).
      commonjs(),
      ts('dist'),
    ],
  },
  {
    input: { index: 'src/browser.ts' },
    output: { dir: 'dist/browser', format: 'es', sourcemap: true, inlineDynamicImports: true },
    // tfjs-core's gradients too are left to the app's bundler (it resolves their extensionless
    // imports), so that the app has one tfjs.
    external: (id) => external(id) || id.startsWith('@tensorflow/'),
    plugins: browserBundle('dist/browser'),
  },
  {
    // segloss/data for browsers: no folder paths (Node's), so no node: import.
    input: { data: 'src/data/browser.ts' },
    output: { dir: 'dist/browser', format: 'es', sourcemap: true, inlineDynamicImports: true },
    external: (id) => external(id) || id.startsWith('@tensorflow/'),
    plugins: browserBundle('dist/browser'),
  },
  {
    input: { worker: 'src/workers/worker.browser.ts' },
    // No source map: it would be 5 MB of tfjs's sources in the package, for a worker users don't debug.
    output: { dir: 'dist/browser', format: 'es', sourcemap: false, inlineDynamicImports: true },
    onwarn,
    plugins: [...browserBundle('dist/browser'), copy(TFJS_WASM_FILES.map((f) => [f, join(tfjsWasmDir, f)]))],
  },
  {
    input: {
      main: 'web/main.ts', worker: 'src/workers/worker.browser.ts', 'unet-worker': 'web/unet_worker.ts',
      'train-replica-worker': 'src/parallel/replica_worker.browser.ts',
    },
    output: { dir: 'build/web', format: 'es', sourcemap: true, chunkFileNames: '[name]-[hash].js' },
    // UNetTrainer's checkpoints import Node's file system, lazily; the page never calls them.
    external: (id) => /^node:/.test(id),
    onwarn,
    plugins: [
      ...browserBundle('build/web', 'tsconfig.web.json'),
      copy([...TFJS_WASM_FILES.map((f) => [f, join(tfjsWasmDir, f)]), ['index.html', 'web/index.html'], ['style.css', 'web/style.css']]),
    ],
  },
];
