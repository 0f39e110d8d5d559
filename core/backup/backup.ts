import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { createGzip } from 'node:zlib';
import type { EntityManager } from '@mikro-orm/postgresql';
import { requireAdmin } from '../access/index.ts';
import type { Actor } from '../actor.ts';
import { audit } from '../audit.ts';
import { invalid } from '../errors.ts';
import { appliedMigrations, withConnection } from '../export/database.ts';
import { createPrivateDir, ensurePrivateDir, privateWriteStream, refuseExistingFile } from '../files/private.ts';
import type { Portal } from '../portal.ts';
import { rethrowAfterCleanup } from '../storage/after-cleanup.ts';
import { describeNoSpace, freeBytesAt, StorageFullError } from '../storage/disk-full.ts';
import { STORE_NAMES, type StoreName } from '../storage/open.ts';
import {
  BACKUP_KIND,
  BACKUP_VERSION,
  type BackupDatabase,
  type BackupEntry,
  type BackupFile,
  type BackupManifest,
  CONFIG_FILE_ENTRY,
  countRows,
  DATABASE_ENTRY,
  fileEntryName,
  isNative,
  MANIFEST_ENTRY,
  type NativeTableEntry,
  SETTINGS_ENTRY,
} from './manifest.ts';
import { nativeDump } from './native-dump.ts';
import { libpqEnv, runTool, serverVersion } from './pg-connection.ts';
import { type FindToolOptions, type FoundTool, findPgTool } from './pg-tools.ts';
import { tarWriter } from './tar.ts';

/**
 * How the database goes in: `pg_dump` (its custom format; refused when no pg_dump fits the
 * server), `native` (the portal's own COPY dump, native-dump.ts), or `auto`: pg_dump when one of
 * the server's major version or newer is installed, else native. PORTAL_BACKUP_DUMP sets it.
 */
export type DumpFormat = 'auto' | 'pg_dump' | 'native';
export const DUMP_FORMATS: readonly DumpFormat[] = ['auto', 'pg_dump', 'native'];

export interface BackupOptions extends FindToolOptions {
  dump?: DumpFormat;
  /** A file name (`….tar` / `….tar.gz`) or an existing folder (then `ouderportaal-backup-<UTC time>.tar[.gz]` in it). */
  out: string;
  gzip?: boolean;
  /** Replace an existing file at `out`. */
  force?: boolean;
  portalVersion: string;
  /** The configuration file in use, if any (copied in as it is). */
  configFile?: string;
  /** The settings set explicitly, with where each came from (`portal config show`), database URL without its password. */
  settings: Record<string, { value: unknown; source: string }>;
  /** The environment pg_dump runs in (PATH, locale); libpq's variables are set from the connection. */
  env: NodeJS.ProcessEnv;
}

export interface BackupResult {
  file: string;
  bytes: number;
  manifest: BackupManifest;
}

/** `20261125T023000Z` */
const stamp = (d: Date) => d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');

async function isDir(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null))?.isDirectory() ?? false;
}

/** The database as it goes into the archive: pg_dump's one file, or the native dump's file per table. */
interface DatabaseParts {
  files: { name: string; path: string }[];
  /** The manifest's database entry, given `files`' entries as written (same order). */
  describe(entries: BackupEntry[]): BackupDatabase;
}

/** The pg_dump to use, or null for the native dump. */
async function chooseDump(format: DumpFormat, serverMajor: number, options: FindToolOptions): Promise<FoundTool | null> {
  if (format === 'native') return null;
  if (format === 'pg_dump') return await findPgTool('pg_dump', serverMajor, options);
  // auto: pg_dump's custom format when there is one that can dump this server (restorable with
  // pg_restore alone, the schema included), else the portal's own.
  return await findPgTool('pg_dump', serverMajor, options).catch(() => null);
}

/**
 * Everything a portal needs to come back on another machine, in one 0600 tar archive: the
 * database (credentials, keys and the job queue included: what the export leaves out), every
 * file of every store, the configuration file, the settings in effect and the logo, and
 * `manifest.json` last (row counts, SHA-256 of every entry).
 *
 * The database goes in as pg_dump's custom format when a pg_dump of the server's major version
 * or newer is installed, else as the portal-native dump (native-dump.ts); `options.dump`
 * (PORTAL_BACKUP_DUMP) forces either.
 *
 * Consistent: the row counts are taken in the REPEATABLE READ transaction the database is dumped
 * in (pg_dump imports its snapshot, `--snapshot`; the native dump's COPYs run in it), so they are
 * exactly the dump's. Files are read from the stores after that snapshot: a file written
 * meanwhile is in the archive without a row (an orphan, swept later); a file deleted meanwhile
 * is missing and its row points at nothing (the photo shows as missing), which is logged.
 *
 * Written as `.<name>.partial` beside the target and renamed when complete and fsynced, so a file
 * with the final name is always whole. The dump is spooled beside it first (0700 folder, removed
 * after); the space the archive needs is checked before it is written.
 */
