// The library bundle: ESM, the kernels' wasm inlined (src/wasm/binaries.generated.ts), tfjs as
// peer dependencies left external. tfjs-core's gradient registrations are bundled on purpose: Node's
// ESM loader cannot load them from tfjs-core itself (see src/tfjs/core_gradients.ts).
import typescript from '@rollup/plugin-typescript';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import commonjs from '@rollup/plugin-commonjs';

const peer = ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-layers', '@tensorflow/tfjs'];

export default {
  input: { index: 'src/index.ts' },
  output: {
    dir: 'dist',
    format: 'es',
    sourcemap: true,
    chunkFileNames: 'chunks/[name]-[hash].js',
  },
  external: (id) => peer.includes(id) || /^node:/.test(id),
  plugins: [
    nodeResolve({ extensions: ['.mjs', '.js', '.ts'] }),
    // tfjs-core's internals import seedrandom (CommonJS).
    commonjs(),
    typescript({ tsconfig: 'tsconfig.build.json', declaration: false, outDir: 'dist', sourceMap: true }),
  ],
};
