import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { appliedMigrations, ident } from '../export/database.ts';
import { privateWriteStream } from '../files/private.ts';
import { QUEUE_SCHEMA } from '../jobs/queue.ts';
import type { NativeDatabase } from './manifest.ts';

/**
 * The portal-native database dump, for a server no installed pg_dump can dump (the embedded
 * PostgreSQL 18 ships none, and a Debian machine may only have older client tools). Data only,
 * in the snapshot of the caller's REPEATABLE READ transaction: every table of the portal's schema
 * and of pg-boss's (queued mail survives a restore) as `COPY … TO STDOUT` in text format (the
 * portable one: binary COPY carries type OIDs that differ between databases), every sequence's
 * state, the applied migrations and pg-boss's schema version. The schema itself is not dumped: a
 * restore builds it with the same migrations (restore.ts, native-restore.ts), which is why it needs
 * code that knows them all.
 *
 * Each table is spooled to a file of its own (0600) before it goes into the archive, because a
 * tar header needs the size first: memory stays constant, disk holds the dump once more.
 */

export interface SpooledTable {
  entry: Omit<NativeDatabase['data'][number], 'bytes' | 'sha256'>;
  path: string;
}

/** `database/public.account.tsv`; `%`-encoded so no identifier can make a path of it. */
export function tableEntryName(schema: string, table: string): string {
  const enc = (s: string) => encodeURIComponent(s).replaceAll('.', '%2E');
  return `database/${enc(schema)}.${enc(table)}.tsv`;
}

interface TableRow {
  schema: string;
  table: string;
  partitioned: boolean;
  columns: string[];
}

/**
 * The tables to dump, in load order: the portal's, then pg-boss's queue table first (its rows
 * make the job table's partitions at restore, see native-restore.ts), then the rest. A
 * partition is not dumped by itself: its rows come with its partitioned parent's.
 */
export async function dumpedTables(client: pg.Client, schemas: string[]): Promise<TableRow[]> {
  const { rows } = await client.query<TableRow>(
    `select n.nspname as schema, c.relname as table, c.relkind = 'p' as partitioned,
            array(select a.attname::text from pg_attribute a
                   where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped and a.attgenerated = ''
                   order by a.attnum) as columns
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.relkind in ('r', 'p') and not c.relispartition and n.nspname = any($1)
      order by array_position($1, n.nspname::text), c.relname <> 'queue', c.relname`,
    [schemas],
  );
  return rows;
}

/** Every sequence of `schemas` with its state (sequences are not transactional: like pg_dump, the value read now). */
async function sequences(client: pg.Client, schemas: string[]): Promise<NativeDatabase['sequences']> {
  const { rows } = await client.query<{ schema: string; name: string }>(
    `select n.nspname as schema, c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.relkind = 'S' and n.nspname = any($1) order by 1, 2`,
    [schemas],
  );
  const out: NativeDatabase['sequences'] = {};
  for (const s of rows) {
    const { rows: state } = await client.query<{ last_value: string; is_called: boolean }>(
      `select last_value::text, is_called from ${ident(s.schema)}.${ident(s.name)}`,
    );
    out[`${s.schema}.${s.name}`] = { lastValue: state[0]!.last_value, isCalled: state[0]!.is_called };
  }
  return out;
}

/** pg-boss's schema version in the snapshot, or null when the queue was never started. */
async function pgBossVersion(client: pg.Client): Promise<NativeDatabase['pgBoss']> {
  const { rows } = await client.query<{ present: boolean }>('select to_regclass($1) is not null as present', [`${QUEUE_SCHEMA}.version`]);
  if (!rows[0]!.present) return null;
  const v = await client.query<{ version: number }>(`select version from ${ident(QUEUE_SCHEMA)}.version`);
  return v.rows[0] ? { schema: QUEUE_SCHEMA, version: Number(v.rows[0].version) } : null;
}

export interface NativeDump {
  meta: Pick<NativeDatabase, 'format' | 'portalSchema' | 'migrations' | 'pgBoss' | 'sequences'>;
  tables: SpooledTable[];
}

/**
 * Spools every table into `spoolDir` (which must exist, 0700). Runs in the caller's transaction,
 * which must be REPEATABLE READ so every COPY sees one snapshot; `counts` are the exact rows
 * counted in it.
 */
export async function nativeDump(client: pg.Client, spoolDir: string, counts: Record<string, number>): Promise<NativeDump> {
  const { rows } = await client.query<{ schema: string }>('select current_schema() as schema');
  const portalSchema = rows[0]!.schema;
  const schemas = [portalSchema, QUEUE_SCHEMA];
  const tables: SpooledTable[] = [];
  for (const [i, t] of (await dumpedTables(client, schemas)).entries()) {
    const cols = t.columns.map(ident).join(', ');
    const rel = `${ident(t.schema)}.${ident(t.table)}`;
    // A partitioned table cannot be COPYed from directly: its rows, all partitions', by a query.
    const sql = t.partitioned ? `copy (select ${cols} from ${rel}) to stdout` : `copy ${rel} (${cols}) to stdout`;
    const path = join(spoolDir, `${String(i).padStart(4, '0')}.tsv`);
    await pipeline(client.query(copyTo(sql)), await privateWriteStream(path));
    // A partitioned table's own count is 0 (`only`): its rows are its partitions'.
    const rowsIn = t.partitioned
      ? Number((await client.query<{ n: string }>(`select count(*) as n from ${rel}`)).rows[0]!.n)
      : (counts[`${t.schema}.${t.table}`] ?? 0);
    tables.push({ entry: { name: tableEntryName(t.schema, t.table), schema: t.schema, table: t.table, columns: t.columns, rows: rowsIn }, path });
  }
  return {
    meta: {
      format: 'native',
      portalSchema,
      migrations: await appliedMigrations(client).catch(() => [] as string[]),
      pgBoss: await pgBossVersion(client),
      sequences: await sequences(client, schemas),
    },
    tables,
  };
}
