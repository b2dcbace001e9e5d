// Bundles main.js into app.js as an app's bundler would: packages resolved with the `browser`
// condition (segloss/data → segloss's browser build, tfjs's browser builds), tfjs's CommonJS
// dependencies converted. tfjs-backend-wasm's .wasm files are not bundled: copy them to ./wasm/.
import { nodeResolve } from '@rollup/plugin-node-resolve';
import commonjs from '@rollup/plugin-commonjs';

export default {
  input: 'main.js',
  output: { file: 'app.js', format: 'es', inlineDynamicImports: true },
  plugins: [nodeResolve({ browser: true }), commonjs()],
  onwarn: (warning, warn) => { if (warning.code !== 'THIS_IS_UNDEFINED' && warning.code !== 'EVAL') warn(warning); },
};
