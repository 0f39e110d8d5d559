import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { invalid } from '../errors.ts';
import { ident } from '../export/database.ts';
import { QUEUE_SCHEMA } from '../jobs/queue.ts';
import type { NativeDatabase, NativeTableEntry } from './manifest.ts';

/**
 * Loads a portal-native dump (native-dump.ts) into a database the restore has just migrated, in
 * ONE transaction on one connection: nothing of the data is visible, or kept, unless all of it
 * loaded, checked and committed.
 *
 * Works for a role that only owns the tables (it created them, migrating the empty database), no
 * superuser needed: `session_replication_role` and disabling the foreign keys' system triggers
 * are superuser-only, so instead the foreign-key constraints are dropped before the COPYs and
 * added again after them, with their own names and definitions, in the same transaction (what
 * pg_restore does by creating them after the data). Adding a foreign key checks every row, so a
 * reference that does not hold aborts the restore, and the order of the tables does not matter
 * (cycles and self-references included). The portal's own triggers (append-only guards, the
 * deletion log, uniqueness checks) are disabled meanwhile (`DISABLE TRIGGER USER`, the owner
 * may): the rows go in exactly as they were dumped.
 *
 * pg-boss's schema is the one pg-boss made when the restore started it (same schema version as
 * the backup's, checked first): its `version` row is pg-boss's own and not loaded; its queues
 * are made with pg-boss's `create_queue()`, which also creates each queue's partition of the
 * job table, and then get the backup's settings; the jobs go into the partitioned job table,
 * which routes each row to its queue's partition.
 */

/** The pg-boss schema version this code's pg-boss creates (its version.json). */
export function pgBossSchemaVersion(): number {
  return (createRequire(import.meta.url)('pg-boss/version.json') as { schema: number }).schema;
}

/** Tables whose rows are made by the target itself, not loaded from the dump. */
const NOT_LOADED = new Set([`${QUEUE_SCHEMA}.version`]);

export const isLoaded = (t: Pick<NativeTableEntry, 'schema' | 'table'>) => !NOT_LOADED.has(`${t.schema}.${t.table}`);

interface ForeignKey {
  rel: string;
  name: string;
  definition: string;
}

export interface NativeLoader {
  /** Loads one table's entry; `body` is hashed on the way and must match the manifest's SHA-256. */
  load(entry: NativeTableEntry, body: AsyncIterable<Buffer>): Promise<void>;
  /** Foreign keys back, triggers on, sequences set, commit. */
  finish(): Promise<void>;
  abort(): Promise<void>;
}

