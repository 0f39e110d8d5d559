import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { EmbeddedPostgres } from '../core/db/embedded-postgres.ts';
import { migrateUp } from '../core/db/migrate.ts';
import { openOrm } from '../core/db/orm.ts';
import { JobQueue } from '../core/jobs/queue.ts';
import { silentLogger } from '../core/log.ts';
import { installedSchema } from '../plugins/schema.ts';
import { adminQuery, databaseUrl } from './db-admin.ts';

/**
 * One PostgreSQL for the whole run: the server in PORTAL_TEST_DATABASE_URL (CI), else an
 * embedded one in a temporary folder. A template database is migrated once; every test file
 * then gets its own copy of it (CREATE DATABASE … TEMPLATE takes milliseconds).
 */
interface TestDb {
  baseUrl: string;
  template: string;
  prefix: string;
}

/**
 * Vitest runs a global setup once per project, and the calendar matrix is eleven projects
 * (vitest.config.ts): they share one database server and template, made by whichever comes
 * first, and the last teardown removes it.
 */
const shared = globalThis as { __portalTestDb?: { db: Promise<{ db: TestDb; stop: () => Promise<void> }>; users: number } };

export default async function setup(project: TestProject) {
  if (!shared.__portalTestDb) shared.__portalTestDb = { db: prepare(), users: 0 };
  const state = shared.__portalTestDb;
  state.users += 1;
  const { db, stop } = await state.db;
  project.provide('testDb', db);
  return async () => {
    state.users -= 1;
    if (state.users === 0) {
      shared.__portalTestDb = undefined;
      await stop();
    }
  };
}

async function prepare(): Promise<{ db: TestDb; stop: () => Promise<void> }> {
  const runId = `${process.pid}_${Date.now().toString(36)}`;
  let baseUrl = process.env['PORTAL_TEST_DATABASE_URL'];
  let embedded: { release(): Promise<void> } | undefined;
  let dataDir: string | undefined;
  if (!baseUrl) {
    dataDir = mkdtempSync(join(tmpdir(), 'portal-test-'));
    const handle = await new EmbeddedPostgres({ dataDir }).acquire();
    embedded = handle;
    baseUrl = handle.url;
  }
  const template = `portal_test_${runId}_template`;
  await adminQuery(baseUrl, `drop database if exists ${template}`);
  await adminQuery(baseUrl, `create database ${template}`);
  const orm = await openOrm({ url: databaseUrl(baseUrl, template), poolMax: 2, ...installedSchema() });
  await migrateUp(orm);
  await orm.close(true);
  // Install the job queue's schema in the template too, so no test file pays for it.
  const queue = await JobQueue.start(databaseUrl(baseUrl, template), silentLogger, { supervise: false });
  await queue.stop();

  const db = { baseUrl, template, prefix: `portal_test_${runId}_` };
  const stop = async () => {
    const { rows } = await adminQuery(baseUrl, 'select datname from pg_database where datname like $1', [
      `portal_test_${runId}_%`,
    ]);
    for (const row of rows) await adminQuery(baseUrl, `drop database if exists ${row.datname} with (force)`);
    await embedded?.release();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  };
  return { db, stop };
}

declare module 'vitest' {
  export interface ProvidedContext {
    testDb: TestDb;
  }
}
