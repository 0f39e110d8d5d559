import pg from 'pg';

/**
 * Runs `fn` on a PostgreSQL connection of its own, outside the ORM's pool, and closes it after.
 * For advisory locks held while the pool does the work (migrations, periodic tasks): the pool
 * may be a single connection (database.poolMax), and a lock must outlive the statements it
 * guards. `name` shows as the session's application_name in pg_stat_activity.
 */
export async function withOwnConnection<T>(url: string | undefined, name: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, application_name: name, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}