export async function writeBackup(portal: Portal, em: EntityManager, actor: Actor, options: BackupOptions): Promise<BackupResult> {
  requireAdmin(actor, 'data.export');
  const format = options.dump ?? 'auto';
  if (!DUMP_FORMATS.includes(format)) throw invalid('PORTAL_BACKUP_DUMP', `"${format}" is not one of ${DUMP_FORMATS.join(', ')}`);
  const createdAt = portal.clock.now();
  const ext = options.gzip ? '.tar.gz' : '.tar';
  const target = resolve((await isDir(options.out)) ? join(options.out, `ouderportaal-backup-${stamp(createdAt)}${ext}`) : options.out);
  await refuseExistingFile(target, { force: options.force });
  const dir = dirname(target);
  await ensurePrivateDir(dir);
  const partial = join(dir, `.${basename(target)}.partial`);
  const spool = join(dir, `.${basename(target)}.spool.partial`);

  const removePartials = async () => {
    await Promise.all([unlink(partial).catch(() => {}), rm(spool, { recursive: true, force: true })]);
  };
  try {
    // Left by a run that was killed: ours by its name.
    await removePartials();
    await createPrivateDir(spool);
    const parts = await withConnection(em, async (client): Promise<DatabaseParts> => {
      await client.query('begin isolation level repeatable read read only');
      try {
        const server = await serverVersion(client);
        const pgDump = await chooseDump(format, server.major, options);
        const migrations = await appliedMigrations(client).catch(() => [] as string[]);
        const common = { serverVersion: server.version, serverMajor: server.major, schemaVersion: migrations.at(-1) ?? null };
        if (!pgDump) {
          const tables = await countRows(client);
          const dump = await nativeDump(client, spool, tables);
          return {
            files: dump.tables.map((t) => ({ name: t.entry.name, path: t.path })),
            describe: (entries) => ({
              ...common,
              tables,
              ...dump.meta,
              data: dump.tables.map((t, i): NativeTableEntry => ({ ...t.entry, ...entries[i]! })),
            }),
          };
        }
        const { rows } = await client.query<{ id: string }>('select pg_export_snapshot() as id');
        const dumpFile = join(spool, DATABASE_ENTRY);
        // The dump runs in the snapshot while this transaction, which exported it, stays open.
        const dumping = runTool(
          pgDump.path,
          ['--format=custom', `--snapshot=${rows[0]!.id}`, '--no-password', `--file=${dumpFile}`],
          libpqEnv(client, options.env),
        );
        dumping.stdin.end();
        const [tables] = await Promise.all([
          countRows(client),
          dumping.done.catch(async (err: Error & { stderr?: string }) => {
            if (/No space left|Disk quota/i.test(err.stderr ?? '')) throw new StorageFullError(dir, undefined, await freeBytesAt(dir), false, { cause: err });
            throw err;
          }),
        ]);
        return {
          files: [{ name: DATABASE_ENTRY, path: dumpFile }],
          describe: ([entry]) => ({ ...entry!, format: 'pg_dump', pgDump: pgDump.version, pgDumpMajor: pgDump.major, ...common, tables }),
        };
      } finally {
        await client.query('rollback').catch(() => {});
      }
    });
    const { manifest, bytes } = await writeArchive(portal, partial, parts, createdAt, options, {
      kind: BACKUP_KIND,
      version: BACKUP_VERSION,
      portalVersion: options.portalVersion,
      createdAt: createdAt.toISOString(),
      files: [],
      config: [],
    });
    await rm(spool, { recursive: true, force: true });
    await rename(partial, target);
    const fh = await open(dir, 'r');
    await fh.sync().finally(() => fh.close());
    const fork = em.fork();
    const rows = Object.values(manifest.database.tables).reduce((a, b) => a + b, 0);
    audit(fork, {
      type: 'backup.written',
      actor,
      details: { file: target, bytes, format: isNative(manifest.database) ? 'native' : 'pg_dump', rows, files: manifest.files.length, schemaVersion: manifest.database.schemaVersion },
    });
    await fork.flush();
    return { file: target, bytes, manifest };
  } catch (err) {
    return await rethrowAfterCleanup(await describeNoSpace(err, dir), removePartials, (cleanupErr) =>
      portal.log.warn(`removing the partial backup failed too: ${(cleanupErr as Error).message}`),
    );
  }
}

