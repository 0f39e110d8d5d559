import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../cli/main.ts';
import { loadConfig } from '../config/load.ts';
import { createTestDatabase } from '../test/portal.ts';
import { DatabaseAheadError, MigrationsPendingError } from './db/migrate.ts';
import { silentLogger } from './log.ts';
import { createPortal } from './portal.ts';
// The test databases are migrated with the installed plugins (test/global-setup.ts).
import { installedSchema } from '../plugins/schema.ts';

const configFor = (url: string, env: Record<string, string> = {}) =>
  loadConfig({
    env: { PORTAL_DATABASE_URL: url, PORTAL_DATABASE_POOL_MAX: '2', ...env },
    cwd: mkdtempSync(join(tmpdir(), 'portal-')),
  }).config;

describe('migrations', () => {
  it('describe exactly the entities: the schema generator finds nothing left to change', async () => {
    const url = await createTestDatabase();
    const portal = await createPortal(configFor(url), { log: silentLogger, extensions: installedSchema() });
    const pending = await portal.orm.getSchemaGenerator().getUpdateSchemaSQL({ wrap: false });
    await portal.close();
    expect(pending.trim()).toBe('');
  });
});

describe('createPortal and the database version', () => {
  it('refuses a database that a newer version has migrated, and the CLI says so with exit 2', async () => {
    const url = await createTestDatabase();
    const portal = await createPortal(configFor(url), { log: silentLogger, extensions: installedSchema() });
    await portal.em().getConnection().execute(
      `insert into mikro_orm_migrations (name, executed_at) values ('Migration29990101000000FromTheFuture', now())`,
    );
    await portal.close();

    await expect(createPortal(configFor(url), { log: silentLogger, extensions: installedSchema() })).rejects.toThrow(DatabaseAheadError);
    await expect(createPortal(configFor(url), { log: silentLogger, extensions: installedSchema() })).rejects.toThrow(/Migration29990101000000FromTheFuture/);

    let stderr = '';
    const code = await main(['locations', 'list'], {
      stdout() {},
      stderr: (t) => {
        stderr += t;
      },
      env: { PORTAL_DATABASE_URL: url },
      cwd: process.cwd(),
      isTTY: false,
    });
    expect(code).toBe(2);
    expect(stderr).toMatch(/newer version/);
  });

  it('migrates an empty database on start, or refuses when auto-migration is off', async () => {
    const empty = await createTestDatabase();
    // A copy of the template is already migrated; roll the bookkeeping back to "empty" by
    // dropping every table, so that this really starts from nothing.
    const portal0 = await createPortal(configFor(empty), { log: silentLogger, migrate: 'none', extensions: installedSchema() });
    await portal0.em().getConnection().execute('drop schema public cascade; create schema public;');
    await portal0.close();

    await expect(createPortal(configFor(empty, { PORTAL_AUTO_MIGRATE: 'false' }), { log: silentLogger, extensions: installedSchema() })).rejects.toThrow(
      MigrationsPendingError,
    );
    const portal = await createPortal(configFor(empty), { log: silentLogger, extensions: installedSchema() });
    const rows = await portal.em().getConnection().execute('select count(*)::int as n from location');
    expect(rows[0]?.n).toBe(0);
    expect(await portal.ping()).toBe(true);
    await portal.close();
  });
});
