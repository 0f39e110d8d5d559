import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Access is declared, not written: these checks read the source.
 * - Nothing outside core/access/ (and the Actor type itself) branches on `actor.kind`; the rest
 *   of the portal asks the catalogue, or the actor facts in core/access/actors.ts.
 * - Every use case in core that takes an actor reaches the catalogue (an action is named on
 *   every path from a route, an API endpoint or a CLI command into core), directly or through
 *   another use case that does. The few that need no action say why below.
 */

const ROOT = resolve(import.meta.dirname, '..', '..');

function files(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const rel = join(dir, e.name);
    if (e.isDirectory()) files(rel, out);
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) out.push(rel);
  }
  return out;
}

const code = (text: string) => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
const source = (f: string) => code(readFileSync(join(ROOT, f), 'utf8'));
const inAccess = (f: string) => relative(ROOT, join(ROOT, f)).split(/[\\/]/).slice(0, 2).join('/') === 'core/access';

/** The catalogue's entry points: a function body naming one of these names an action. */
const ENTRY = /\b(authorize|can|scopeOf|scopeIds|filterOf|idsInScope|requireAdmin|mayDo|permittedActions)\(/;

/**
 * Use cases that take an actor without asking the catalogue, and why: they act on the actor's
 * own account or only label what the actor writes.
 */
const NO_ACTION_NEEDED: Record<string, string> = {
  authorName: 'the name shown beside what the actor writes',
  audit: 'records who did something; the use case that calls it has decided',
  authorOf: "the author of a message: the actor's own name",
  accountOf: "the actor's own account",
  listOwnApiTokens: "the actor's own app logins",
  revokeOwnApiToken: "the actor's own app logins",
  getOwnProfile: "the actor's own details",
  updateOwnLanguage: "the actor's own language",
  setNotificationMode: "the parent's own setting",
  mustAcceptRules: "whether the parent themselves accepted the rules",
  downloadsOfMyChildren: "the parent's own children, by the guardianship in its query",
  parentHome: "the parent's own home page, by the guardianship in its query",
  parentChildren: "the parent's own children (the switcher)",
  parentOf: 'the parent behind the actor',
  ownDataExportStatus: "the parent's own export requests",
  requestOwnDataExport: "the parent's own export requests",
  addRevision: 'history of an entry the caller may change',
  diaryEntryViews: 'views of entries the caller has authorized',
  markRead: 'a read mark for a thread the caller has authorized',
  toStaffPhoto: 'a row the caller has authorized',
  changePassword: "the actor's own password",
  requestEmailChange: "the actor's own address",
};

interface Fn {
  file: string;
  name: string;
  body: string;
  takesActor: boolean;
  exported: boolean;
}

/** Top-level functions (declarations and `const x = (async) (...) =>`), with their bodies. */
function functionsOf(file: string): Fn[] {
  const text = source(file);
  const starts = [...text.matchAll(/^(?:export )?(?:async )?function (\w+)\s*\(|^(?:export )?const (\w+)\s*=\s*(?:async\s*)?\(/gm)];
  return starts.map((m, i) => {
    const end = i + 1 < starts.length ? starts[i + 1]!.index : text.length;
    const body = text.slice(m.index, end);
    const header = body.slice(0, body.indexOf('{') > 0 ? body.indexOf('{') : body.length);
    return { file, name: (m[1] ?? m[2])!, body, takesActor: /\bactor\??:\s*Actor\b/.test(header), exported: m[0].startsWith('export') };
  });
}

describe('access is declared, not written', () => {
  const sources = ['core', 'http', 'cli', 'plugins'].flatMap((d) => files(d));

  it('nothing outside core/access branches on actor.kind', () => {
    const offenders = sources
      .filter((f) => !inAccess(f) && f !== join('core', 'actor.ts'))
      .flatMap((f) =>
        source(f)
          .split('\n')
          .map((line, i) => (/\.kind\s*[!=]==\s*'(parent|staff|manager|admin|system)'|\bactor\??\.kind\b/.test(line) ? `${f}:${i + 1}: ${line.trim()}` : null))
          .filter((x): x is string => x !== null),
      );
    expect(offenders).toEqual([]);
  });

  it('every use case in core that takes an actor names an action (or says why it needs none)', () => {
    const fns = files('core')
      .filter((f) => !inAccess(f))
      .flatMap(functionsOf);
    const covered = new Set(fns.filter((f) => ENTRY.test(f.body)).map((f) => f.name));
    for (const name of Object.keys(NO_ACTION_NEEDED)) covered.add(name);
    // Through another use case: a fixpoint over calls by name.
    for (let grew = true; grew; ) {
      grew = false;
      for (const f of fns) {
        if (covered.has(f.name)) continue;
        const calls = [...f.body.matchAll(/\b(\w+)\(/g)].map((m) => m[1]!);
        if (calls.some((c) => c !== f.name && covered.has(c) && !['audit', 'authorName', 'authorOf', 'markRead'].includes(c))) {
          covered.add(f.name);
          grew = true;
        }
      }
    }
    // Exported: what a route, an endpoint or a command can call (a module's own steps run
    // after its use case has asked).
    const stale = Object.keys(NO_ACTION_NEEDED).filter((name) => !fns.some((f) => f.name === name));
    expect(stale, 'names in NO_ACTION_NEEDED that no longer exist').toEqual([]);
    const uncovered = fns.filter((f) => f.exported && f.takesActor && !covered.has(f.name)).map((f) => `${f.file}: ${f.name}`);
    expect(uncovered).toEqual([]);
  });

  it('the reading sees what it checks', () => {
    expect(ENTRY.test("await authorize(em, actor, 'photo.view', id)")).toBe(true);
    expect(/\bactor\??\.kind\b/.test("if (actor.kind === 'parent')")).toBe(true);
    expect(code("// actor.kind === 'parent'")).not.toMatch(/kind/);
  });
});
