// comlink ships this adapter's types beside it as node-adapter.d.ts, which TypeScript does not
// pair with the .mjs file; this forwards to them.
declare module 'comlink/dist/esm/node-adapter.mjs' {
  import nodeEndpoint from 'comlink/dist/esm/node-adapter';
  export default nodeEndpoint;
}