async function writeArchive(
  portal: Portal,
  partial: string,
  database: DatabaseParts,
  createdAt: Date,
  options: BackupOptions,
  head: Omit<BackupManifest, 'database'>,
): Promise<{ manifest: BackupManifest; bytes: number }> {
  const dir = dirname(partial);
  // What goes in, with sizes, before a byte is written: the space check needs the total.
  const stores: [StoreName, Portal[StoreName]][] = STORE_NAMES.map((name) => [name, portal[name]]);
  const listed: { store: StoreName; key: string; bytes: number }[] = [];
  for (const [name, store] of stores) {
    for await (const key of store.keys()) {
      const s = await store.stat(key);
      if (s) listed.push({ store: name, key, bytes: s.size });
    }
  }
  const dbFiles = await Promise.all(database.files.map(async (f) => ({ ...f, bytes: (await stat(f.path)).size })));
  const configs: { name: string; source: string; data: Buffer }[] = [];
  if (options.configFile) configs.push({ name: CONFIG_FILE_ENTRY, source: options.configFile, data: await readFile(options.configFile) });
  configs.push({ name: SETTINGS_ENTRY, source: 'settings in effect', data: Buffer.from(`${JSON.stringify(options.settings, null, 2)}\n`) });
  const logo = portal.config.branding.logo ? resolve(portal.config.dataDir, portal.config.branding.logo) : undefined;
  if (logo) configs.push({ name: `config/logo${extname(logo).toLowerCase()}`, source: logo, data: await readFile(logo) });

  // Headers (a PAX one for a long name) and padding add at most three blocks per entry, and the
  // manifest about 300 bytes an entry.
  const entries = listed.length + dbFiles.length + configs.length + 1;
  const sum = (xs: { bytes: number }[]) => xs.reduce((n, x) => n + x.bytes, 0);
  const needed = sum(dbFiles) + sum(listed) + configs.reduce((n, c) => n + c.data.length, 0) + entries * (3 * 512 + 300);
  const free = await freeBytesAt(dir);
  if (free !== undefined && free < needed) throw new StorageFullError(dir, needed, free);

  const out = await privateWriteStream(partial);
  const tar = tarWriter(createdAt, options.gzip ? [createGzip({ level: 1 }), out] : [out]);
  const add = async (name: string, size: number, body: Uint8Array | AsyncIterable<Uint8Array>): Promise<BackupEntry> => {
    const hash = createHash('sha256');
    await tar.add(name, size, body, (chunk) => hash.update(chunk));
    return { name, bytes: size, sha256: hash.digest('hex') };
  };

  const dbEntries: BackupEntry[] = [];
  for (const f of dbFiles) dbEntries.push(await add(f.name, f.bytes, createReadStream(f.path)));
  const manifest: BackupManifest = { ...head, database: database.describe(dbEntries) };
  for (const f of listed) {
    const store = portal[f.store];
    const s = await store.stat(f.key);
    if (!s) {
      portal.log.warn(`backup: ${f.store} file ${f.key} was deleted while the backup ran; left out`);
      continue;
    }
    const entry = await add(fileEntryName(f.store, f.key), s.size, await store.stream(f.key));
    // The stores are content-addressed: bytes that do not hash to their key are damaged.
    if (entry.sha256 !== f.key) throw new Error(`${f.store} file ${f.key} is damaged in the store (its content hashes to ${entry.sha256}): not backed up`);
    manifest.files.push({ ...entry, store: f.store, key: f.key } satisfies BackupFile);
  }
  for (const c of configs) manifest.config.push({ ...(await add(c.name, c.data.length, c.data)), source: c.source });
  const manifestBytes = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
  await tar.add(MANIFEST_ENTRY, manifestBytes.length, manifestBytes);
  await tar.finish();
  const fh = await open(partial, 'r');
  await fh.sync().finally(() => fh.close());
  return { manifest, bytes: (await stat(partial)).size };
}
