import { createHash } from 'node:crypto';
import { open, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { EntityManager } from '@mikro-orm/postgresql';
import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import type { Actor } from '../actor.ts';
import { requireAdmin } from '../access/index.ts';
import { audit } from '../audit.ts';
import { conflict, invalid } from '../errors.ts';
import { neutraliseSql } from './csv.ts';
import { appliedMigrations, type ColumnInfo, describeTables, ident, type TableInfo, withConnection } from './database.ts';
import { jsonKinds, NdjsonFromCopyText } from './ndjson.ts';
import { type ExportFormat, MANIFEST_FILE, MANIFEST_KIND, MANIFEST_VERSION, type Manifest, type ManifestFile } from './manifest.ts';
import { EXCLUDED, EXPORTED, type ExportTable } from './tables.ts';
import { clockOf } from '../clock.ts';
import { createPrivateDir, ensurePrivateDir, privateWriteStream, refuseNonEmptyDir, writePrivateFile } from '../files/private.ts';

export interface ExportOptions {
  /** The folder the export goes into: the export is the new folder `export-<UTC time>` inside it. */
  out: string;
  format?: ExportFormat;
  gzip?: boolean;
  /** ISO date or date-time: only rows written at or after it (see tables.ts). */
  since?: string;
  /** Names of exported tables; default all. */
  tables?: readonly string[];
  /**
   * Write into an `out` that holds other things than earlier exports. Without it such a folder is
   * refused: a typo (`--out ~`) must not scatter personal data among someone's own files.
   */
  force?: boolean;
  /** After each file: for progress output, and for tests that write between two tables. */
  onFile?: (file: ManifestFile) => void | Promise<void>;
}

export interface ExportResult {
  dir: string;
  manifest: Manifest;
}

/** What claimName makes in `out`: `export-<time>[-n]`, and `.export-<time>[-n].partial` while it is written. */
const EXPORT_NAME = /^(export-\d{8}T\d{6}Z(-\d+)?|\.export-\d{8}T\d{6}Z(-\d+)?\.partial)$/;

/** 2026-11-25T03:30:12.345Z -> 20261125T033012Z: sorts by time, no characters a shell or Windows minds. */
const stamp = (d: Date) => d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');

function parseSince(since: string): Date {
  const trimmed = since.trim();
  // A bare date means its start in UTC, as the manifest states it.
  const d = new Date(/^\d{4}-\d{2}-\d{2}$/.test(trimmed) ? `${trimmed}T00:00:00Z` : trimmed);
  if (!/^\d{4}-\d{2}-\d{2}/.test(trimmed) || Number.isNaN(d.getTime())) {
    throw invalid('since', `"${since}" is not a date or time (2026-11-24 or 2026-11-24T02:00:00Z)`);
  }
  return d;
}

function chooseTables(names: readonly string[] | undefined): ExportTable[] {
  if (!names || names.length === 0) return [...EXPORTED];
  const wanted = new Set(names.map((n) => n.trim()).filter(Boolean));
  for (const name of wanted) {
    if (EXCLUDED[name]) throw invalid('tables', `${name} is never exported: ${EXCLUDED[name]}`);
    if (!EXPORTED.some((t) => t.name === name)) {
      throw invalid('tables', `unknown table "${name}" (exported: ${EXPORTED.map((t) => t.name).join(', ')})`);
    }
  }
  // Always in the export order (parents before children), whatever order was asked.
  return EXPORTED.filter((t) => wanted.has(t.name));
}

/**
 * Writes one consistent snapshot of the portal's data into a new folder: every file from one
 * REPEATABLE READ transaction, streamed by COPY … TO STDOUT from the server to the file as it is
 * sent (memory stays flat), optionally gzipped, hashed as it is written. Everything goes into `.export-<time>.partial`
 * first; only when every file is written and fsynced, and manifest.json last, is it renamed to
 * `export-<time>`. On any failure the partial folder is removed, so a folder named `export-…`
 * is always complete. Admins only.
 */
export async function writeExport(em: EntityManager, actor: Actor, options: ExportOptions): Promise<ExportResult> {
  requireAdmin(actor, 'data.export');
  const format: ExportFormat = options.format ?? 'ndjson';
  if (format !== 'ndjson' && format !== 'csv') throw invalid('format', `"${String(format)}" is not ndjson or csv`);
  const gzip = options.gzip ?? false;
  const since = options.since === undefined ? null : parseSince(options.since);
  const tables = chooseTables(options.tables);

  const out = resolve(options.out);
  // The nightly job writes into the same folder every night: its earlier exports are expected.
  await refuseNonEmptyDir(out, { force: options.force, expected: (name) => EXPORT_NAME.test(name) });
  try {
    // 0700, like every folder of the export: the files hold the portal's personal data.
    await ensurePrivateDir(out);
  } catch (err) {
    throw invalid('out', `cannot write into ${out}: ${(err as Error).message}`);
  }
  const { final, partial } = await claimName(out, stamp(clockOf(em).now()));

  try {
    const manifest = await withConnection(em, async (client) => {
      await client.query('begin isolation level repeatable read read only');
      try {
        // UTC text forms, whatever the server's or role's time zone: the same data gives the same file.
        await client.query(`set local timezone = 'UTC'`);
        // The first statement takes the snapshot; every file below reads from it.
        const { rows } = await client.query<{ ms: string }>('select (extract(epoch from now()) * 1000)::text as ms');
        const migrations = await appliedMigrations(client);
        const info = await describeTables(client, [...tables.map((t) => t.name), ...(since ? [DELETIONS.name] : [])]);
        const files: ManifestFile[] = [];
        for (const table of tables) {
          const described = info.get(table.name);
          if (!described) {
            if (table.plugin) continue; // the plugin is not installed: nothing to export
            throw new Error(`table ${table.name} is missing from the database`);
          }
          const file = await writeTable(client, partial, table, described, { format, gzip, since });
          files.push(file);
          await options.onFile?.(file);
        }
        if (since) {
          // What was deleted since then, by key, for the tables in this export: a copy kept up to
          // date from change exports deletes these rows too (an AVG erasure reaches it this way).
          const present = tables.filter((t) => info.has(t.name)).map((t) => t.name);
          const file = await writeTable(client, partial, DELETIONS, info.get(DELETIONS.name)!, { format, gzip, since, tableNames: present });
          files.push(file);
          await options.onFile?.(file);
        }
        await client.query('commit');
        const complete = since === null && tables.length === EXPORTED.length;
        return {
          kind: MANIFEST_KIND,
          version: MANIFEST_VERSION,
          snapshotAt: new Date(Math.floor(Number(rows[0]!.ms))).toISOString(),
          writtenAt: clockOf(em).now().toISOString(),
          schemaVersion: migrations[migrations.length - 1] ?? '',
          migrations,
          format,
          gzip,
          since: since?.toISOString() ?? null,
          complete,
          files,
        } satisfies Manifest;
      } catch (err) {
        await client.query('rollback').catch(() => {});
        throw err;
      }
    });

    // The manifest last: its presence says every file before it is whole.
    await writePrivateFile(join(partial, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`, { sync: true });
    await syncDir(partial);
    await rename(partial, final);
    await syncDir(out);

    try {
      const fork = em.fork();
      audit(fork, {
        type: 'export.written',
        actor,
        details: {
          format,
          gzip,
          since: manifest.since,
          complete: manifest.complete,
          files: manifest.files.length,
          rows: Object.fromEntries(manifest.files.map((f) => [f.table, f.rows])),
        },
      });
      await fork.flush();
    } catch (err) {
      // Exit 0 means written and recorded: an export the audit log does not know of is taken back.
      await rm(final, { recursive: true, force: true });
      throw err;
    }
    return { dir: final, manifest };
  } catch (err) {
    await rm(partial, { recursive: true, force: true }).catch(() => {});
    throw err;
  }
}

interface WriteOptions {
  format: ExportFormat;
  gzip: boolean;
  since: Date | null;
  /** Only rows whose table_name is one of these (the deletions file). */
  tableNames?: readonly string[];
}

/** The deletions of a `--since` export: deleted_row's keys, by deleted_at (see tables.ts). */
const DELETIONS: ExportTable = { name: 'deleted_row', since: 'deleted_at' };

async function writeTable(
  client: pg.Client,
  dir: string,
  table: ExportTable,
  info: TableInfo,
  options: WriteOptions,
): Promise<ManifestFile> {
  const excluded = new Set(table.excludeColumns ?? []);
  const columns = info.columns.filter((c) => !excluded.has(c.name));
  const filterColumn = options.since && table.since ? table.since : null;
  const filter = filterColumn ? { column: filterColumn, since: options.since!, tableNames: options.tableNames } : null;
  // ndjson: COPY's text format turned into lines here (ndjson.ts), unless a column's type is one
  // that conversion does not know; then the server's row_to_json writes them.
  const kinds = options.format === 'ndjson' ? jsonKinds(columns) : null;
  const copy = copyTo(copySql(table.name, columns, kinds ? 'text' : options.format, filter), {
    highWaterMark: COPY_CHUNK,
  });
  // pg calls handleReadyForQuery once the server is ready for the next statement: after
  // CommandComplete, which carries the row count (it may arrive after the last data, so after
  // the stream's end). An error that pg reports after pipeline let go of the stream (the
  // connection lost at that moment) rejects `ready` instead of being an unhandled 'error' event.
  const query = copy as unknown as { handleReadyForQuery(): void; handleError(err: Error): void };
  const handleError = query.handleError.bind(copy);
  const ready = new Promise<void>((resolve, reject) => {
    query.handleReadyForQuery = resolve;
    query.handleError = (err) => {
      reject(err);
      handleError(err);
    };
  });
  ready.catch(() => {}); // awaited below once the file is written; pipeline reports it otherwise
  copy.on('error', () => {}); // pipeline has its own listener; this one outlives it

  const fileName = `${table.name}.${options.format}${options.gzip ? '.gz' : ''}`;
  const path = join(dir, fileName);
  const hash = createHash('sha256');
  let bytes = 0;
  const measure = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  try {
    const sink = await privateWriteStream(path);
    // The server's bytes go to the file as they are (ndjson: turned into lines on the way); the
    // copy stream reads from the socket only when the next step has taken the last chunk:
    // backpressure from the disk to PostgreSQL.
    const source = client.query(copy);
    const lines = kinds ? new NdjsonFromCopyText(columns.map((c) => c.name), kinds) : null;
    const gzip = options.gzip ? createGzip({ level: GZIP_LEVEL }) : null;
    if (lines && gzip) await pipeline(source, lines, gzip, measure, sink);
    else if (lines) await pipeline(source, lines, measure, sink);
    else if (gzip) await pipeline(source, gzip, measure, sink);
    else await pipeline(source, measure, sink);
    await ready;
  } catch (err) {
    // A COPY cut off midway leaves the connection inside the copy protocol, and pg-copy-streams
    // holds its socket: it can run nothing again. Close it; the pool drops a closed connection.
    discard(client);
    throw err;
  }
  await fsyncFile(path);
  return {
    table: table.name,
    file: fileName,
    columns: columns.map((c) => c.name),
    rows: copy.rowCount,
    bytes,
    sha256: hash.digest('hex'),
    selection: options.since ? (filterColumn ? 'since' : 'full-no-timestamp') : 'full',
    sinceColumn: filterColumn,
  };
}

/** Bytes the copy stream buffers before it stops reading the socket. */
const COPY_CHUNK = 256 * 1024;

/**
 * gzip level 1 (zlib's fastest): the export's lines repeat the same keys and much of the same
 * text, which even level 1 finds. On 75 MB of the bench's ndjson, level 6 took 2.8 times the
 * CPU (0.36 s against 0.13 s) for a file 2% smaller; on the server the portal runs on, every
 * night, the CPU matters more than those bytes.
 */
const GZIP_LEVEL = 1;

/**
 * The COPY statement of one table. No ORDER BY: rows come in the table's physical order (sorting
 * 2,000,000 rows by a uuid key cost more than writing them).
 *
 * CSV is COPY's own CSV, with the formula neutralisation done in the SELECT for every column
 * that is not a number (the same columns as before: PostgreSQL's category N is never
 * neutralised).
 *
 * ndjson: one JSON object per row from row_to_json over the text forms: numbers and booleans as
 * JSON numbers and booleans, json/jsonb as the JSON they hold, arrays and everything else
 * (timestamps, dates, uuids, text) as strings (`::text`), so a restore's json_populate_recordset
 * reads each string with the column type's own input function and every type round-trips.
 * COPY's text format would escape each backslash of the JSON (`\\`), so it is written as CSV
 * with a quote and a delimiter that never occur in it: JSON text holds no raw control
 * characters (row_to_json writes \u0001, \n…, and jsonb's text form is one line), COPY CSV
 * quotes a cell only when it holds the delimiter, the quote, CR or LF, or is empty, and the
 * escape character is the quote, so each line is the JSON exactly as the server wrote it.
 *
 * text: the same SELECT list as ndjson, without row_to_json, in COPY's text format: the rows
 * NdjsonFromCopyText (ndjson.ts) turns into the same lines as row_to_json's, at a plain COPY's
 * cost to the server.
 */
export function copySql(
  tableName: string,
  columns: readonly ColumnInfo[],
  format: ExportFormat | 'text',
  filter: { column: string; since: Date; tableNames?: readonly string[] } | null,
): string {
  // toISOString() of a valid Date: safe as a literal (COPY takes no bind parameters); table names
  // come from EXPORTED and are checked to be plain identifiers.
  let where = filter ? ` where t.${ident(filter.column)} >= '${filter.since.toISOString()}'::timestamptz` : '';
  if (filter?.tableNames) {
    if (!filter.tableNames.every((n) => /^[a-z_][a-z0-9_]*$/.test(n))) throw new Error('table names must be plain identifiers');
    where += ` and t.table_name in (${filter.tableNames.length ? filter.tableNames.map((n) => `'${n}'`).join(', ') : 'null'})`;
  }
  const from = `from ${ident(tableName)} t${where}`;
  if (format === 'csv') {
    const list = columns.map((c) => `${c.category === 'N' ? `t.${ident(c.name)}` : neutraliseSql(`t.${ident(c.name)}::text`)} as ${ident(c.name)}`);
    return `copy (select ${list.join(', ')} ${from}) to stdout with (format csv, header true)`;
  }
  const list = columns.map((c) => {
    const keep = c.type === 'json' || c.type === 'jsonb' || c.category === 'N' || c.category === 'B';
    return `t.${ident(c.name)}${keep ? '' : '::text'} as ${ident(c.name)}`;
  });
  if (format === 'text') return `copy (select ${list.join(', ')} ${from}) to stdout`;
  return `copy (select row_to_json(r)::text from (select ${list.join(', ')} ${from}) r) to stdout with (format csv, quote e'\\x01', delimiter e'\\x02')`;
}

/** Closes a connection that cannot be used again (see writeTable); knex then drops it from the pool. */
function discard(client: pg.Client): void {
  (client as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
}

/**
 * `export-<time>`, or `export-<time>-2`… when an export finished in the same second (a retry):
 * the partial folder is created exclusively, so two runs at once never share one.
 */
async function claimName(out: string, time: string): Promise<{ final: string; partial: string }> {
  for (let n = 1; n < 100; n++) {
    const name = n === 1 ? `export-${time}` : `export-${time}-${n}`;
    const final = join(out, name);
    const partial = join(out, `.${name}.partial`);
    if (await exists(final)) continue;
    try {
      await createPrivateDir(partial);
      return { final, partial };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw invalid('out', `cannot write into ${out}: ${(err as Error).message}`);
    }
  }
  throw conflict(`too many exports in ${out} within one second`);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function fsyncFile(path: string): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** fsync of a folder, so the names in it (the files, the rename) survive a power cut too. */
async function syncDir(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
