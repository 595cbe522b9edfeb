/**
 * docs/compliance.md cites, for each policy clause, the tests that prove its feature
 * (`file` › "test name"). A renamed or moved test would leave the page citing nothing: every
 * citation must name a test file that exists and a test title written in it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const page = readFileSync(join(ROOT, 'docs', 'compliance.md'), 'utf8');

interface Citation {
  file: string;
  title: string;
}

function citations(): Citation[] {
  const out: Citation[] = [];
  // A file, then one or more `› "title"` separated by `;`, until the next file or the cell's end.
  const group = /`(test\/[\w/.-]+\.test\.ts)`((?:\s*;?\s*›\s*"(?:[^"\\]|\\.)*")+)/g;
  for (const m of page.matchAll(group)) {
    for (const t of m[2].matchAll(/›\s*"((?:[^"\\]|\\.)*)"/g)) out.push({ file: m[1], title: t[1] });
  }
  return out;
}

/** `%s`-style placeholders of it.each stand for anything. */
function titleFound(source: string, title: string): boolean {
  if (!title.includes('%')) return source.includes(title);
  const pattern = title.split(/%[sdifjo#%]/).map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('[^\'"`]*');
  return new RegExp(pattern).test(source) || source.includes(title);
}

describe('docs/compliance.md citations', () => {
  const all = citations();

  it('cites tests at all (the page and its format did not change under this test)', () => {
    expect(all.length).toBeGreaterThan(50);
  });

  it('names test files that exist and titles written in them', () => {
    const missing: string[] = [];
    const sources = new Map<string, string | undefined>();
    for (const c of all) {
      // Titles in the source may escape their quotes: it('the owner\'s ...').
      if (!sources.has(c.file)) sources.set(c.file, existsSync(join(ROOT, c.file)) ? readFileSync(join(ROOT, c.file), 'utf8').replace(/\\(['"`])/g, '$1') : undefined);
      const source = sources.get(c.file);
      if (source === undefined) missing.push(`${c.file}: no such file`);
      else if (!titleFound(source, c.title)) missing.push(`${c.file} › "${c.title}"`);
    }
    expect(missing).toEqual([]);
  });
});
