// How an app bundles segloss for the browser: resolve packages with the `browser` condition
// (segloss/browser, tfjs's browser builds) and convert tfjs's CommonJS dependencies.
// Don't bundle segloss's worker: copy node_modules/segloss/dist/browser/* to the app's static
// files (here ./segloss/) and point runSweep's workerUrl there.
import { nodeResolve } from '@rollup/plugin-node-resolve';
import commonjs from '@rollup/plugin-commonjs';

export default {
  input: 'main.js',
  output: { file: 'app.js', format: 'es', inlineDynamicImports: true },
  plugins: [nodeResolve({ browser: true }), commonjs()],
  onwarn: (warning, warn) => { if (warning.code !== 'THIS_IS_UNDEFINED' && warning.code !== 'EVAL') warn(warning); },
};
