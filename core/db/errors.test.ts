import { createServer } from 'node:net';
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { adminQuery, databaseUrl } from '../../test/db-admin.ts';
import { createTestPortal } from '../../test/portal.ts';
import { databaseUnavailableReason, isDatabaseUnavailable } from './errors.ts';

/** What connecting (and one query) to this URL throws, as node-postgres throws it. */
async function failureOf(url: string): Promise<unknown> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('select 1');
    return undefined;
  } catch (err) {
    return err;
  } finally {
    await client.end().catch(() => {});
  }
}

/** A port nothing listens on (one the system gave us, then closed). */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

describe('databaseUnavailableReason: an outage (503) apart from a wrong statement (422/409/500)', () => {
  const { baseUrl } = inject('testDb');

  it('a server that is not there, a database that is gone, a database refusing connections', async () => {
    const refused = new URL(baseUrl);
    refused.port = String(await closedPort());
    expect(databaseUnavailableReason(await failureOf(refused.toString()))).toBe('ECONNREFUSED');
    expect(databaseUnavailableReason(await failureOf(databaseUrl(baseUrl, 'no_such_database_here')))).toBe('3D000');

    const portal = await createTestPortal();
    const name = new URL(portal.dbUrl).pathname.slice(1);
    try {
      await adminQuery(baseUrl, `alter database ${name} with allow_connections false`);
      expect(isDatabaseUnavailable(await failureOf(portal.dbUrl))).toBe(true);
      // Through MikroORM and knex's pool, once its open connections are ended.
      await adminQuery(baseUrl, 'select pg_terminate_backend(pid) from pg_stat_activity where datname = $1', [name]);
      const viaOrm = await portal.orm.em.getConnection().execute('select 1').then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(isDatabaseUnavailable(viaOrm)).toBe(true);
    } finally {
      await adminQuery(baseUrl, `alter database ${name} with allow_connections true`);
      await portal.destroy();
    }
  });

  it('is null for errors of the statement, even when what was typed reads like an outage', async () => {
    const portal = await createTestPortal();
    try {
      // Through MikroORM, whose message carries the statement with its values bound in.
      const divided = await portal.orm.em
        .getConnection()
        .execute("select 1 / (length(?) - length(?)) as x", ['Connection terminated unexpectedly', 'Connection terminated unexpectedly'])
        .then(
          () => undefined,
          (err: unknown) => err,
        );
      expect((divided as { code?: string }).code).toBe('22012');
      expect((divided as Error).message).toContain('Connection terminated');
      expect(databaseUnavailableReason(divided)).toBeNull();
    } finally {
      await portal.destroy();
    }
    // The NUL byte node-postgres reports as 08P01 is the sender's text (badTextError), not an outage.
    expect(databaseUnavailableReason(Object.assign(new Error('invalid message format'), { code: '08P01' }))).toBeNull();
    expect(databaseUnavailableReason(new Error('something else'))).toBeNull();
    expect(databaseUnavailableReason('ECONNREFUSED')).toBeNull();
  });

  it('looks inside a cause and an AggregateError (a refused connection to ::1 and 127.0.0.1)', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    expect(databaseUnavailableReason(new AggregateError([refused], ''))).toBe('ECONNREFUSED');
    expect(databaseUnavailableReason(new Error('wrapped', { cause: refused }))).toBe('ECONNREFUSED');
    expect(databaseUnavailableReason(Object.assign(new Error('Knex: Timeout acquiring a connection.'), { name: 'KnexTimeoutError' }))).toBe(
      'no connection in time',
    );
    // A statement on a transaction knex ended when its connection died (PostgreSQL killed mid-request).
    expect(databaseUnavailableReason(new Error('Transaction query already complete, run with DEBUG=knex:tx for more info'))).toBe(
      'connection lost or refused',
    );
  });
});
