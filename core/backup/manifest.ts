import type pg from 'pg';
import { STORE_NAMES, type StoreName } from '../storage/open.ts';

/**
 * `manifest.json`, the last entry of a backup archive: what the archive holds and how to check
 * it. Row counts are exact (`count(*)` in the snapshot the database was dumped in), so a restore can prove
 * it loaded everything; every entry has its SHA-256, so a damaged archive is refused before
 * anything is written.
 */
export const BACKUP_KIND = 'ouderportaal-backup';
export const BACKUP_VERSION = 1;
export const MANIFEST_ENTRY = 'manifest.json';
export const DATABASE_ENTRY = 'database.dump';
export const CONFIG_FILE_ENTRY = 'config/portal.config.json';
export const SETTINGS_ENTRY = 'config/settings.json';

export interface BackupEntry {
  name: string;
  bytes: number;
  sha256: string;
}

export interface BackupFile extends BackupEntry {
  store: StoreName;
  /** The file's key in its store: its SHA-256 (the stores are content-addressed). */
  key: string;
}

/** What both database formats record. */
interface DatabaseCommon {
  /** `server_version` of the server dumped, e.g. `15.10`. */
  serverVersion: string;
  serverMajor: number;
  /** The last applied migration. */
  schemaVersion: string | null;
  /** Exact rows per table (`schema.table`), counted in the snapshot the dump was taken in. */
  tables: Record<string, number>;
}

/** pg_dump's custom format in one entry; restored with pg_restore. */
export interface PgDumpDatabase extends DatabaseCommon, BackupEntry {
  /** Absent in the first archives, which were all pg_dump. */
  format?: 'pg_dump';
  /** pg_dump's `--version`; pg_restore must be at least its major. */
  pgDump: string;
  pgDumpMajor: number;
}

/** One table of the portal-native dump: its rows as `COPY … TO STDOUT` (text format) writes them. */
export interface NativeTableEntry extends BackupEntry {
  schema: string;
  table: string;
  /** The columns in the order of the data (generated columns left out: the target computes them). */
  columns: string[];
  rows: number;
}

/**
 * The portal-native dump (core/backup/native-dump.ts): for a server without a fitting pg_dump
 * (the embedded PostgreSQL). Data only: the schema comes from the target's own migrations, so a
 * restore needs code that knows every one of `migrations` (and the same pg-boss schema).
 */
export interface NativeDatabase extends DatabaseCommon {
  format: 'native';
  /** The portal's schema (`current_schema()`), mapped onto the target's. */
  portalSchema: string;
  /** Every applied migration, in order. */
  migrations: string[];
  /** pg-boss's schema and its schema version (`pgboss.version`), or null when it was never started. */
  pgBoss: { schema: string; version: number } | null;
  data: NativeTableEntry[];
  /** Every sequence's state (`last_value`, `is_called`), for `setval`. */
  sequences: Record<string, { lastValue: string; isCalled: boolean }>;
}

export type BackupDatabase = PgDumpDatabase | NativeDatabase;

export interface BackupManifest {
  kind: typeof BACKUP_KIND;
  version: typeof BACKUP_VERSION;
  portalVersion: string;
  /** The portal clock's time of the snapshot. */
  createdAt: string;
  database: BackupDatabase;
  files: BackupFile[];
  /** The configuration file as it was, the settings in effect and the logo (not restored into place: copied out). */
  config: (BackupEntry & { source: string })[];
}

export const isNative = (db: BackupDatabase): db is NativeDatabase => db.format === 'native';

/** The database's entries in the archive. */
export const databaseEntries = (db: BackupDatabase): BackupEntry[] => (isNative(db) ? db.data : [db]);

export const fileEntryName = (store: StoreName, key: string) => `files/${store}/${key}`;

export function parseFileEntry(name: string): { store: StoreName; key: string } | null {
  const m = /^files\/([a-z]+)\/([0-9a-f]{64})$/.exec(name);
  if (!m || !(STORE_NAMES as readonly string[]).includes(m[1]!)) return null;
  return { store: m[1] as StoreName, key: m[2]! };
}

/** The user tables in every schema (the portal's and pg-boss's), as `schema.table`. */
export async function userTables(client: pg.Client): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(
    `select format('%s.%s', n.nspname, c.relname) as name
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.relkind in ('r', 'p')
        and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_%'
      order by 1`,
  );
  return rows.map((r) => r.name);
}

/** Exact row counts of every user table. */
export async function countRows(client: pg.Client): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const name of await userTables(client)) {
    const [schema, table] = name.split('.') as [string, string];
    const q = (s: string) => `"${s.replaceAll('"', '""')}"`;
    // `only`: a partitioned table's rows are counted once, in its partitions.
    const { rows } = await client.query<{ n: string }>(`select count(*) as n from only ${q(schema)}.${q(table)}`);
    counts[name] = Number(rows[0]!.n);
  }
  return counts;
}
