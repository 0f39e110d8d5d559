import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../test/portal.ts';
import { servingAt } from '../test/serve-process.ts';

/**
 * The `portal` command runs compiled JavaScript (scripts/build.mjs), rebuilt when a source
 * changed. What the build must get right: files found at run time (views, assets, the FAQ's
 * shipped entries), migrations and plugins from dist/, and builders that meet.
 */

const repo = join(import.meta.dirname, '..');
const bin = join(repo, 'bin', 'portal.mjs');
const buildScript = pathToFileURL(join(repo, 'scripts', 'build.mjs')).href;
const scratch = mkdtempSync(join(tmpdir(), 'portal-build-'));
// Builds of these tests: inside the project, where their imports of dependencies resolve.
mkdirSync(join(repo, 'dist'), { recursive: true });
const outdirs = mkdtempSync(join(repo, 'dist', 'test-'));
const version = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')).version as string;

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
  rmSync(outdirs, { recursive: true, force: true });
});

/** ensureBuilt() into `outdir` in a process of its own, as two `portal` commands started at once. */
function ensureBuiltIn(outdir: string): Promise<{ entry: string; built: boolean }> {
  const code = `const { ensureBuilt } = await import(${JSON.stringify(buildScript)});
process.stdout.write(JSON.stringify(await ensureBuilt({ outdir: ${JSON.stringify(outdir)} })));`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  child.stderr.on('data', (d) => {
    err += d;
  });
  return new Promise((resolve, reject) =>
    child.once('exit', (status) => (status === 0 ? resolve(JSON.parse(out)) : reject(new Error(`ensureBuilt exited ${status}: ${err}`)))),
  );
}

/** Runs `main(args)` of a build's entry module, as bin/portal.mjs does. */
function runEntry(entry: string, args: string[]) {
  const code = `const { main } = await import(${JSON.stringify(pathToFileURL(entry).href)});
process.exitCode = await main(${JSON.stringify(args)});`;
  return spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: scratch, encoding: 'utf8', timeout: 60_000 });
}

const builds = (outdir: string) => readdirSync(outdir).filter((n) => n.startsWith('b-'));

describe('the build', () => {
  it('two processes that find no build at once: one builds, both run the same, whole build', async () => {
    const outdir = join(outdirs, 'race');
    const [a, b] = await Promise.all([ensureBuiltIn(outdir), ensureBuiltIn(outdir)]);
    expect([a.built, b.built].sort()).toEqual([false, true]);
    expect(a.entry).toBe(b.entry);
    expect(builds(outdir)).toHaveLength(1);
    expect(existsSync(join(outdir, '.lock'))).toBe(false);
    const r = runEntry(a.entry, ['--version']);
    expect(r.stdout.trim()).toBe(version);
    expect(r.status).toBe(0);
  }, 120_000);

  it('rebuilds when a file that went into it changed, keeps two older builds for running processes, removes the rest', async () => {
    const outdir = join(outdirs, 'stale');
    const first = await ensureBuiltIn(outdir);
    expect(first.built).toBe(true);
    expect((await ensureBuiltIn(outdir)).built).toBe(false);
    const entries = [first.entry];
    for (let i = 0; i < 3; i++) {
      // As if http/render.ts had been edited: its recorded modification time no longer matches.
      const stampFile = join(outdir, 'build.json');
      const stamp = JSON.parse(readFileSync(stampFile, 'utf8'));
      expect(Object.keys(stamp.inputs)).toEqual(expect.arrayContaining(['cli/main.ts', 'http/render.ts', 'package.json']));
      stamp.inputs['http/render.ts'] -= 1000;
      writeFileSync(stampFile, JSON.stringify(stamp));
      const next = await ensureBuiltIn(outdir);
      expect(next.built).toBe(true);
      expect(entries).not.toContain(next.entry);
      entries.push(next.entry);
    }
    // The newest and the two before it; the first is gone.
    expect(builds(outdir).sort()).toEqual(entries.slice(1).map((e) => e.split('/').at(-2)).sort());
    expect(existsSync(entries[0]!)).toBe(false);
    // A build that is gone from under build.json is made again.
    rmSync(join(outdir, builds(outdir).find((b) => entries.at(-1)!.includes(b))!), { recursive: true });
    expect((await ensureBuiltIn(outdir)).built).toBe(true);
  }, 120_000);

  it('is not linted (generated code): the build writes a nested biome.json that switches the linter off there', async () => {
    const outdir = join(outdirs, 'race');
    expect(JSON.parse(readFileSync(join(outdir, 'biome.json'), 'utf8'))).toMatchObject({ root: false, linter: { enabled: false } });
  });
});

describe('portal from dist/', () => {
  let env: NodeJS.ProcessEnv;
  const dataDir = join(scratch, 'data');
  const portal = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { cwd: scratch, env, encoding: 'utf8', timeout: 120_000 });

  beforeAll(async () => {
    env = { ...process.env, PORTAL_DATABASE_URL: await createTestDatabase(), PORTAL_DATA_DIR: dataDir, PORTAL_LOG_LEVEL: 'warn' };
  });

  it('--version, and the migrations of core and plugins from the build (db status: up to date)', () => {
    const v = portal('--version');
    expect(v.stdout.trim()).toBe(version);
    const status = portal('--json', 'db', 'status');
    expect(status.stderr).toBe('');
    expect(status.status).toBe(0);
    const s = JSON.parse(status.stdout);
    expect(s.pending).toEqual([]);
    expect(s.executed).toEqual(expect.arrayContaining(['Migration20261124000000Directory', 'Migration20261125080000FaqEntries']));
  });

  it('reads the FAQ shipped with the plugin (faq export writes the defaults)', () => {
    const out = join(scratch, 'faq');
    const r = portal('faq', 'export', out);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(readdirSync(join(out, 'organisatie', 'nl'))).toEqual(readdirSync(join(repo, 'plugins', 'faq', 'defaults', 'nl')));
  });

  it('serves pages from views/, a plugin page from its own views and the stylesheet', async () => {
    const child: ChildProcess = spawn(process.execPath, [bin, 'serve', '--port', '0'], { cwd: scratch, env, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await servingAt(child, 'serve').url;
      const login = await fetch(`${url}/`);
      expect(await login.text()).toMatch(/<form method="post" action="\/login">/);
      const help = await fetch(`${url}/p/helpdesk`);
      expect(help.status).toBe(200);
      expect(await help.text()).toMatch(/<form[^>]+action="\/p\/helpdesk/);
      const css = await fetch(`${url}/assets/portal.css`);
      expect(css.status).toBe(200);
      expect(await css.text()).toBe(readFileSync(join(repo, 'views', 'static', 'portal.css'), 'utf8'));
    } finally {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
  }, 120_000);
});
