import type { EntityManager } from '@mikro-orm/postgresql';

/**
 * Runs a read-only statement as a named prepared statement on one pooled connection, so that
 * PostgreSQL plans it once per connection instead of on every call. For the few large
 * statements that run on every page view (the parent home page): its plan took longer to make
 * than to run. `?` placeholders as elsewhere; the text must be the same on every call (values
 * go in `params`). Not inside a transaction: it takes its own connection from the pool.
 */
export async function queryPrepared<T>(em: EntityManager, name: string, sql: string, params: unknown[]): Promise<T[]> {
  let n = 0;
  const text = sql.replace(/\?/g, () => `$${++n}`);
  const client = em.getConnection().getKnex().client;
  const connection = (await client.acquireConnection()) as {
    query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: T[] }>;
  };
  try {
    return (await connection.query({ name, text, values: params })).rows;
  } finally {
    await client.releaseConnection(connection);
  }
}
