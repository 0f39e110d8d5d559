import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readdir } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { Migrator } from '@mikro-orm/migrations';
import type { EntityManager } from '@mikro-orm/postgresql';
import { requireAdmin } from '../access/index.ts';
import type { Actor } from '../actor.ts';
import { audit } from '../audit.ts';
import { conflict, invalid } from '../errors.ts';
import { withConnection } from '../export/database.ts';
import { ensurePrivateDir, writePrivateFile } from '../files/private.ts';
import type { Portal } from '../portal.ts';
import { STORE_NAMES } from '../storage/open.ts';
import {
  BACKUP_KIND,
  BACKUP_VERSION,
  type BackupDatabase,
  type BackupEntry,
  type BackupManifest,
  countRows,
  DATABASE_ENTRY,
  databaseEntries,
  fileEntryName,
  isNative,
  MANIFEST_ENTRY,
  type NativeDatabase,
  parseFileEntry,
  userTables,
} from './manifest.ts';
import { beginNativeLoad, isLoaded, type NativeLoader, pgBossSchemaVersion } from './native-restore.ts';
import { libpqEnv, runTool, serverVersion } from './pg-connection.ts';
import { type FindToolOptions, findPgTool } from './pg-tools.ts';
import { readTar, TarFormatError, unsafeEntryName } from './tar.ts';

/** A tar archive (plain or gzipped) rather than an export folder: what `portal restore` tells apart. */
export async function isBackupArchive(path: string): Promise<boolean> {
  const fh = await open(path, 'r').catch(() => null);
  if (!fh) return false;
  try {
    if (!(await fh.stat()).isFile()) return false;
    const head = Buffer.alloc(263 + 6);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    if (bytesRead >= 2 && head[0] === 0x1f && head[1] === 0x8b) return true; // gzip
    return bytesRead >= 262 && head.toString('ascii', 257, 262) === 'ustar';
  } finally {
    await fh.close();
  }
}

