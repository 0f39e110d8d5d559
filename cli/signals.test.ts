import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EmbeddedPostgres } from '../core/db/embedded-postgres.ts';

/**
 * `npm start` under a service manager: systemd, docker stop or a supervisor sends SIGTERM to
 * the process it started, which is npm, not the portal. The portal must stop as it does on
 * Ctrl-C: requests finish, the embedded PostgreSQL shuts down, nothing is left behind, exit 0,
 * and the next start comes up clean. Real processes only, watched through /proc.
 */

const repo = join(import.meta.dirname, '..');
const dataDirs: string[] = [];
const started: ChildProcess[] = [];

// What a service manager passes: no npm_* variables from the `npm test` running this file.
const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));

function newDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'portal-signals-'));
  dataDirs.push(dir);
  return dir;
}

afterAll(async () => {
  for (const child of started) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    try {
      process.kill(child.pid!, 'SIGKILL');
    } catch {}
  }
  for (const dir of dataDirs) {
    // A server that a failed test left behind: kill it, then stop its database.
    for (const pid of processesMentioning(dir)) {
      if (!/postgres/.test(cmdline(pid))) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {}
      }
    }
    await new EmbeddedPostgres({ dataDir: dir }).stop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
});

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
  } catch {
    return '';
  }
}

function pids(): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .map(Number);
}

/** Living processes (zombies do not count) whose command line or environment names `text`. */
function processesMentioning(text: string): number[] {
  return pids().filter((pid) => {
    if (pid === process.pid || !alive(pid)) return false;
    if (cmdline(pid).includes(text)) return true;
    try {
      // The portal's node process has the data folder in its environment, not its arguments.
      return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`PORTAL_DATA_DIR=${text}`);
    } catch {
      return false;
    }
  });
}

function alive(pid: number): boolean {
  try {
    // Field 3 after the command name: the state; Z is a zombie waiting for its parent.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

function childrenOf(ppid: number): number[] {
  return pids().filter((pid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === ppid;
    } catch {
      return false;
    }
  });
}

interface Started {
  child: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `command` and resolves once the portal says it is running (60 s at most). */
function start(command: string, args: string[], dataDir: string, options: { detached?: boolean } = {}): Promise<Started> {
  const env = { ...baseEnv, PORTAL_DATA_DIR: dataDir, PORTAL_DATABASE_URL: '', PORTAL_LOG_LEVEL: 'info' };
  const child = spawn(command, args, { cwd: repo, env, stdio: ['ignore', 'pipe', 'pipe'], detached: options.detached });
  started.push(child);
  let output = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${command} ${args.join(' ')} did not start within 60 s:\n${output}`)), 60_000);
    const onData = (d: Buffer) => {
      output += d;
      const m = /Ouderportaal is running at (http:\/\/\S+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1]!, output: () => output, exited });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited (${code ?? signal}) before it ran:\n${output}`));
    });
  });
}

