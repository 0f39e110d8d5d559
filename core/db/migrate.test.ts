import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../config/load.ts';
import { installedSchema } from '../../plugins/schema.ts';
import { adminQuery, databaseUrl } from '../../test/db-admin.ts';
import { silentLogger } from '../log.ts';
import { createPortal } from '../portal.ts';
import { migrateUp, PORTAL_LOCK_CLASS } from './migrate.ts';
import { coreMigrations } from './migrations/index.ts';
import { openOrm } from './orm.ts';

/**
 * Nodes that start together over a database with pending migrations: they take turns on the
 * migration lock, the first applies everything, the others find nothing pending. On a fresh,
 * empty database (not the suite's migrated template), where even the bookkeeping table is new.
 */

const { baseUrl, prefix } = inject('testDb');
const made: string[] = [];
const folders: string[] = [];

async function emptyDatabase(): Promise<string> {
  const name = `${prefix}mig_${randomBytes(4).toString('hex')}`;
  await adminQuery(baseUrl, `create database ${name}`);
  made.push(name);
  return databaseUrl(baseUrl, name);
}

/** Core's and the installed plugins' migrations: what an empty database needs. */
const known = () => coreMigrations.length + (installedSchema().migrations?.length ?? 0);

async function executed(url: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ name: string }>('select name from mikro_orm_migrations order by id')).rows.map((r) => r.name);
  } finally {
    await client.end();
  }
}

afterAll(async () => {
  for (const name of made) await adminQuery(baseUrl, `drop database if exists ${name} with (force)`);
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
});

describe('migrateUp on more than one node', () => {
  it('two at once on an empty database: both succeed, every migration applied once, by one of them', async () => {
    const url = await emptyDatabase();
    const orms = await Promise.all([0, 1].map(() => openOrm({ url, poolMax: 2, ...installedSchema() })));
    try {
      const results = await Promise.all(orms.map((orm) => migrateUp(orm)));
      const counts = results.map((r) => r.length).sort((x, y) => x - y);
      expect(counts).toEqual([0, known()]);
      const names = await executed(url);
      expect(names).toHaveLength(known());
      expect(new Set(names).size).toBe(names.length);
      // And later: nothing pending for either.
      expect(await migrateUp(orms[0]!)).toEqual([]);
    } finally {
      for (const orm of orms) await orm.close(true);
    }
  });

  it('waits while another session holds the migration lock, then migrates', async () => {
    const url = await emptyDatabase();
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    const orm = await openOrm({ url, poolMax: 2, ...installedSchema() });
    try {
      await holder.query('select pg_advisory_lock($1, 1)', [PORTAL_LOCK_CLASS]);
      let done = false;
      const running = migrateUp(orm).then((r) => {
        done = true;
        return r;
      });
      // It queues on the lock (pg_locks shows it waiting) and applies nothing meanwhile.
      for (let i = 0; i < 100; i++) {
        const waiting = await holder.query(`select 1 from pg_locks where locktype = 'advisory' and classid = $1 and objid = 1 and not granted`, [
          PORTAL_LOCK_CLASS,
        ]);
        if (waiting.rowCount) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(done).toBe(false);
      const tables = await holder.query(`select 1 from pg_tables where tablename = 'mikro_orm_migrations'`);
      expect(tables.rowCount).toBe(0);
      await holder.query('select pg_advisory_unlock($1, 1)', [PORTAL_LOCK_CLASS]);
      expect(await running).toHaveLength(known());
    } finally {
      await holder.end();
      await orm.close(true);
    }
  });

  it('two portals starting together on an empty database (what `portal serve` does) both come up', async () => {
    const url = await emptyDatabase();
    const config = () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'portal-mig-'));
      folders.push(dataDir);
      return loadConfig({ env: {}, flags: { 'database.url': url, dataDir, 'log.level': 'silent', 'database.poolMax': 2 } }).config;
    };
    const portals = await Promise.all([config(), config()].map((c) => createPortal(c, { log: silentLogger, extensions: installedSchema() })));
    try {
      expect(await executed(url)).toHaveLength(known());
      for (const p of portals) expect(await p.ping()).toBe(true);
    } finally {
      for (const p of portals) await p.close();
    }
  });
});