async function isGzip(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(2);
    await fh.read(head, 0, 2, 0);
    return head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

async function entries(path: string) {
  const file: Readable = createReadStream(path);
  const source = (await isGzip(path)) ? file.pipe(createGunzip()) : file;
  file.on('error', (err) => source.destroy(err));
  return readTar(source);
}

const damaged = (message: string) => invalid('backup', `${message}: the archive is damaged or incomplete; nothing was restored`);

/**
 * Every entry the manifest lists, after checking its shape: a restore writes only what is listed
 * here, and only where its kind says (a store file under its key, a configuration file under
 * its base name in --config-to, a table into its table), never at a path the archive names.
 */
function listedEntries(manifest: BackupManifest): BackupEntry[] {
  const db = manifest.database as BackupDatabase | undefined;
  if (!db || typeof db.tables !== 'object' || !Array.isArray(manifest.files) || !Array.isArray(manifest.config)) throw damaged(`${MANIFEST_ENTRY} is incomplete`);
  if (isNative(db) && (!Array.isArray(db.data) || !Array.isArray(db.migrations) || typeof db.sequences !== 'object')) throw damaged(`${MANIFEST_ENTRY} is incomplete`);
  const entries = [...databaseEntries(db), ...manifest.files, ...manifest.config];
  const names = new Set<string>();
  for (const e of entries) {
    if (typeof e?.name !== 'string' || typeof e.bytes !== 'number' || typeof e.sha256 !== 'string') throw damaged(`${MANIFEST_ENTRY} lists an entry without name, size or SHA-256`);
    const unsafe = unsafeEntryName(e.name);
    if (unsafe) throw damaged(`${MANIFEST_ENTRY} lists ${JSON.stringify(e.name)}, refused: ${unsafe}`);
    if (names.has(e.name)) throw damaged(`${MANIFEST_ENTRY} lists ${e.name} twice`);
    names.add(e.name);
  }
  for (const f of manifest.files) {
    if (f.name !== fileEntryName(f.store, f.key) || !parseFileEntry(f.name)) throw damaged(`${MANIFEST_ENTRY} lists ${f.name} as ${f.store} file ${f.key}`);
  }
  for (const c of manifest.config) {
    if (!/^config\/[A-Za-z0-9][A-Za-z0-9._-]*$/.test(c.name)) throw damaged(`${MANIFEST_ENTRY} lists ${c.name} as a configuration file`);
  }
  return entries;
}

/**
 * Reads the whole archive once, hashing every entry, and checks it against its manifest: every
 * entry listed, each with its size and SHA-256, nothing extra. Touches nothing.
 */
export async function verifyArchive(path: string): Promise<BackupManifest> {
  const seen = new Map<string, { bytes: number; sha256: string }>();
  let manifestText: string | undefined;
  try {
    for await (const entry of await entries(path)) {
      if (seen.has(entry.name) || (entry.name === MANIFEST_ENTRY && manifestText !== undefined)) throw damaged(`${entry.name} is in the archive twice`);
      const hash = createHash('sha256');
      const parts: Buffer[] = [];
      let bytes = 0;
      for await (const chunk of entry.body) {
        hash.update(chunk);
        bytes += chunk.length;
        if (entry.name === MANIFEST_ENTRY) parts.push(chunk);
      }
      if (entry.name === MANIFEST_ENTRY) manifestText = Buffer.concat(parts).toString('utf8');
      else seen.set(entry.name, { bytes, sha256: hash.digest('hex') });
    }
  } catch (err) {
    if (err instanceof TarFormatError || (err as NodeJS.ErrnoException).code === 'Z_DATA_ERROR' || (err as NodeJS.ErrnoException).code === 'Z_BUF_ERROR') {
      throw damaged((err as Error).message);
    }
    throw err;
  }
  if (manifestText === undefined) throw damaged(`${MANIFEST_ENTRY} is missing`);
  let manifest: BackupManifest;
  try {
    manifest = JSON.parse(manifestText) as BackupManifest;
  } catch {
    throw damaged(`${MANIFEST_ENTRY} is not valid JSON`);
  }
  if (manifest?.kind !== BACKUP_KIND) throw invalid('backup', `${basename(path)} is not an Ouderportaal backup`);
  if (manifest.version !== BACKUP_VERSION) throw invalid('backup', `backup format ${manifest.version} is not one this portal reads (${BACKUP_VERSION})`);
  const listed = listedEntries(manifest);
  for (const e of listed) {
    const got = seen.get(e.name);
    if (!got) throw damaged(`${e.name} is missing`);
    if (got.bytes !== e.bytes || got.sha256 !== e.sha256) throw damaged(`${e.name} does not match its SHA-256 in the manifest`);
    seen.delete(e.name);
  }
  const extra = [...seen.keys()];
  if (extra.length) throw damaged(`${extra[0]} is not in the manifest`);
  return manifest;
}

/**
 * Before a native dump's rows can go in: this code must be able to make exactly the backup's
 * schema. Every migration of the backup must be one this code knows (a backup of a newer portal
 * is refused), and pg-boss's schema version the same; then the empty database gets the backup's
 * migrations, in the order they ran there (a migration added later to the code, even one with an
 * older name, runs at the next start, after the data is in), and pg-boss makes its schema.
 */
async function prepareNative(portal: Portal, db: NativeDatabase): Promise<void> {
  const strip = (name: string) => name.replace(/\.[jt]s$/, '');
  const known = new Set(((portal.orm.config.get('migrations').migrationsList ?? []) as { name: string }[]).map((m) => strip(m.name)));
  const wanted = db.migrations.map(strip);
  const unknown = wanted.filter((name) => !known.has(name));
  if (unknown.length) {
    throw invalid(
      'backup',
      `the backup's schema has migration(s) this version of the portal does not know (${unknown.slice(0, 3).join(', ')}): restore it with the portal version that made it, or a newer one; nothing was restored`,
    );
  }
  if (db.pgBoss && db.pgBoss.version !== pgBossSchemaVersion()) {
    throw invalid(
      'backup',
      `the backup's job queue has pg-boss schema ${db.pgBoss.version} and this portal's pg-boss makes ${pgBossSchemaVersion()}: restore it with the portal version that made it; nothing was restored`,
    );
  }
  if (wanted.length) await (portal.orm.getMigrator() as unknown as Migrator).up({ migrations: wanted });
  if (db.pgBoss) await portal.jobs();
}

export interface RestoreBackupOptions extends FindToolOptions {
  /** Where the configuration file, the settings and the logo are written (they are not put in place). */
  configTo: string;
  env: NodeJS.ProcessEnv;
}

export interface TableComparison {
  table: string;
  expected: number;
  restored: number;
}

export interface RestoreBackupResult {
  createdAt: string;
  tables: TableComparison[];
  files: { expected: number; restored: number; missing: string[] };
  config: string[];
  ok: boolean;
}

/** Refuses a target that holds anything: a restore adds to nothing, it never merges. */
async function refuseNonEmpty(portal: Portal, em: EntityManager): Promise<void> {
  const tables = await withConnection(em, userTables);
  if (tables.length) {
    throw conflict(
      `the target database is not empty (it holds ${tables.length} table(s), e.g. ${tables.slice(0, 3).join(', ')}): restore into a new, empty database (portal db create), with PORTAL_DATABASE_URL pointing at it, or a new data folder`,
    );
  }
  for (const name of STORE_NAMES) {
    for await (const _ of portal[name].keys()) {
      throw conflict(`the target store "${name}" already holds files: restore into an empty data folder or bucket (storage.url)`);
    }
  }
}

/**
 * Restores a backup archive into an empty portal: the archive is verified whole first (nothing
 * is touched when it is damaged or lists an entry it should not), the target refused unless
 * empty, then the database is loaded in one transaction (pg_dump's format by pg_restore; the
 * native one by migrating the empty database and COPYing the rows in, native-restore.ts) and
 * every file goes back into its store (the store checks it hashes to its key). Last, the rows of
 * every table are counted and compared with the manifest's, and every file is looked up: `ok`
 * only when all match. The configuration and the logo are copied to `configTo`, for the
 * administrator to put in place (this portal already runs with its own).
 */
export async function restoreBackup(
  portal: Portal,
  em: EntityManager,
  actor: Actor,
  path: string,
  options: RestoreBackupOptions,
): Promise<RestoreBackupResult> {
  requireAdmin(actor, 'data.export');
  const file = resolve(path);
  const manifest = await verifyArchive(file);
  await refuseNonEmpty(portal, em);
  const configTo = resolve(options.configTo);
  if ((await readdir(configTo).catch(() => [])).length) {
    throw conflict(`${configTo} already holds files (an earlier restore?): give --config-to a new or empty folder`);
  }

  const db = manifest.database;
  const listed = new Map(listedEntries(manifest).map((e) => [e.name, e]));
  if (isNative(db)) await prepareNative(portal, db);

  const restoredConfig: string[] = [];
  await withConnection(em, async (client) => {
    let pgRestore: { path: string; env: NodeJS.ProcessEnv } | undefined;
    let loader: NativeLoader | undefined;
    if (isNative(db)) loader = await beginNativeLoad(client, db);
    else {
      const server = await serverVersion(client);
      if (server.major < db.serverMajor) {
        throw invalid('backup', `the backup is of PostgreSQL ${db.serverMajor} and this server runs ${server.major}: restore into PostgreSQL ${db.serverMajor} or newer`);
      }
      const tool = await findPgTool('pg_restore', Math.max(server.major, db.pgDumpMajor), options);
      pgRestore = { path: tool.path, env: libpqEnv(client, options.env) };
    }
    const tablesOf = new Map(isNative(db) ? db.data.map((t) => [t.name, t]) : []);
    try {
      for await (const entry of await entries(file)) {
        if (entry.name === MANIFEST_ENTRY) continue;
        // Verified above; an archive swapped since then is caught here, before the commit.
        if (!listed.has(entry.name)) throw damaged(`${entry.name} is not in the manifest`);
        const table = tablesOf.get(entry.name);
        if (table && loader) {
          if (isLoaded(table)) await loader.load(table, entry.body);
          continue;
        }
        if (entry.name === DATABASE_ENTRY && pgRestore) {
          // Straight from the archive into pg_restore: no temporary copy of the dump.
          const run = runTool(
            pgRestore.path,
            ['--no-owner', '--no-acl', '--exit-on-error', '--single-transaction', '--no-password', `--dbname=${pgRestore.env.PGDATABASE}`],
            pgRestore.env,
          );
          for await (const chunk of entry.body) {
            if (!run.stdin.write(chunk)) await Promise.race([new Promise((r) => run.stdin.once('drain', r)), run.done]);
          }
          run.stdin.end();
          await run.done;
          continue;
        }
        const f = parseFileEntry(entry.name);
        if (f) {
          const put = await portal[f.store].put(entry.body);
          if (put.key !== f.key) throw damaged(`${entry.name} changed since it was verified (it hashes to ${put.key})`);
          continue;
        }
        if (entry.name.startsWith('config/')) {
          const out = join(configTo, basename(entry.name));
          await ensurePrivateDir(configTo);
          const parts: Buffer[] = [];
          for await (const chunk of entry.body) parts.push(chunk);
          await writePrivateFile(out, Buffer.concat(parts));
          restoredConfig.push(out);
        }
      }
      await loader?.finish();
    } catch (err) {
      await loader?.abort();
      throw err;
    }
  });

  // The check: every table's rows and every file, against the manifest.
  const counted = await withConnection(em, countRows);
  const names = [...new Set([...Object.keys(manifest.database.tables), ...Object.keys(counted)])].sort();
  const tables = names.map((table) => ({ table, expected: manifest.database.tables[table] ?? 0, restored: counted[table] ?? 0 }));
  const missing: string[] = [];
  for (const f of manifest.files) {
    const s = await portal[f.store].stat(f.key);
    if (!s || s.size !== f.bytes) missing.push(fileEntryName(f.store, f.key));
  }
  const ok = tables.every((t) => t.expected === t.restored) && missing.length === 0;
  // After the comparison (this event is the one row the backup did not have).
  const fork = em.fork();
  const rows = tables.reduce((a, t) => a + t.restored, 0);
  audit(fork, { type: 'backup.restored', actor, details: { createdAt: manifest.createdAt, rows, files: manifest.files.length - missing.length, ok } });
  await fork.flush();
  return {
    createdAt: manifest.createdAt,
    tables,
    files: { expected: manifest.files.length, restored: manifest.files.length - missing.length, missing },
    config: restoredConfig,
    ok,
  };
}
