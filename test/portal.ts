import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { loadConfig } from '../config/load.ts';
import { cliAdmin } from '../core/actor.ts';
import { FixedClock } from '../core/clock.ts';
import { type CreatePortalOptions, createPortal, type Portal } from '../core/portal.ts';
import { installedSchema } from '../plugins/schema.ts';
import { adminQuery, databaseUrl } from './db-admin.ts';

export interface TestPortal extends Portal {
  /** Pinned: tests set or advance it (see TEST_NOW). */
  readonly clock: FixedClock;
  dbUrl: string;
  dataDir: string;
  /** Closes the portal and drops its database. */
  destroy(): Promise<void>;
}

export const admin = cliAdmin('test');

/**
 * Where every test portal's clock stands unless the test says otherwise: an ordinary Wednesday
 * morning in June, after the 09:00 deadline for cancelling today, no holiday near. The suite
 * never reads the real date, so it passes on any day. The calendar matrix (test/calendar.ts)
 * runs the date-sensitive suites again with PORTAL_TEST_NOW at the instants that have broken
 * portals before.
 */
export const TEST_NOW = process.env['PORTAL_TEST_NOW'] || '2026-06-10T10:00:00+02:00';

/** A fresh database copied from the migrated template, with a real portal on top of it. */
export async function createTestDatabase(): Promise<string> {
  const { baseUrl, template, prefix } = inject('testDb');
  const name = `${prefix}${randomBytes(4).toString('hex')}`;
  await adminQuery(baseUrl, `create database ${name} template ${template}`);
  return databaseUrl(baseUrl, name);
}

export async function createTestPortal(
  flags: Record<string, unknown> = {},
  options: Omit<CreatePortalOptions, 'clock'> & { clock?: FixedClock } = {},
): Promise<TestPortal> {
  const clock = options.clock ?? new FixedClock(TEST_NOW);
  const dbUrl = await createTestDatabase();
  const dataDir = mkdtempSync(join(tmpdir(), 'portal-data-'));
  const { config } = loadConfig({
    env: {},
    flags: { 'database.url': dbUrl, dataDir, 'log.level': 'silent', 'database.poolMax': 4, ...flags },
  });
  // The test databases are migrated with the installed plugins (global-setup.ts).
  const portal = await createPortal(config, { extensions: installedSchema(), ...options, clock });
  return Object.assign(portal, {
    clock,
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
