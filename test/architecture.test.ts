/**
 * The layers of src/ import only what docs/architecture.md's table lets them ("The layers of src/
 * and what each may import"): an import between layers that the table does not list fails here,
 * naming the file, so the table stays the truth and a new dependency is a decision made there.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(__dirname, '..');
const src = join(root, 'src');

/** The table: layer → what it may import. */
function allowed(): Map<string, Set<string>> {
  const doc = readFileSync(join(root, 'docs', 'architecture.md'), 'utf8');
  const table = doc.split('## The layers of src/ and what each may import')[1];
  const rows = new Map<string, Set<string>>();
  for (const line of table.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    const layer = /^`([^`]+)`$/.exec(cells[1] ?? '')?.[1];
    if (!layer) continue;
    rows.set(layer, new Set([...(cells[3] ?? '').matchAll(/`([^`]+)`/g)].map((m) => m[1])));
  }
  return rows;
}

/** Every .ts file under `dir`. */
const sources = (dir: string): string[] => readdirSync(dir, { withFileTypes: true })
  .flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));

const layerOf = (path: string) => relative(src, path).split('/')[0].replace(/\.js$/, '.ts');

/** Each import of a file that leaves its layer: the layer or tfjs package it reaches. */
function importsOf(file: string, text = readFileSync(file, 'utf8')): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)) {
    const target = m[1] ?? m[2];
    if (target.startsWith('.')) {
      const layer = layerOf(resolve(dirname(file), target));
      if (layer !== layerOf(file)) out.push(layer);
    } else if (target.startsWith('@tensorflow/')) {
      out.push(target.split('/').slice(0, 2).join('/'));
    }
  }
  return out;
}

describe('the layers of src/', () => {
  const table = allowed();

  it('has a row in docs/architecture.md for every layer', () => {
    const layers = [...new Set(sources(src).map(layerOf))].sort();
    expect(layers.filter((l) => !table.has(l))).toEqual([]);
    expect(table.size).toBeGreaterThan(15);
  });

  it('imports across layers only what the table lists', () => {
    expect(sources(src).flatMap((file) => unlisted(file))).toEqual([]);
  });

  it('names a file whose import the table does not list (the check can fail)', () => {
    const file = join(src, 'losses', 'example.ts');
    const text = "import { SweepStore } from '../sdk/store.js';\nimport type { Tensor } from '@tensorflow/tfjs-core';\nimport { wasm } from '../wasm/module.js';\n";
    expect(unlisted(file, text)).toEqual(['src/losses/example.ts imports sdk, which docs/architecture.md does not list for losses']);
  });

  /** The imports of `file` that the table does not list for its layer, as messages. */
  function unlisted(file: string, text?: string): string[] {
    const may = table.get(layerOf(file)) ?? new Set();
    return importsOf(file, text).filter((target) => !may.has(target))
      .map((target) => `${relative(root, file)} imports ${target}, which docs/architecture.md does not list for ${layerOf(file)}`);
  }
});
