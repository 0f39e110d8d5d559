import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EmbeddedPostgres } from '../core/db/embedded-postgres.ts';

/**
 * The real `portal` executable as an admin runs it: `portal serve` on the embedded database,
 * provisioning commands beside it, a crash, a restart and a clean stop. Real processes only.
 */

const dataDir = mkdtempSync(join(tmpdir(), 'portal-serve-'));
const env = { ...process.env, PORTAL_DATA_DIR: dataDir, PORTAL_DATABASE_URL: '', PORTAL_LOG_LEVEL: 'info' };
const bin = join(import.meta.dirname, '..', 'bin', 'portal.mjs');

afterAll(async () => {
  await new EmbeddedPostgres({ dataDir }).stop().catch(() => {});
  rmSync(dataDir, { recursive: true, force: true });
});

function serve(): Promise<{ child: ChildProcess; url: string; stderr: () => string }> {
  const child = spawn(process.execPath, [bin, 'serve', '--port', '0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => {
    err += d;
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /running at (http:\/\/\S+)/.exec(out);
      if (m) resolve({ child, url: m[1]!, stderr: () => err });
    });
    child.on('exit', (code) => reject(new Error(`portal serve exited with ${code}: ${err}`)));
  });
}

/**
 * Living processes of this test's portal: a command line naming the data folder (postgres) or
 * an environment with it (the portal's node). Zombies waiting for their parent do not count.
 */
function environOf(pid: string): string[] {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
  } catch {
    return []; // another user's process
  }
}

function leftovers(): string[] {
  const left: string[] = [];
  for (const pid of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2)[0] === 'Z') continue;
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (cmd.includes(dataDir) || environOf(pid).includes(`PORTAL_DATA_DIR=${dataDir}`)) left.push(`${pid}: ${cmd}`);
    } catch {} // gone meanwhile
  }
  return left;
}

/** What is left once the server exited; postgres's own processes take a moment to go. */
async function leftoversAfterStop(): Promise<string[]> {
  for (let i = 0; ; i++) {
    const left = leftovers();
    if (left.length === 0 || i >= 100) return left;
    await new Promise((r) => setTimeout(r, 100));
  }
}

const portal = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { env, encoding: 'utf8' });
const exitOf = (child: ChildProcess) => new Promise<number | null>((r) => child.once('exit', (code) => r(code)));

describe('portal serve on the embedded PostgreSQL', () => {
  it('serves, shares its database with the CLI, survives kill -9, stops cleanly on SIGTERM and starts again clean', async () => {
    const first = await serve();
    expect(first.stderr()).toMatch(/database migrated/);
    const health = await fetch(`${first.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    // The real server starts the job queue with its workers: ready means all three work.
    const ready = await fetch(`${first.url}/readyz`);
    expect(await ready.json()).toEqual({ status: 'ready', database: 'ok', migrations: 'current', jobs: 'running' });
    expect(ready.status).toBe(200);
    const login = await fetch(`${first.url}/`);
    expect(login.url).toMatch(/\/login$/);
    expect(await login.text()).toMatch(/<form method="post" action="\/login">/);

    // The CLI joins the server's database while the server runs.
    const add = portal('locations', 'add', '--name', 'Heerlen Centrum');
    expect(add.stderr).toBe('');
    expect(add.status).toBe(0);
    expect((await fetch(`${first.url}/healthz`)).status).toBe(200);

    // A crash: the server is killed without a chance to clean up; PostgreSQL is orphaned.
    first.child.kill('SIGKILL');
    await exitOf(first.child);
    expect(new EmbeddedPostgres({ dataDir }).runningPort()).toBeDefined();

    // The next start recovers by itself and the data is there.
    const second = await serve();
    expect((await fetch(`${second.url}/readyz`)).status).toBe(200);
    const list = portal('--json', 'locations', 'list');
    expect(list.status).toBe(0);
    expect(JSON.parse(list.stdout).map((l: { name: string }) => l.name)).toEqual(['Heerlen Centrum']);

    // SIGTERM: requests finish, the database stops, exit 0, nothing left behind.
    second.child.kill('SIGTERM');
    expect(await exitOf(second.child)).toBe(0);
    expect(second.stderr()).toMatch(/SIGTERM: finishing requests in flight/);
    expect(await leftoversAfterStop()).toEqual([]);
    expect(new EmbeddedPostgres({ dataDir }).runningPort()).toBeUndefined();
    expect(existsSync(join(dataDir, 'pg.lock'))).toBe(false);
    expect(existsSync(join(dataDir, 'pg.owner'))).toBe(false);

    // After a clean stop the next start is an ordinary one (nothing to recover), and Ctrl-C
    // (SIGINT) stops it the same way.
    const third = await serve();
    expect((await fetch(`${third.url}/readyz`)).status).toBe(200);
    expect(third.stderr()).not.toMatch(/database migrated|creating the embedded PostgreSQL cluster/);
    third.child.kill('SIGINT');
    expect(await exitOf(third.child)).toBe(0);
    expect(third.stderr()).toMatch(/SIGINT: finishing requests in flight/);
    expect(await leftoversAfterStop()).toEqual([]);
    expect(new EmbeddedPostgres({ dataDir }).runningPort()).toBeUndefined();
  }, 120_000);
});
