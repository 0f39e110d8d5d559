import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');

function sources(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const rel = join(dir, e.name);
    if (e.isDirectory()) {
      if (!['node_modules', 'data', '.git', 'scratch'].includes(e.name)) sources(rel, out);
    } else if (/\.(ts|mjs|js)$/.test(e.name)) out.push(rel);
  }
  return out;
}

const topLevel = readdirSync(ROOT, { withFileTypes: true })
  .filter((e) => e.isDirectory() && !['node_modules', 'data', '.git', 'scratch'].includes(e.name))
  .map((e) => e.name);
const all = topLevel.flatMap((d) => sources(d));
const isTest = (f: string) => f.endsWith('.test.ts') || f.startsWith(`test${sep}`) || f.startsWith(`e2e${sep}`);

/** Comments say what the code did before; only code counts. */
const code = (text: string) => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');

describe('guards', () => {
  it('the portal reads the time only from its clock (core/clock.ts); logs may label lines with the real time', () => {
    // The clock module itself, and the logger's line labels.
    const allowed = new Set([join('core', 'clock.ts'), join('core', 'log.ts')]);
    const readers = /\bnew Date\(\s*\)|\bDate\.now\(\s*\)/;
    const offenders = all
      .filter((f) => /^(core|plugins|http|cli|config)\//.test(f.split(sep).join('/')) && !isTest(f) && !allowed.has(f))
      .flatMap((f) =>
        code(readFileSync(join(ROOT, f), 'utf8'))
          .split('\n')
          .map((line, i) => (readers.test(line) ? `${f}:${i + 1}: ${line.trim()}` : null))
          .filter((x): x is string => x !== null),
      );
    expect(offenders).toEqual([]);
  });

  it('no test, fixture or script reads outside the repository', () => {
    const problems: string[] = [];
    const self = join('test', 'guards.test.ts'); // its own self-test names such a path on purpose
    for (const f of all.filter((x) => x !== self && (isTest(x) || x.startsWith(`bench${sep}`)))) {
      const text = code(readFileSync(join(ROOT, f), 'utf8'));
      // join/resolve(import.meta.dirname, '..', ...): resolve the literal segments and check where they lead.
      for (const m of text.matchAll(/(?:join|resolve)\(\s*import\.meta\.dirname((?:\s*,\s*'[^']*')+)/g)) {
        const segments = [...m[1]!.matchAll(/'([^']*)'/g)].map((s) => s[1]!);
        const target = resolve(ROOT, f, '..', ...segments);
        if (relative(ROOT, target).startsWith('..')) problems.push(`${f}: ${m[0]} leaves the repository`);
      }
      // Relative paths to files in strings (imports included) must stay inside the repository too.
      // Only names with an extension: a traversal attack's '../etc/passwd' is test data, not a read.
      for (const m of text.matchAll(/['"`]((?:\.\.?\/)+[^'"`\s$]*\.[A-Za-z0-9]{1,5})['"`]/g)) {
        if (relative(ROOT, resolve(ROOT, f, '..', m[1]!)).startsWith('..')) problems.push(`${f}: ${m[1]} leaves the repository`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('the guard sees what it guards against', () => {
    expect(code('const t = new Date(); // now')).toMatch(/new Date\(\)/);
    expect(code('// const t = Date.now();')).not.toMatch(/Date\.now/);
    const m = /(?:join|resolve)\(\s*import\.meta\.dirname((?:\s*,\s*'[^']*')+)/.exec("join(import.meta.dirname, '..', '..', 'elsewhere', 'x.csv')");
    expect(relative(ROOT, resolve(ROOT, 'cli/x.test.ts', '..', ...[...m![1]!.matchAll(/'([^']*)'/g)].map((s) => s[1]!)))).toMatch(/^\.\./);
  });
});
