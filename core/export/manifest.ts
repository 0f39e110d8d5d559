/**
 * `manifest.json`, written last into an export folder: what the folder holds and how to check
 * it. A folder without one (or whose files do not match it) is not an export.
 */

export const MANIFEST_FILE = 'manifest.json';
export const MANIFEST_KIND = 'ouderportaal-export';
export const MANIFEST_VERSION = 1;

export type ExportFormat = 'ndjson' | 'csv';

export interface ManifestFile {
  table: string;
  file: string;
  columns: string[];
  rows: number;
  /** Size of the file as written (compressed when gzip). */
  bytes: number;
  /** SHA-256 of the file as written, hex. */
  sha256: string;
  /** full: every row; since: rows changed at or after `since`; full-no-timestamp: asked for --since, but the table has no column to filter on. */
  selection: 'full' | 'since' | 'full-no-timestamp';
  /** The column --since filtered on. */
  sinceColumn: string | null;
}

export interface Manifest {
  kind: typeof MANIFEST_KIND;
  version: typeof MANIFEST_VERSION;
  /** When the snapshot was taken (the transaction's start, UTC). */
  snapshotAt: string;
  /** When the export was finished (UTC). */
  writtenAt: string;
  /** The last applied migration: an export is restored only into a database at the same version. */
  schemaVersion: string;
  migrations: string[];
  format: ExportFormat;
  gzip: boolean;
  since: string | null;
  /** Every exported table, no --since: a backup that `portal restore` accepts. */
  complete: boolean;
  files: ManifestFile[];
}

/** Reads what a manifest.json claims to be, refusing anything else (the message says what is wrong). */
export function parseManifest(text: string): Manifest {
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch {
    throw new Error('manifest.json is not valid JSON');
  }
  const o = m as Partial<Manifest>;
  if (!o || typeof o !== 'object' || o.kind !== MANIFEST_KIND) throw new Error('manifest.json is not an Ouderportaal export manifest');
  if (o.version !== MANIFEST_VERSION) throw new Error(`manifest.json has version ${String(o.version)}; this portal reads version ${MANIFEST_VERSION}`);
  if (o.format !== 'ndjson' && o.format !== 'csv') throw new Error('manifest.json: unknown format');
  if (!Array.isArray(o.files) || !Array.isArray(o.migrations) || typeof o.schemaVersion !== 'string') {
    throw new Error('manifest.json: files, migrations or schemaVersion missing');
  }
  for (const f of o.files) {
    const ok =
      f &&
      typeof f.table === 'string' &&
      typeof f.file === 'string' &&
      /^[a-z0-9_]+\.(ndjson|csv)(\.gz)?$/.test(f.file) &&
      Array.isArray(f.columns) &&
      Number.isSafeInteger(f.rows) &&
      Number.isSafeInteger(f.bytes) &&
      typeof f.sha256 === 'string' &&
      /^[0-9a-f]{64}$/.test(f.sha256);
    if (!ok) throw new Error(`manifest.json: file entry ${JSON.stringify(f?.file ?? f)} is malformed`);
  }
  return o as Manifest;
}
