import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminQuery } from '../../test/db-admin.ts';
import { createTestPortal, type TestPortal } from '../../test/portal.ts';

/**
 * The job queue's state in /readyz must follow its database: 'unreachable' while its own
 * connections fail, 'running' again once they answer, without restarting anything. The outage is
 * real (a test database on the real server that refuses connections, its sessions ended).
 */

let portal: TestPortal;
let database: string;

async function allowConnections(allow: boolean): Promise<void> {
  await adminQuery(portal.dbUrl, `alter database ${database} with allow_connections ${allow}`);
  if (!allow) await adminQuery(portal.dbUrl, 'select pg_terminate_backend(pid) from pg_stat_activity where datname = $1', [database]);
}

async function until(what: string, done: () => boolean, ms = 10_000): Promise<number> {
  const started = performance.now();
  while (!done()) {
    if (performance.now() - started > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return performance.now() - started;
}

beforeAll(async () => {
  portal = await createTestPortal();
  database = new URL(portal.dbUrl).pathname.slice(1);
});

afterAll(async () => {
  if (database) await allowConnections(true).catch(() => {});
  await portal?.destroy();
});

describe('the job queue through a database outage', () => {
  it('is unreachable while its database is gone and running again once it is back', async () => {
    const queue = await portal.jobs();
    // A worker polling, as the server's do: its fetches are what meet the outage.
    await queue.ensureQueue('reachability-drill', { retryLimit: 0, retryDelaySeconds: 1 });
    await queue.work('reachability-drill', { pollingIntervalSeconds: 0.5 }, async () => {});
    expect(portal.jobsState()).toBe('running');

    await allowConnections(false);
    await until('the queue to notice the outage', () => portal.jobsState() === 'unreachable');
    // It stays so while the database refuses: a failing probe does not flip it back.
    await new Promise((r) => setTimeout(r, 1200));
    expect(portal.jobsState()).toBe('unreachable');

    await allowConnections(true);
    const ms = await until('the queue to be back', () => portal.jobsState() === 'running');
    expect(ms).toBeLessThan(3_000);
    // And it works: a job sent now is taken.
    const em = portal.em();
    const id = await em.transactional((tx) => queue.send(tx, 'reachability-drill', { n: 1 }));
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
  });
});
