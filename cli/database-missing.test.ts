import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../config/load.ts';
import { DatabaseMissingError } from '../core/db/errors.ts';
import { silentLogger } from '../core/log.ts';
import { createPortal } from '../core/portal.ts';
import { installedSchema } from '../plugins/schema.ts';
import { runCli } from '../test/cli.ts';
import { adminQuery, databaseUrl } from '../test/db-admin.ts';

/**
 * A database name that does not exist, under the run's prefix (test/global-setup.ts drops
 * whatever of it a test leaves behind).
 */
function missingDatabase(): { name: string; url: string } {
  const { baseUrl, prefix } = inject('testDb');
  const name = `${prefix}missing_${randomBytes(4).toString('hex')}`;
  return { name, url: databaseUrl(baseUrl, name) };
}

async function exists(name: string): Promise<boolean> {
  const { baseUrl } = inject('testDb');
  const { rowCount } = await adminQuery(baseUrl, 'select 1 from pg_database where datname = $1', [name]);
  return rowCount === 1;
}

async function queryOn(url: string, sql: string): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

const env = (url: string, more: Record<string, string> = {}) => ({ PORTAL_DATABASE_URL: url, PORTAL_DATABASE_POOL_MAX: '2', ...more });
const oneLine = (name: string) =>
  new RegExp(`^portal: database "${name}" does not exist on [\\w.]+:\\d+; create it with \`portal db create\` or check PORTAL_DATABASE_URL\\n$`);

describe('a database that is not there is never created silently', () => {
  it('an ordinary command fails with exit 2 and one line naming database and server; nothing is created', async () => {
    const { name, url } = missingDatabase();
    for (const args of [['locations', 'list'], ['db', 'status'], ['db', 'migrate'], ['serve', '--port', '0']]) {
      const r = await runCli(args, env(url));
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(oneLine(name));
      expect(r.stdout, args.join(' ')).toBe('');
    }
    expect(await exists(name)).toBe(false);
  });

  it('createPortal refuses it without createDatabase (the server, every command, the tests)', async () => {
    const { name, url } = missingDatabase();
    const { config } = loadConfig({ env: env(url), cwd: mkdtempSync(join(tmpdir(), 'portal-')) });
    await expect(createPortal(config, { log: silentLogger, extensions: installedSchema() })).rejects.toThrow(DatabaseMissingError);
    expect(await exists(name)).toBe(false);
  });

  it('`portal db create --dry-run` says what it would do and creates nothing', async () => {
    const { name, url } = missingDatabase();
    const r = await runCli(['db', 'create', '--dry-run'], env(url));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`Would create database "${name}" on`));
    expect(await exists(name)).toBe(false);
  });

  it('`portal db create` creates and migrates it, audits it, and says so; again it changes nothing', async () => {
    const { name, url } = missingDatabase();
    const r = await runCli(['--json', 'db', 'create'], env(url));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result).toMatchObject({ database: name, created: true });
    expect(result.applied.length).toBeGreaterThan(10);
    expect(await exists(name)).toBe(true);

    const status = await runCli(['db', 'status'], env(url));
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/State:\s+up to date/);
    const audit = await queryOn(url, `select actor, details from audit_event where type = 'database.created'`);
    expect(audit).toEqual([{ actor: expect.any(String), details: expect.objectContaining({ database: name }) }]);

    const again = await runCli(['db', 'create'], env(url));
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/already exists on .*nothing changed/);
  });

  it('`portal init` creates the database when it is missing', async () => {
    const { name, url } = missingDatabase();
    const r = await runCli(['init', '--name', 'Zon', '--url', 'https://ouders.zon.nl', '--helpdesk-email', 'help@zon.nl'], env(url));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Organisation set up/);
    expect(await exists(name)).toBe(true);
    expect((await runCli(['locations', 'list'], env(url))).code).toBe(0);
  });

  it('a user without CREATEDB gets one line saying so (exit 2), not a stack trace', async () => {
    const { baseUrl } = inject('testDb');
    const role = `portal_nocreate_${randomBytes(3).toString('hex')}`;
    await adminQuery(baseUrl, `create role ${role} login password 'x' nocreatedb`);
    try {
      const { name, url } = missingDatabase();
      const u = new URL(url);
      u.username = role;
      u.password = 'x';
      const r = await runCli(['db', 'create'], env(u.toString()));
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^portal: database "${name}" does not exist on .* could not be created: ${role} may not create databases`));
      expect(await exists(name)).toBe(false);
    } finally {
      await adminQuery(baseUrl, `drop role if exists ${role}`);
    }
  });
});
