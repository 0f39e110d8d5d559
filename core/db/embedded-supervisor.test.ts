import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { EmbeddedPostgres } from './embedded-postgres.ts';
import { backoffMs, startFailure, superviseEmbeddedPostgres } from './embedded-supervisor.ts';

/**
 * The supervisor of a running portal's embedded PostgreSQL, on a real cluster in a temp folder
 * (never the machine's server): a postmaster killed with -9 is started again on its port, with
 * backoff while that fails, and a deliberate stop is left alone.
 */

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) {
    await new EmbeddedPostgres({ dataDir: d }).stop().catch(() => {});
    rmSync(d, { recursive: true, force: true });
  }
});

async function until(what: string, done: () => boolean, ms = 20_000): Promise<void> {
  const started = performance.now();
  while (!done()) {
    if (performance.now() - started > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Holds a port as soon as the dying postmaster lets go of it. */
async function occupy(port: number): Promise<Server> {
  for (;;) {
    const server = createServer();
    const bound = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (bound) return server;
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('backoff', () => {
  it('doubles from the first wait up to the cap', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => backoffMs(n, 500, 10_000))).toEqual([500, 1000, 2000, 4000, 8000, 10_000, 10_000]);
  });

  it("names postgres's own reason for a failed start on one line", () => {
    const err = new Error(
      'could not start the embedded PostgreSQL: pg_ctl: could not start server\nExamine the log output.\n2026-12-07 07:04:58.634 UTC [18564] FATAL:  pre-existing shared memory block (key 2147240, ID 52) is still in use',
    );
    expect(startFailure(err)).toBe('FATAL: pre-existing shared memory block (key 2147240, ID 52) is still in use');
    expect(startFailure(new Error('one\ntwo'))).toBe('one | two');
  });
});

describe('the embedded PostgreSQL supervisor', () => {
  it('starts a killed postmaster again on its port, backing off while that fails; the data and the URL stay', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'portal-supervised-'));
    dirs.push(dataDir);
    const cluster = new EmbeddedPostgres({ dataDir });
    const handle = await cluster.acquire();
    const pool = new pg.Pool({ connectionString: handle.url, max: 2 });
    pool.on('error', () => {}); // the idle connections die with the server
    await pool.query('create table kept (x int); insert into kept values (1)');

    // kill -9, and something else takes the port at once: starting again fails until it is free.
    const postmaster = Number(readFileSync(join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);
    process.kill(postmaster, 'SIGKILL');
    const squatter = await occupy(handle.port);
    const lines: string[] = [];
    const log = { info: (m: string) => lines.push(m), warn: (m: string) => lines.push(m), error: (m: string) => lines.push(m) };
    const supervisor = superviseEmbeddedPostgres(cluster, handle.port, { log, checkEveryMs: 50, firstBackoffMs: 100, maxBackoffMs: 400 });
    try {
      await until('three failed attempts', () => lines.filter((l) => l.includes('did not start again')).length >= 3);
      expect(lines[0]).toMatch(new RegExp(`^embedded PostgreSQL( \\(pid ${postmaster}\\))? is gone: restarting it on port ${handle.port}$`));
      const waits = lines.filter((l) => l.includes('did not start again')).map((l) => /next attempt in ([\d.]+) s/.exec(l)?.[1]);
      expect(waits.slice(0, 3)).toEqual(['0.1', '0.2', '0.4']);
      expect(lines.find((l) => l.includes('did not start again'))).toMatch(/could not create any TCP\/IP sockets|Address already in use/);

      await new Promise<void>((r) => squatter.close(() => r()));
      await until('the server to be back', () => lines.some((l) => l.includes('is back')));
      expect(lines.at(-1)).toMatch(new RegExp(`^embedded PostgreSQL is back on port ${handle.port} after [\\d.]+ s \\(attempt \\d+, pid \\d+\\)$`));
      expect(cluster.runningPort()).toBe(handle.port);
      // The pool that lost its connections works again by itself, and crash recovery kept the row.
      expect((await pool.query('select x from kept')).rows).toEqual([{ x: 1 }]);
      expect(lines.join('\n')).not.toContain(readFileSync(join(dataDir, 'pg-password'), 'utf8').trim());
    } finally {
      squatter.close();
      await supervisor.stop();
      await pool.end();
    }

    // A deliberate stop after the supervisor stopped is not a crash: nothing starts it again.
    await handle.release();
    const before = lines.length;
    await new Promise((r) => setTimeout(r, 300));
    expect(cluster.runningPort()).toBeUndefined();
    expect(lines.length).toBe(before);
  }, 60_000);
});
