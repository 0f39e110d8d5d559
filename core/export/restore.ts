import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { PassThrough, pipeline, type Readable, Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { EntityManager } from '@mikro-orm/postgresql';
import type pg from 'pg';
import type { Actor } from '../actor.ts';
import { requireAdmin } from '../access/index.ts';
import { audit } from '../audit.ts';
import { conflict, invalid } from '../errors.ts';
import { csvValue, readCsvRecords } from './csv.ts';
import { appliedMigrations, type ColumnInfo, describeTables, ident, withConnection } from './database.ts';
import { MANIFEST_FILE, type Manifest, type ManifestFile, parseManifest } from './manifest.ts';
import { EXPORTED } from './tables.ts';

export interface RestoreResult {
  dir: string;
  snapshotAt: string;
  tables: number;
  rows: number;
}

/** Rows per INSERT: one statement carries a few hundred kilobytes. */
const BATCH = 1000;

/**
 * Loads a complete export into an empty, migrated database, so that an export is also a
 * backup. Checks everything before writing anything: the manifest, every file's size and
 * SHA-256, that the export is complete (no --since, no --tables), that the database has exactly
 * the export's migrations and holds no portal data. Then one transaction: the tables in the
 * export's order (parents before children), and the sequences set past the restored ids.
 * Credentials are not in an export: restored accounts have no password or second factor until
 * they are sent a new one.
 */
export async function restoreExport(em: EntityManager, actor: Actor, dirArg: string): Promise<RestoreResult> {
  requireAdmin(actor, 'data.export');
  const dir = resolve(dirArg);
  const manifest = await readVerifiedManifest(dir);
  if (manifest.since) throw invalid('export', `this export holds only changes since ${manifest.since}: not a backup, restore refuses it`);
  if (!manifest.complete) throw invalid('export', 'this export holds only some tables (--tables): not a backup, restore refuses it');

  const rows = await withConnection(em, async (client) => {
    const migrations = await appliedMigrations(client);
    // As sets: a plugin installed later ran its migration later, and that is the same schema.
    if ([...migrations].sort().join('\n') !== [...manifest.migrations].sort().join('\n')) {
      throw conflict(
        `the export is at schema version ${manifest.schemaVersion}, this database at ${migrations[migrations.length - 1] ?? '(none)'}: restore with the portal version that wrote it`,
      );
    }
    const info = await describeTables(
      client,
      manifest.files.map((f) => f.table),
    );
    for (const f of manifest.files) {
      const t = info.get(f.table);
      if (!t) throw conflict(`table ${f.table} of the export does not exist in this database`);
      const unknown = f.columns.filter((c) => !t.columns.some((col) => col.name === c));
      if (unknown.length) throw conflict(`${f.table}: columns ${unknown.join(', ')} do not exist in this database`);
    }
    // Every table an export may hold must be empty, not only those in this export.
    const present = await describeTables(client, [...new Set([...EXPORTED.map((t) => t.name), ...manifest.files.map((f) => f.table)])]);
    await client.query('begin');
    const nonEmpty: string[] = [];
    for (const name of present.keys()) {
      const { rows } = await client.query(`select 1 from ${ident(name)} limit 1`);
      if (rows.length) nonEmpty.push(name);
    }
    if (nonEmpty.length) {
      await client.query('rollback');
      throw conflict(`the database is not empty (${nonEmpty.join(', ')} hold rows): restore only into a new, migrated database`);
    }

    try {
      let total = 0;
      for (const f of manifest.files) {
        const columns = f.columns.map((c) => info.get(f.table)!.columns.find((col) => col.name === c)!);
        const n = await loadFile(client, join(dir, f.file), f, columns, manifest);
        if (n !== f.rows) throw new Error(`${f.file}: ${n} rows read, the manifest says ${f.rows}`);
        total += n;
      }
      // serial columns: the next id continues after the restored ones.
      for (const f of manifest.files) {
        for (const col of info.get(f.table)!.columns) {
          if (!col.sequence) continue;
          await client.query(
            `select setval($1::regclass, coalesce((select max(${ident(col.name)}) from ${ident(f.table)}), 1), (select count(*) > 0 from ${ident(f.table)}))`,
            [col.sequence],
          );
        }
      }
      await client.query('commit');
      return total;
    } catch (err) {
      await client.query('rollback').catch(() => {});
      throw err;
    }
  });

  const fork = em.fork();
  audit(fork, {
    type: 'export.restored',
    actor,
    details: { snapshotAt: manifest.snapshotAt, schemaVersion: manifest.schemaVersion, tables: manifest.files.length, rows },
  });
  await fork.flush();
  return { dir, snapshotAt: manifest.snapshotAt, tables: manifest.files.length, rows };
}

/** The manifest, once every file it names has the size and SHA-256 it states. */
export async function readVerifiedManifest(dir: string): Promise<Manifest> {
  let text: string;
  try {
    text = await readFile(join(dir, MANIFEST_FILE), 'utf8');
  } catch {
    throw invalid('export', `${dir} has no ${MANIFEST_FILE}: not a complete export`);
  }
  let manifest: Manifest;
  try {
    manifest = parseManifest(text);
  } catch (err) {
    throw invalid('export', (err as Error).message);
  }
  for (const f of manifest.files) {
    const path = join(dir, f.file);
    const size = await stat(path).then(
      (s) => s.size,
      () => null,
    );
    if (size === null) throw invalid('export', `${f.file} is missing`);
    if (size !== f.bytes) throw invalid('export', `${f.file} has ${size} bytes, the manifest says ${f.bytes}: damaged or incomplete`);
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
    if (hash.digest('hex') !== f.sha256) throw invalid('export', `${f.file} does not match its SHA-256 in the manifest: damaged or altered`);
  }
  return manifest;
}

/**
 * The file as text, hashed as it is read: the files were checked before the transaction began,
 * and this catches one changed since (the load then fails and nothing is kept).
 */
function openText(path: string, gzip: boolean, hash: Hash): Readable {
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  const text = pipeline(createReadStream(path), tap, gzip ? createGunzip() : new PassThrough(), () => {});
  text.setEncoding('utf8');
  return text;
}

/**
 * The lines of an ndjson file: split at LF only. Not node:readline: since Node.js 22 it also
 * breaks lines at U+2028 and U+2029, which JSON strings may hold unescaped (a message pasted
 * from a word processor), and a restore on Node 24 then read one row as two.
 */
export async function* ndjsonLines(text: AsyncIterable<string>): AsyncGenerator<string> {
  let rest = '';
  for await (const chunk of text) {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop()!;
    yield* lines;
  }
  if (rest !== '') yield rest;
}

async function loadFile(
  client: pg.Client,
  path: string,
  file: ManifestFile,
  columns: ColumnInfo[],
  manifest: Manifest,
): Promise<number> {
  const list = columns.map((c) => ident(c.name)).join(', ');
  const hash = createHash('sha256');
  const checkHash = () => {
    if (hash.digest('hex') !== file.sha256) throw invalid('export', `${file.file} changed while it was being restored`);
  };
  let n = 0;
  if (manifest.format === 'ndjson') {
    // PostgreSQL reads the JSON back into the table's row type: the types round-trip exactly.
    const sql = `insert into ${ident(file.table)} (${list}) overriding system value select ${list} from json_populate_recordset(null::${ident(file.table)}, $1::json)`;
    let batch: string[] = [];
    const flush = async () => {
      if (!batch.length) return;
      await client.query(sql, [`[${batch.join(',')}]`]);
      n += batch.length;
      batch = [];
    };
    for await (const line of ndjsonLines(openText(path, manifest.gzip, hash))) {
      if (line === '') continue;
      batch.push(line);
      if (batch.length >= BATCH) await flush();
    }
    await flush();
    checkHash();
    return n;
  }

  // CSV: text forms, one array per column, cast by PostgreSQL to the column's type.
  const neutralised = columns.map((c) => c.category !== 'N');
  const sql = `insert into ${ident(file.table)} (${list}) overriding system value select ${columns
    .map((c, i) => `c${i}::${c.type}`)
    .join(', ')} from unnest(${columns.map((_, i) => `$${i + 1}::text[]`).join(', ')}) as u(${columns.map((_, i) => `c${i}`).join(', ')})`;
  let batch: (string | null)[][] = columns.map(() => []);
  let size = 0;
  const flush = async () => {
    if (!size) return;
    await client.query(sql, batch);
    n += size;
    batch = columns.map(() => []);
    size = 0;
  };
  let header = true;
  for await (const record of readCsvRecords(openText(path, manifest.gzip, hash))) {
    if (header) {
      header = false;
      if (record.join(',') !== file.columns.join(',')) throw invalid('export', `${file.file}: the header does not match the manifest's columns`);
      continue;
    }
    if (record.length !== columns.length) throw invalid('export', `${file.file}: a record has ${record.length} cells, expected ${columns.length}`);
    for (let i = 0; i < columns.length; i++) batch[i]!.push(csvValue(record[i]!, neutralised[i]!));
    if (++size >= BATCH) await flush();
  }
  await flush();
  checkHash();
  return n;
}