async function exitWithin(s: Started, ms: number) {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not stopped within ${ms} ms:\n${s.output()}`)), ms);
  });
  try {
    return await Promise.race([s.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** What is still alive of the portal after it stopped; postgres takes a moment to leave. */
async function survivors(dataDir: string, serverPid: number): Promise<string[]> {
  const deadline = performance.now() + 10_000;
  for (;;) {
    const left = [...new Set([...processesMentioning(dataDir), ...(alive(serverPid) ? [serverPid] : [])])];
    if (left.length === 0 || performance.now() > deadline) return left.map((pid) => `${pid}: ${cmdline(pid)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The portal's node process below npm (directly, or below the `sh -c` npm runs scripts in). */
function portalUnderNpm(npmPid: number): { pid: number; npmsChild: boolean } {
  const isPortal = (pid: number) => /^node bin\/portal\.mjs serve\b/.test(cmdline(pid));
  const kids = childrenOf(npmPid);
  const direct = kids.find(isPortal);
  if (direct !== undefined) return { pid: direct, npmsChild: true };
  const below = kids.flatMap(childrenOf).find(isPortal);
  if (below === undefined) throw new Error(`no portal process below npm (${npmPid}): ${kids.map(cmdline).join(', ')}`);
  return { pid: below, npmsChild: false };
}

/** Soft: a failure shows everything that went wrong (exit code, survivors, files left). */
async function stopsCleanly(s: Started, dataDir: string, serverPid: number, signal: NodeJS.Signals) {
  const exit = await exitWithin(s, 30_000);
  expect.soft(await survivors(dataDir, serverPid)).toEqual([]);
  expect.soft(exit).toEqual({ code: 0, signal: null });
  expect.soft(s.output()).toMatch(new RegExp(`${signal}: finishing requests in flight`));
  expect.soft(s.output()).toMatch(/"msg":"stopped"/);
  expect.soft(s.output()).not.toMatch(/again: stopping without waiting/);
  expect.soft(new EmbeddedPostgres({ dataDir }).runningPort()).toBeUndefined();
  expect.soft(existsSync(join(dataDir, 'pg.lock'))).toBe(false);
  expect.soft(existsSync(join(dataDir, 'pg.owner'))).toBe(false);
}

describe('npm start under a service manager', () => {
  it('SIGTERM to the npm process stops the portal and its embedded PostgreSQL, exit 0; the next start is clean', async () => {
    const dataDir = newDataDir();
    for (const round of [1, 2]) {
      const s = await start('npm', ['start', '--', '--port', '0'], dataDir);
      const portal = portalUnderNpm(s.child.pid!);
      expect(new EmbeddedPostgres({ dataDir }).runningPort()).toBeDefined();
      const ready = await fetch(`${s.url}/readyz`);
      expect(ready.status).toBe(200);
      if (round === 1) expect(s.output()).toMatch(/database migrated/);
      else expect(s.output()).not.toMatch(/database migrated|creating the embedded PostgreSQL cluster|adopt/);

      process.kill(s.child.pid!, 'SIGTERM'); // npm's pid only, as systemd's main PID or docker stop
      await stopsCleanly(s, dataDir, portal.pid, 'SIGTERM');
      // npm forwards SIGTERM to its child only: that child must be the portal, not a shell.
      expect(portal.npmsChild).toBe(true);
    }
  }, 180_000);

  it('Ctrl-C (SIGINT to the whole process group; npm forwards a second copy) stops it cleanly too', async () => {
    const dataDir = newDataDir();
    // Its own process group, as the foreground job of a terminal is.
    const s = await start('npm', ['start', '--', '--port', '0'], dataDir, { detached: true });
    const portal = portalUnderNpm(s.child.pid!);
    expect((await fetch(`${s.url}/healthz`)).status).toBe(200);
    process.kill(-s.child.pid!, 'SIGINT');
    // npm's forwarded copy, which otherwise comes or not depending on timing: always one here.
    process.kill(portal.pid, 'SIGINT');
    await stopsCleanly(s, dataDir, portal.pid, 'SIGINT');
  }, 120_000);
});

describe('a stop while the portal starts', () => {
  it('SIGTERM while the embedded PostgreSQL is being created is held until it is up, then stops it cleanly; the next start works', async () => {
    const dataDir = newDataDir();
    const env = { ...baseEnv, PORTAL_DATA_DIR: dataDir, PORTAL_DATABASE_URL: '', PORTAL_LOG_LEVEL: 'info' };
    const child = spawn(process.execPath, ['bin/portal.mjs', 'serve', '--port', '0'], { cwd: repo, env, stdio: ['ignore', 'pipe', 'pipe'] });
    started.push(child);
    let output = '';
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no cluster creation within 60 s:\n${output}`)), 60_000);
      const onData = (d: Buffer) => {
        output += d;
        if (/creating the embedded PostgreSQL cluster/.test(output)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
    });
    process.kill(child.pid!, 'SIGTERM');
    const s: Started = { child, url: '', output: () => output, exited };
    expect(await exitWithin(s, 90_000)).toEqual({ code: 0, signal: null });
    expect(output).toMatch(/SIGTERM during start: stopping/);
    expect(output).not.toMatch(/Ouderportaal is running at/);
    expect(await survivors(dataDir, child.pid!)).toEqual([]);
    expect(existsSync(join(dataDir, 'pg.owner'))).toBe(false);

    const again = await start(process.execPath, ['bin/portal.mjs', 'serve', '--port', '0'], dataDir);
    expect((await fetch(`${again.url}/readyz`)).status).toBe(200);
    process.kill(again.child.pid!, 'SIGTERM');
    await stopsCleanly(again, dataDir, again.child.pid!, 'SIGTERM');
  }, 180_000);
});
