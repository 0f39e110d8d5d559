import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * No import circles between the repository's own modules. A circle makes the order in which
 * modules initialise depend on which one is imported first (a `const` read before it is set),
 * and it ties layers together that should depend one way (plugins on the host, never the host's
 * users on a plugin; the web errors on the API's, never back).
 *
 * Type-only imports (`import type`, `export type … from`, `import { type X }`) count too: they
 * vanish at run time, but a type circle is still two modules that cannot be understood, moved or
 * tested one without the other. Dynamic `import()` counts as well (it is a dependency all the
 * same), `require` does not occur.
 */

const ROOT = resolve(import.meta.dirname, '..');
const DIRS = ['core', 'cli', 'http', 'plugins', 'config', 'views', 'bench', 'test', 'e2e'];
const SKIP = new Set(['node_modules', 'data', '.git', 'scratch', 'vendor', 'static']);

function sources(dir: string, out: string[] = []): string[] {
  const abs = join(ROOT, dir);
  if (!existsSync(abs)) return out;
  for (const e of readdirSync(abs, { withFileTypes: true })) {
    const rel = join(dir, e.name);
    if (e.isDirectory()) {
      if (!SKIP.has(e.name)) sources(rel, out);
    } else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(rel);
  }
  return out;
}

/** Relative specifiers resolved to repository files (with or without the `.ts` the project writes). */
function resolveSpecifier(from: string, specifier: string): string | undefined {
  if (!specifier.startsWith('./') && !specifier.startsWith('../')) return undefined;
  const base = resolve(ROOT, dirname(from), specifier);
  for (const candidate of [base, `${base}.ts`, join(base, 'index.ts')]) {
    if (candidate.endsWith('.ts') && existsSync(candidate) && statSync(candidate).isFile()) return relative(ROOT, candidate);
  }
  return undefined;
}

/** Every module each module imports (static, type-only, re-exports, dynamic import()). */
function importGraph(files: readonly string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const info = ts.preProcessFile(readFileSync(join(ROOT, file), 'utf8'), true, true);
    const targets = info.importedFiles
      .map((f) => resolveSpecifier(file, f.fileName))
      .filter((t): t is string => t !== undefined);
    graph.set(file, [...new Set(targets)].sort());
  }
  return graph;
}

/**
 * The circles: the strongly connected components of more than one module (or one that imports
 * itself), each shown as one concrete path around it (Tarjan, then a shortest way back). A knot
 * of several circles shows one; its other modules are named by `knots`.
 */
function cycles(graph: Map<string, string[]>): string[][] {
  return knots(graph).map((component) => circleIn(graph, component));
}

function knots(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const indexOf = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const strongConnect = (v: string) => {
    indexOf.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!indexOf.has(w)) {
        strongConnect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, indexOf.get(w)!));
      }
    }
    if (low.get(v) === indexOf.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) components.push(component.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!indexOf.has(v)) strongConnect(v);
  return components;
}

/** One concrete circle in a component: from its first module, the shortest way back to it. */
function circleIn(graph: Map<string, string[]>, component: string[]): string[] {
  const inside = new Set(component);
  const start = component[0]!;
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length) {
    const v = queue.shift()!;
    for (const w of graph.get(v) ?? []) {
      if (!inside.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let at = v; at !== start; at = previous.get(at)!) path.splice(1, 0, at);
        return [...path, start];
      }
      if (!previous.has(w)) {
        previous.set(w, v);
        queue.push(w);
      }
    }
  }
  return component;
}

describe('imports', () => {
  it('no module imports itself back, directly or through others', () => {
    const files = DIRS.flatMap((d) => sources(d));
    for (const f of readdirSync(ROOT)) if (f.endsWith('.ts')) files.push(f);
    expect(files.length).toBeGreaterThan(100);
    const graph = importGraph(files);
    const slash = (f: string) => f.split(sep).join('/');
    const found = knots(graph).map((knot) => {
      const circle = circleIn(graph, knot);
      const shown = circle.map(slash).join(' → ');
      // A knot of more modules than this circle passes: name them all, each may be in another circle.
      return circle.length - 1 < knot.length ? `${shown}\n    (a knot of ${knot.length}: ${knot.map(slash).join(', ')})` : shown;
    });
    expect(found, `import circles:\n${found.join('\n')}`).toEqual([]);
  });

  it('the check sees a circle', () => {
    const graph = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts', 'd.ts']],
      ['d.ts', []],
      ['e.ts', ['e.ts']],
    ]);
    expect(cycles(graph)).toEqual([['a.ts', 'b.ts', 'c.ts', 'a.ts'], ['e.ts', 'e.ts']]);
  });

  it('preProcessFile sees type-only imports, re-exports and import()', () => {
    const info = ts.preProcessFile("import type { A } from './a.ts';\nexport { b } from './b.ts';\nconst c = await import('./c.ts');", true, true);
    expect(info.importedFiles.map((f) => f.fileName)).toEqual(['./a.ts', './b.ts', './c.ts']);
  });
});
