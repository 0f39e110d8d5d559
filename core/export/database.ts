import type { EntityManager } from '@mikro-orm/postgresql';
import type pg from 'pg';

/**
 * Raw access to one pooled connection, the way core/db/prepared.ts gets it: an export holds one
 * REPEATABLE READ transaction and runs a COPY per table in it (pg-copy-streams takes the
 * pg.Client), and a restore one transaction of batched inserts, which the unit of work is not
 * made for.
 */
export async function withConnection<T>(em: EntityManager, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const knexClient = em.getConnection().getKnex().client;
  const connection = (await knexClient.acquireConnection()) as pg.Client;
  try {
    return await fn(connection);
  } finally {
    await knexClient.releaseConnection(connection);
  }
}

/** A name as a quoted SQL identifier. Our table and column names come from the catalogue, but still. */
export const ident = (name: string): string => `"${name.replaceAll('"', '""')}"`;

export interface ColumnInfo {
  name: string;
  /** As `format_type` writes it: `integer`, `character varying(200)`, `timestamp with time zone`. */
  type: string;
  /** PostgreSQL's type category: N for numbers (never neutralised in CSV). */
  category: string;
  /** The sequence that feeds this column (serial), to set after a restore. */
  sequence: string | null;
}

export interface TableInfo {
  name: string;
  columns: ColumnInfo[];
  primaryKey: string[];
}

/** The tables of the connection's schema that exist, with their columns in table order. */
export async function describeTables(client: pg.Client, names: readonly string[]): Promise<Map<string, TableInfo>> {
  const { rows } = await client.query<{
    table: string;
    name: string;
    type: string;
    category: string;
    sequence: string | null;
    pk: boolean;
  }>(
    `select c.relname as table, a.attname as name, format_type(a.atttypid, a.atttypmod) as type,
            t.typcategory as category,
            pg_get_serial_sequence(quote_ident(c.relname), a.attname) as sequence,
            coalesce(a.attnum = any(i.indkey), false) as pk
       from pg_class c
       join pg_namespace n on n.oid = c.relnamespace and n.nspname = current_schema()
       join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
       join pg_type t on t.oid = a.atttypid
       left join pg_index i on i.indrelid = c.oid and i.indisprimary
      where c.relkind in ('r', 'p') and c.relname = any($1)
      order by c.relname, a.attnum`,
    [names],
  );
  const tables = new Map<string, TableInfo>();
  for (const r of rows) {
    let t = tables.get(r.table);
    if (!t) {
      t = { name: r.table, columns: [], primaryKey: [] };
      tables.set(r.table, t);
    }
    t.columns.push({ name: r.name, type: r.type, category: r.category, sequence: r.sequence });
    if (r.pk) t.primaryKey.push(r.name);
  }
  return tables;
}

/** The migrations applied to the database, in the order they ran: the schema version of an export. */
export async function appliedMigrations(client: pg.Client): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>('select name from mikro_orm_migrations order by id');
  return rows.map((r) => r.name);
}
