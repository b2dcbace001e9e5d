#!/usr/bin/env node
// Serves the demo page (build/web, built by `npm run build`) on localhost.
//
//   node scripts/serve-web.mjs [--port 8080] [--base /any/path/] [--no-isolation]
//
// By default with the cross-origin isolation headers (COOP: same-origin, COEP: require-corp), so
// that SharedArrayBuffer exists and tfjs's threaded wasm build may run on the page; --no-isolation
// serves without them (the page works either way). --base serves the page under a sub-path, to
// show that nothing in it assumes the server's root. Also imported by the browser tests.
import { createServer } from 'node:http';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import sirv from 'sirv';

const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/** Starts the server; resolves to { url, close() } once it listens. */
export async function serveDemo({ root = 'build/web', port = 8080, host = '127.0.0.1', base = '/', isolation = true } = {}) {
  if (!existsSync(`${root}/index.html`)) {
    throw new Error(`${root}/index.html not found: build the demo first (npm run build)`);
  }
  const prefix = `/${base.replace(/^\/+|\/+$/g, '')}/`.replace('//', '/');
  const files = sirv(root, {
    dev: true, // no caching: a rebuild shows at the next reload
    setHeaders: (res) => {
      if (isolation) for (const [k, v] of Object.entries(ISOLATION_HEADERS)) res.setHeader(k, v);
    },
  });
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === prefix.slice(0, -1)) {
      res.writeHead(301, { location: prefix }).end();
      return;
    }
    if (!url.pathname.startsWith(prefix)) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: the demo is at ${prefix}\n`);
      return;
    }
    req.url = `/${url.pathname.slice(prefix.length)}${url.search}`;
    files(req, res, () => res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n'));
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const address = server.address();
  return {
    url: `http://${host}:${address.port}${prefix}`,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  let args;
  try {
    ({ values: args } = parseArgs({
      options: { port: { type: 'string', default: '8080' }, base: { type: 'string', default: '/' }, 'no-isolation': { type: 'boolean' } },
    }));
  } catch (error) {
    console.error(`${error.message}\nusage: node scripts/serve-web.mjs [--port 8080] [--base /path/] [--no-isolation]`);
    process.exit(2);
  }
  const isolation = !args['no-isolation'];
  try {
    const { url } = await serveDemo({ port: Number(args.port), base: args.base, isolation });
    console.log(`segloss demo at ${url} (${isolation ? 'cross-origin isolated' : 'not cross-origin isolated'}); Ctrl-C stops it`);
  } catch (error) {
    console.error(error.message);
    process.exit(1);
  }
}