export async function beginNativeLoad(client: pg.Client, db: NativeDatabase): Promise<NativeLoader> {
  const { rows: cur } = await client.query<{ schema: string }>('select current_schema() as schema');
  const portalSchema = cur[0]!.schema;
  const schemaOf = (s: string) => (s === db.portalSchema ? portalSchema : s);
  const relOf = (t: { schema: string; table: string }) => `${ident(schemaOf(t.schema))}.${ident(t.table)}`;
  const schemas = [portalSchema, QUEUE_SCHEMA];
  const loaded = db.data.filter(isLoaded);

  await client.query('begin');
  try {
    // Every table the dump holds exists here with exactly its columns: the same migrations made it.
    const { rows: targetCols } = await client.query<{ schema: string; table: string; columns: string[] }>(
      `select n.nspname as schema, c.relname as table,
              array(select a.attname::text from pg_attribute a
                     where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped and a.attgenerated = ''
                     order by a.attnum) as columns
         from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where c.relkind in ('r', 'p') and not c.relispartition and n.nspname = any($1)`,
      [schemas],
    );
    const target = new Map(targetCols.map((t) => [`${t.schema}.${t.table}`, t.columns]));
    for (const t of loaded) {
      const cols = target.get(`${schemaOf(t.schema)}.${t.table}`);
      if (!cols) throw invalid('backup', `table ${t.schema}.${t.table} of the backup does not exist after migrating: nothing was restored`);
      if ([...cols].sort().join(',') !== [...t.columns].sort().join(',')) {
        throw invalid('backup', `table ${t.schema}.${t.table} has other columns here than in the backup: nothing was restored`);
      }
    }

    const { rows: fks } = await client.query<ForeignKey>(
      `select format('%I.%I', n.nspname, c.relname) as rel, k.conname as name, pg_get_constraintdef(k.oid) as definition
         from pg_constraint k join pg_class c on c.oid = k.conrelid join pg_namespace n on n.oid = c.relnamespace
        where k.contype = 'f' and k.conparentid = 0 and n.nspname = any($1)
        order by 1, 2`,
      [schemas],
    );
    for (const fk of fks) await client.query(`alter table ${fk.rel} drop constraint ${ident(fk.name)}`);
    const { rows: triggered } = await client.query<{ rel: string }>(
      `select distinct format('%I.%I', n.nspname, c.relname) as rel
         from pg_trigger g join pg_class c on c.oid = g.tgrelid join pg_namespace n on n.oid = c.relnamespace
        where not g.tgisinternal and n.nspname = any($1) and not c.relispartition`,
      [schemas],
    );
    for (const t of triggered) await client.query(`alter table ${t.rel} disable trigger user`);
    // What migrating wrote (its bookkeeping rows) gives way to the backup's rows.
    for (const t of loaded) {
      const { rows } = await client.query(`select 1 from ${relOf(t)} limit 1`);
      if (rows.length) await client.query(`delete from ${relOf(t)}`);
    }

    return {
      async load(entry, body) {
        const hash = createHash('sha256');
        let bytes = 0;
        const hashed = Readable.from(
          (async function* () {
            for await (const chunk of body) {
              hash.update(chunk);
              bytes += chunk.length;
              yield chunk;
            }
          })(),
        );
        const cols = entry.columns.map(ident).join(', ');
        const isQueues = entry.schema === QUEUE_SCHEMA && entry.table === 'queue';
        if (isQueues) {
          // Into a copy first: pg-boss's create_queue() makes each queue with its partition.
          await client.query(`create temporary table restore_queue (like ${QUEUE_SCHEMA}.queue) on commit drop`);
          await pipeline(hashed, client.query(copyFrom(`copy restore_queue (${cols}) from stdin`)));
          await client.query(`select ${QUEUE_SCHEMA}.create_queue(name, '{}'::json) from restore_queue order by name`);
          const set = entry.columns.filter((c) => c !== 'name' && c !== 'partition_name');
          if (set.length) {
            await client.query(
              `update ${QUEUE_SCHEMA}.queue q set ${set.map((c) => `${ident(c)} = r.${ident(c)}`).join(', ')} from restore_queue r where r.name = q.name`,
            );
          }
        } else {
          await pipeline(hashed, client.query(copyFrom(`copy ${relOf(entry)} (${cols}) from stdin`)));
        }
        // Checked before the commit: an archive changed since it was verified loads nothing.
        if (bytes !== entry.bytes || hash.digest('hex') !== entry.sha256) {
          throw invalid('backup', `${entry.name} changed since it was verified: nothing was restored`);
        }
      },
      async finish() {
        for (const t of triggered) await client.query(`alter table ${t.rel} enable trigger user`);
        for (const fk of fks) {
          try {
            await client.query(`alter table ${fk.rel} add constraint ${ident(fk.name)} ${fk.definition}`);
          } catch (err) {
            throw invalid('backup', `the restored rows break foreign key ${fk.name} of ${fk.rel} (${(err as Error).message}): nothing was restored`);
          }
        }
        for (const [name, s] of Object.entries(db.sequences)) {
          const dot = name.indexOf('.');
          const seq = `${ident(schemaOf(name.slice(0, dot)))}.${ident(name.slice(dot + 1))}`;
          await client.query('select setval($1::regclass, $2::bigint, $3)', [seq, s.lastValue, s.isCalled]);
        }
        await client.query('commit');
      },
      async abort() {
        await client.query('rollback').catch(() => {});
      },
    };
  } catch (err) {
    await client.query('rollback').catch(() => {});
    throw err;
  }
}
