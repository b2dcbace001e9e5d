/**
 * The docs' links (issue #25 §2): every relative Markdown link in the README and docs/ reaches a
 * file or folder, and every repository path the prose names in backticks (`src/sdk/folders.ts`,
 * `docs/threads.md`…) exists — a renamed file leaves no dangling reference. Paths with a
 * placeholder (`<id>`, `*`, `…`) are patterns, not files, and are not checked; ../shared is
 * checked only where the checkout has it beside it.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve('.');
const pages = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const ROOTS = /^(src|docs|test|bench|examples|assembly|scripts|web)\//;

/** The references of a page (at `page`, relative to the checkout) that reach nothing, and how many were checked. */
function brokenReferences(page: string, text: string): { broken: string[]; checked: number } {
  const broken: string[] = [];
  let checked = 0;
  for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
    if (/^[a-z]+:/i.test(target) || target.startsWith('#')) continue;
    const path = resolve(dirname(join(root, page)), target.split('#')[0]);
    if (path.startsWith(resolve(root, '..', 'shared')) && !existsSync(resolve(root, '..', 'shared'))) continue;
    checked++;
    if (!existsSync(path)) broken.push(`link ${target}`);
  }
  for (const [, token] of text.matchAll(/`([^`\s]+)`/g)) {
    const path = token.replace(/[:#].*$/, '').replace(/[),.;]+$/, '');
    if (!ROOTS.test(path) || /[<>*…{}]|\.\.\./.test(path)) continue;
    checked++;
    if (!existsSync(join(root, path))) broken.push(`path ${token}`);
  }
  return { broken, checked };
}

describe('the docs link to what exists', () => {
  it('the check finds a missing file, a dead link, and passes over patterns and web links', () => {
    const text = 'See `src/sdk/folders.ts`, `src/nope.ts`, [data](docs/data.md), [gone](docs/gone.md#x), '
      + '`report/overlays/<id>.png`, `src/*.ts`, [npm](https://www.npmjs.com), [top](#top).';
    expect(brokenReferences('README.md', text)).toEqual({ broken: ['link docs/gone.md#x', 'path src/nope.ts'], checked: 4 });
  });

  it.each(pages)('%s', (page) => {
    const { broken, checked } = brokenReferences(page, readFileSync(join(root, page), 'utf8'));
    expect(broken, `${page} names what does not exist`).toEqual([]);
    if (page === 'README.md') expect(checked).toBeGreaterThan(5); // the check reads the README's references
  });
});
