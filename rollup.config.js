// The library bundle: ESM, the kernels' wasm inlined (src/wasm/binaries.generated.ts), tfjs as
// peer dependencies left external. tfjs-core's gradient registrations are bundled on purpose: Node's
// ESM loader cannot load them from tfjs-core itself (see src/tfjs/core_gradients.ts).
import typescript from '@rollup/plugin-typescript';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import commonjs from '@rollup/plugin-commonjs';

const peer = ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-layers', '@tensorflow/tfjs'];
const dependencies = /^(comlink|commander|zod|vega|vega-lite|@resvg\/resvg-js)(\/|$)/;

export default {
  input: { index: 'src/index.ts', worker: 'src/workers/worker.ts', cli: 'src/cli/main.ts' },
  output: {
    dir: 'dist',
    format: 'es',
    sourcemap: true,
    // Chunks beside the entries: modules find dist/worker.js as ./worker.js wherever they land.
    chunkFileNames: '[name]-[hash].js',
  },
  external: (id) => peer.includes(id) || dependencies.test(id) || /^node:/.test(id),
  plugins: [
    nodeResolve({ extensions: ['.mjs', '.js', '.ts'] }),
    // tfjs-core's internals import seedrandom (CommonJS).
    commonjs(),
    typescript({ tsconfig: 'tsconfig.build.json', declaration: false, outDir: 'dist', sourceMap: true }),
  ],
};
