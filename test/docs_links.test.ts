/**
 * The docs' links (issue #25 §2): every relative Markdown link in the README, docs/ and
 * bench/RESULTS.md reaches a file or folder and, with a #fragment into a Markdown page, a heading
 * of that page (GitHub's anchors); every repository path the prose names in backticks
 * (`src/sdk/folders.ts`, `docs/threads.md`…) exists — a renamed file or heading leaves no dangling
 * reference. Paths with a placeholder (`<id>`, `*`, `…`) are patterns, not files, and are not
 * checked; ../shared is checked only where the checkout has it beside it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve('.');
const pages = ['README.md', 'bench/RESULTS.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const ROOTS = /^(src|docs|test|bench|examples|assembly|scripts|web)\//;

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens. */
const slug = (heading: string) => heading.trim().toLowerCase()
  .replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');

/** The anchors of a page's headings (outside code fences); a repeated heading's are numbered. */
function anchorsOf(text: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  let fence = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('```')) fence = !fence;
    const heading = fence ? null : /^#{1,6}\s+(.*)$/.exec(line)?.[1];
    if (heading == null) continue;
    const base = slug(heading);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

/** The references of a page (at `page`, relative to the checkout) that reach nothing, and how many were checked. */
function brokenReferences(page: string, text: string, read = (path: string) => readFileSync(path, 'utf8')): { broken: string[]; checked: number } {
  const broken: string[] = [];
  let checked = 0;
  for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
    if (/^[a-z]+:/i.test(target)) continue;
    const [file, fragment] = target.split('#');
    const path = file ? resolve(dirname(join(root, page)), file) : join(root, page);
    if (path.startsWith(resolve(root, '..', 'shared')) && !existsSync(resolve(root, '..', 'shared'))) continue;
    checked++;
    if (file && !existsSync(path)) broken.push(`link ${target}`);
    else if (fragment && path.endsWith('.md') && !anchorsOf(file ? read(path) : text).has(fragment)) broken.push(`anchor ${target}`);
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
  it('the check finds a missing file, a dead link, a missing heading, and passes over patterns and web links', () => {
    const text = '# Top\n\n## Sweeps: `segloss sweep --resume`\n\nSee `src/sdk/folders.ts`, `src/nope.ts`, [data](docs/data.md), [gone](docs/gone.md#x), '
      + '`report/overlays/<id>.png`, `src/*.ts`, [npm](https://www.npmjs.com), [top](#top), [bottom](#bottom), '
      + '[resume](#sweeps-segloss-sweep---resume), [scale](docs/scale.md#columnar-logs-each-finished-run-as-parquet), [no](docs/scale.md#nowhere).';
    expect(brokenReferences('README.md', text)).toEqual({
      broken: ['link docs/gone.md#x', 'anchor #bottom', 'anchor docs/scale.md#nowhere', 'path src/nope.ts'], checked: 9,
    });
  });

  it.each(pages)('%s', (page) => {
    const { broken, checked } = brokenReferences(page, readFileSync(join(root, page), 'utf8'));
    expect(broken, `${page} names what does not exist`).toEqual([]);
    if (page === 'README.md') expect(checked).toBeGreaterThan(5); // the check reads the README's references
  });
});

describe('docs/cli.md', () => {
  const check = (...args: string[]) => spawnSync(process.execPath, [join(root, 'scripts', 'cli-docs.mjs'), '--check', ...args], { encoding: 'utf8' });

  it('is what the CLI says (node scripts/cli-docs.mjs writes it)', () => {
    const r = check();
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(root, 'docs', 'cli.md'), 'utf8')).toContain('## segloss export');
  });

  it('out of date, fails and says how to fix it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'segloss-cli-docs-'));
    try {
      const stale = join(dir, 'cli.md');
      writeFileSync(stale, readFileSync(join(root, 'docs', 'cli.md'), 'utf8').replace('--format <format>', '--format <fmt>'));
      const r = check('--file', stale);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('is not what the CLI says: run `node scripts/cli-docs.mjs`');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
