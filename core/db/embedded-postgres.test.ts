import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { EmbeddedPostgres } from './embedded-postgres.ts';

/**
 * The embedded server is shared by processes (server + CLI) and must survive crashes without a
 * manual step. These tests use real processes and a real cluster in a temporary folder.
 */

const dirs: string[] = [];
const newDataDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'portal-embedded-'));
  dirs.push(d);
  return d;
};
afterAll(async () => {
  for (const d of dirs) {
    await new EmbeddedPostgres({ dataDir: d }).stop().catch(() => {});
    rmSync(d, { recursive: true, force: true });
  }
});

function holder(dataDir: string): Promise<{ child: ChildProcess; port: number; owner: boolean }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/hold-embedded.ts', dataDir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /ready (\d+) (true|false)/.exec(out);
      if (m) resolve({ child, port: Number(m[1]), owner: m[2] === 'true' });
    });
    child.on('exit', (code) => reject(new Error(`holder exited with ${code}`)));
  });
}

const exited = (child: ChildProcess) => new Promise((r) => child.once('exit', r));

async function query(url: string, sql: string) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(sql)).rows;
  } finally {
    await c.end();
  }
}

describe('embedded PostgreSQL', () => {
  it('creates the cluster on first use, keeps data across restarts', async () => {
    const dataDir = newDataDir();
    const first = await new EmbeddedPostgres({ dataDir }).acquire();
    expect(first.owner).toBe(true);
    await query(first.url, 'create table kept (x int); insert into kept values (42)');
    await first.release();
    expect(new EmbeddedPostgres({ dataDir }).runningPort()).toBeUndefined();

    const again = await new EmbeddedPostgres({ dataDir }).acquire();
    expect(await query(again.url, 'select x from kept')).toEqual([{ x: 42 }]);
    await again.release();
  });

  it('a second process joins the running server; the last one out stops it', async () => {
    const dataDir = newDataDir();
    const server = await holder(dataDir);
    expect(server.owner).toBe(true);
    const cli = await new EmbeddedPostgres({ dataDir }).acquire();
    expect(cli.owner).toBe(false);
    expect(cli.port).toBe(server.port);
    await cli.release(); // a guest leaves the server running
    expect(new EmbeddedPostgres({ dataDir }).runningPort()).toBe(server.port);

    // The owner leaves while a guest still holds a connection: the server must stay up...
    const guest = await new EmbeddedPostgres({ dataDir }).acquire();
    const conn = new pg.Client({ connectionString: guest.url });
    await conn.connect();
    server.child.kill('SIGTERM');
    await exited(server.child);
    expect((await conn.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
    // ...and the guest, now the last one, stops it.
    await conn.end();
    await guest.release();
    expect(new EmbeddedPostgres({ dataDir }).runningPort()).toBeUndefined();
  });

  it('recovers after the owning process is killed with -9: the next process adopts the server', async () => {
    const dataDir = newDataDir();
    const crashed = await holder(dataDir);
    crashed.child.kill('SIGKILL');
    await exited(crashed.child);
    // postgres is orphaned and still holds its port
    expect(new EmbeddedPostgres({ dataDir }).runningPort()).toBe(crashed.port);

    const next = await new EmbeddedPostgres({ dataDir }).acquire();
    expect(next.owner).toBe(true);
    expect(await query(next.url, 'select 1 as one')).toEqual([{ one: 1 }]);
    await next.release();
    expect(new EmbeddedPostgres({ dataDir }).runningPort()).toBeUndefined();
    expect(existsSync(join(dataDir, 'pg.lock'))).toBe(false);
  });

  it('starts again after postgres itself was killed with -9 (stale postmaster.pid)', async () => {
    const dataDir = newDataDir();
    const first = await new EmbeddedPostgres({ dataDir }).acquire();
    await query(first.url, 'create table kept (x int); insert into kept values (7)');
    const postmaster = Number(readFileSync(join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);
    process.kill(postmaster, 'SIGKILL');
    const second = await new EmbeddedPostgres({ dataDir }).acquire();
    expect(second.owner).toBe(true);
    expect(await query(second.url, 'select x from kept')).toEqual([{ x: 7 }]); // crash recovery kept it
    await second.release();
  });
});
