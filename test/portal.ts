import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { loadConfig } from '../config/load.ts';
import { cliAdmin } from '../core/actor.ts';
import { type CreatePortalOptions, createPortal, type Portal } from '../core/portal.ts';
import { installedSchema } from '../plugins/host.ts';
import { adminQuery, databaseUrl } from './db-admin.ts';

export interface TestPortal extends Portal {
  dbUrl: string;
  dataDir: string;
  /** Closes the portal and drops its database. */
  destroy(): Promise<void>;
}

export const admin = cliAdmin('test');

/** A fresh database copied from the migrated template, with a real portal on top of it. */
export async function createTestDatabase(): Promise<string> {
  const { baseUrl, template, prefix } = inject('testDb');
  const name = `${prefix}${randomBytes(4).toString('hex')}`;
  await adminQuery(baseUrl, `create database ${name} template ${template}`);
  return databaseUrl(baseUrl, name);
}

export async function createTestPortal(
  flags: Record<string, unknown> = {},
  options: CreatePortalOptions = {},
): Promise<TestPortal> {
  const dbUrl = await createTestDatabase();
  const dataDir = mkdtempSync(join(tmpdir(), 'portal-data-'));
  const { config } = loadConfig({
    env: {},
    flags: { 'database.url': dbUrl, dataDir, 'log.level': 'silent', 'database.poolMax': 4, ...flags },
  });
  // The test databases are migrated with the installed plugins (global-setup.ts).
  const portal = await createPortal(config, { extensions: installedSchema(), ...options });
  return Object.assign(portal, {
    dbUrl,
    dataDir,
    destroy: async () => {
      await portal.close();
      const name = new URL(dbUrl).pathname.slice(1);
      await adminQuery(dbUrl, `drop database if exists ${name} with (force)`);
      rmSync(dataDir, { recursive: true, force: true });
    },
  });
}
