import { randomBytes } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import pg from 'pg';
import tarStream from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it, inject, vi } from 'vitest';
import type { BackupManifest } from '../../core/backup/manifest.ts';
import { countRows } from '../../core/backup/manifest.ts';
import { serverVersion } from '../../core/backup/pg-connection.ts';
import { findPgTool } from '../../core/backup/pg-tools.ts';
import { initOrganisation } from '../../core/directory/organisation.ts';
import { parseStorageUrl } from '../../config/storage-url.ts';
import { openStorage } from '../../core/storage/open.ts';
import { S3RVER_CREDENTIALS, startS3 } from '../s3.ts';
import { seedAccount } from '../../http/testing.ts';
import { runCli } from '../cli.ts';
import { adminQuery, databaseUrl } from '../db-admin.ts';
import { texturedPhoto } from '../pictures.ts';
import { admin, createTestPortal, type TestPortal } from '../portal.ts';

/**
 * Drill, for both database formats: back up a portal with data, files, a configuration file and
 * a logo; destroy it (drop the database, delete the data folder); restore the archive into a
 * new, empty database and data folder; compare every table's rows and every file. The native
 * dump always (the only one the embedded PostgreSQL allows: it ships no pg_dump); pg_dump's
 * format when this machine has a pg_dump of the test server's major version or newer. Also: a
 * damaged or malicious archive is refused before anything is written, and a target that is not
 * empty is refused.
 */

const work = mkdtempSync(join(tmpdir(), 'portal-backup-drill-'));
const { baseUrl, prefix } = inject('testDb');
const created: string[] = [];
const configFile = join(work, 'portal.config.json');
const logoFile = join(work, 'logo.png');

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const serverMajor = (await withClient(databaseUrl(baseUrl, 'postgres'), serverVersion)).major;
const pgDump = await findPgTool('pg_dump', serverMajor, { pathEnv: process.env.PATH }).catch(() => null);

const roles: string[] = [];

/** A new, empty database; `ownRole`: owned by a new role that is no superuser, and the URL logs in as it. */
async function emptyDatabase(ownRole = false): Promise<string> {
  const name = `${prefix}restore_${randomBytes(3).toString('hex')}`;
  if (!ownRole) {
    await adminQuery(baseUrl, `create database ${name}`);
    created.push(name);
    return databaseUrl(baseUrl, name);
  }
  const role = `${name}_owner`;
  const password = randomBytes(12).toString('hex');
  await adminQuery(baseUrl, `create role ${role} login nosuperuser nocreatedb nocreaterole password '${password}'`);
  roles.push(role);
  await adminQuery(baseUrl, `create database ${name} owner ${role}`);
  created.push(name);
  const url = new URL(databaseUrl(baseUrl, name));
  url.username = role;
  url.password = password;
  return url.toString();
}

const rowsOf = (url: string) => withClient(url, countRows);
const total = (rows: Record<string, number>) => Object.values(rows).reduce((a, b) => a + b, 0);

const env = (dbUrl: string, dataDir: string, extra: Record<string, string> = {}) => ({
  PORTAL_DATABASE_URL: dbUrl,
  PORTAL_DATA_DIR: dataDir,
  PORTAL_CONFIG: configFile,
  PORTAL_LOG_LEVEL: 'silent',
  PATH: process.env.PATH ?? '',
  ...extra,
});

interface Source {
  portal: TestPortal;
  rows: Record<string, number>;
  files: Record<string, string[]>;
  bytes: Map<string, Buffer>;
}

/** A portal with an organisation, an account, a published photo, one still in processing (its upload in incoming/) and an attachment. */
async function seededPortal(): Promise<Source> {
  const portal = await createTestPortal();
  await initOrganisation(portal.em(), admin, { name: 'Kinderopvang De Boomhut', publicUrl: 'https://ouders.example.nl', helpdeskEmail: 'helpdesk@example.nl' });
  await seedAccount(portal, { email: 'ouder@example.nl', password: 'een lange zin als wachtwoord' });
  const files: Record<string, string[]> = {};
  const bytes = new Map<string, Buffer>();
  for (const [store, data] of [
    ['photos', await texturedPhoto(30, { width: 320, height: 240 })],
    ['incoming', await texturedPhoto(200, { width: 320, height: 240 })],
    ['attachments', Buffer.from('%PDF-1.4 een bijlage\n')],
  ] as const) {
    const { key } = await portal[store].put(data);
    files[store] = [key];
    bytes.set(key, Buffer.from(data));
  }
  // PORTAL_DRILL_SCALE=n: n × 10 000 audit rows (pointing at the account) and n × 20 files of 100 kB more, to time the drill on more than a handful.
  const scale = Number(process.env.PORTAL_DRILL_SCALE ?? 0);
  if (scale > 0) {
    await withClient(portal.dbUrl, (c) =>
      c.query(
        `insert into audit_event (at, type, actor, account_id, details)
         select now(), 'drill.filler', 'test', (select min(id) from account), jsonb_build_object('n', g) from generate_series(1, $1) g`,
        [scale * 10_000],
      ),
    );
    for (let i = 0; i < scale * 20; i++) {
      const data = randomBytes(100_000);
      const { key } = await portal.attachments.put(data);
      files.attachments!.push(key);
      bytes.set(key, data);
    }
  }
  // A mail job waiting in the queue (with a dead-letter queue): queued work survives a restore.
  const queue = await portal.jobs();
  await queue.ensureQueue('drill-mail', { retryLimit: 3, retryDelaySeconds: 60, deadLetter: 'drill-mail-failed' });
  await portal.em().transactional((em) => queue.send(em, 'drill-mail', { to: 'ouder@example.nl' }));
  return { portal, rows: await rowsOf(portal.dbUrl), files, bytes };
}

interface Entry {
  name: string;
  data: Buffer;
}

/** Every entry of an archive, in order (the test's archives are small). */
async function readEntries(path: string): Promise<Entry[]> {
  const extract = tarStream.extract();
  const file = createReadStream(path);
  (path.endsWith('.gz') ? file.pipe(createGunzip()) : file).pipe(extract as unknown as NodeJS.WritableStream);
  const out: Entry[] = [];
  for await (const entry of extract) {
    const parts: Buffer[] = [];
    for await (const chunk of entry) parts.push(chunk as Buffer);
    out.push({ name: entry.header.name, data: Buffer.concat(parts) });
  }
  return out;
}

/** An archive as an attacker writes it: any names, any bytes, with tar-stream directly. */
async function writeEntries(path: string, entries: Entry[]): Promise<void> {
  const pack = tarStream.pack();
  for (const e of entries) pack.entry({ name: e.name, mode: 0o600 }, e.data);
  pack.finalize();
  const parts: Buffer[] = [];
  for await (const chunk of pack) parts.push(chunk as Buffer);
  writeFileSync(path, Buffer.concat(parts));
}

beforeAll(async () => {
  writeFileSync(logoFile, await texturedPhoto(90, { width: 64, height: 32 }));
  writeFileSync(configFile, JSON.stringify({ branding: { logo: logoFile, accentColour: '#8a1c4a' } }));
});

afterAll(async () => {
  for (const name of created) await adminQuery(baseUrl, `drop database if exists ${name} with (force)`).catch(() => {});
  for (const role of roles) await adminQuery(baseUrl, `drop role if exists ${role}`).catch(() => {});
  rmSync(work, { recursive: true, force: true });
});

const formats = [
  { format: 'native' as const, available: true },
  { format: 'pg_dump' as const, available: pgDump !== null },
];

for (const { format, available } of formats) {
  describe.skipIf(!available)(`backup (${format}), destroy, restore, compare`, () => {
    let source: Source;
    let archive: string;
    const out = join(work, format);

    beforeAll(async () => {
      // A folder: the archive gets its name from the time (ouderportaal-backup-<UTC time>.tar).
      mkdirSync(out);
      source = await seededPortal();
    });
    afterAll(async () => {
      await source?.portal.destroy().catch(() => {});
    });

    it('backs up everything into one 0600 archive', async () => {
      const started = performance.now();
      const r = await runCli(['--json', 'backup', '--out', out], env(source.portal.dbUrl, source.portal.dataDir, { PORTAL_BACKUP_DUMP: format }));
      const seconds = (performance.now() - started) / 1000;
      expect(r.code, r.stderr).toBe(0);
      const result = JSON.parse(r.stdout) as BackupManifest & { file: string; bytes: number };
      archive = result.file;
      expect(archive.startsWith(out)).toBe(true);
      expect(statSync(archive).mode & 0o777).toBe(0o600);
      expect(readdirSync(out).filter((n) => n.endsWith('.partial'))).toEqual([]);
      expect(result.database.format).toBe(format);
      expect(result.database.tables).toEqual(source.rows);
      expect(result.database.tables['public.account']).toBeGreaterThan(0);
      expect(result.files).toHaveLength(Object.values(source.files).flat().length);
      expect(result.config.map((c) => c.name).sort()).toEqual(['config/logo.png', 'config/portal.config.json', 'config/settings.json']);
      if (result.database.format === 'native') {
        // pg-boss's tables are in too: queued mail survives a restore.
        expect(result.database.data.some((t) => t.schema === 'pgboss' && t.table === 'job')).toBe(true);
        expect(result.database.migrations.at(-1)).toBe(result.database.schemaVersion);
      }
      const entries = (await readEntries(archive)).map((e) => e.name);
      expect(entries.at(-1)).toBe('manifest.json');
      console.info(`${format} backup: ${result.bytes} bytes, ${total(source.rows)} rows, ${result.files.length} files, ${seconds.toFixed(2)} s`);
    });

    it('refuses a target that is not empty', async () => {
      const other = await createTestPortal();
      try {
        const r = await runCli(['restore', archive], env(other.dbUrl, other.dataDir));
        expect(r.code).toBe(3);
        expect(r.stderr).toMatch(/target database is not empty/);
      } finally {
        await other.destroy();
      }
    });

    it('restores into an empty portal after the original is gone, rows and files as they were', async () => {
      // Destroy: the database dropped, the data folder deleted.
      await source.portal.destroy();
      // The native load needs no superuser (no session_replication_role): a role that only owns its database.
      const target = await emptyDatabase(format === 'native');
      if (format === 'native') expect((await withClient(target, (c) => c.query('select rolsuper from pg_roles where rolname = current_user'))).rows).toEqual([{ rolsuper: false }]);
      const dataDir = mkdtempSync(join(work, 'data-'));
      rmSync(dataDir, { recursive: true });

      const started = performance.now();
      const r = await runCli(['restore', archive], env(target, dataDir));
      const seconds = (performance.now() - started) / 1000;
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`${Object.values(source.files).flat().length} file(s), all as in the manifest`);
      expect(r.stdout).toMatch(/TABLE\s+IN BACKUP\s+RESTORED/);
      expect(r.stdout).not.toMatch(/DIFFERENT/);

      // Every table, counted independently of the command; the audit log has one row more, the
      // restore's own event, written after the comparison.
      const after = await rowsOf(target);
      expect({ ...after, 'public.audit_event': after['public.audit_event']! - 1 }).toEqual(source.rows);
      const events = await withClient(target, (c) => c.query("select type, details from audit_event where type like 'backup.%'"));
      expect(events.rows).toEqual([{ type: 'backup.restored', details: expect.objectContaining({ ok: true, files: Object.values(source.files).flat().length }) }]);
      // The account can still sign in: its password hash came back byte for byte.
      const hashes = await withClient(target, (c) => c.query("select count(*)::int as n from account where email = 'ouder@example.nl' and password_hash like '$argon2%'"));
      expect(hashes.rows[0].n).toBe(1);

      const jobs = await withClient(target, (c) =>
        c.query("select j.state, j.data, q.dead_letter from pgboss.job j join pgboss.queue q on q.name = j.name where j.name = 'drill-mail'"),
      );
      expect(jobs.rows).toEqual([{ state: 'created', data: { to: 'ouder@example.nl' }, dead_letter: 'drill-mail-failed' }]);

      // Every file, byte for byte, in the store it came from.
      const storage = await openStorage({ kind: 'folder', path: dataDir });
      let checked = 0;
      for (const [store, keys] of Object.entries(source.files)) {
        for (const key of keys) {
          expect((await storage[store as 'photos'].get(key)).equals(source.bytes.get(key)!)).toBe(true);
          checked += 1;
        }
      }
      storage.close();
      expect(checked).toBe(Object.values(source.files).flat().length);

      // The configuration and the logo, copied out for the administrator, 0600.
      const restored = join(dataDir, 'restored-config');
      expect(readFileSync(join(restored, 'portal.config.json'), 'utf8')).toBe(readFileSync(configFile, 'utf8'));
      expect(readFileSync(join(restored, 'logo.png')).equals(readFileSync(logoFile))).toBe(true);
      expect(statSync(join(restored, 'logo.png')).mode & 0o777).toBe(0o600);
      expect(r.stdout).toContain(restored);
      console.info(
        `${format} restore: ${total(after) - 1}/${total(source.rows)} rows in ${Object.keys(after).length} tables compared equal, ${checked} files checked, ${seconds.toFixed(2)} s`,
      );

      // The restored portal opens and has nothing to migrate.
      const status = await runCli(['db', 'status'], env(target, dataDir));
      expect(status.code, status.stderr + status.stdout).toBe(0);
    });
  });
}

describe('a damaged or malicious archive is refused before anything is written', () => {
  let entries: Entry[];

  beforeAll(async () => {
    const source = await seededPortal();
    try {
      const r = await runCli(['--json', 'backup', '--out', join(work, 'good.tar')], env(source.portal.dbUrl, source.portal.dataDir, { PORTAL_BACKUP_DUMP: 'native' }));
      expect(r.code, r.stderr).toBe(0);
      entries = await readEntries(join(work, 'good.tar'));
    } finally {
      await source.portal.destroy();
    }
  });

  const photoOf = () => entries.find((e) => e.name.startsWith('files/photos/'))!;
  const cases: [string, () => Entry[], RegExp][] = [
    ['an entry named ../x', () => [{ name: '../x', data: Buffer.from('buiten de map') }, ...entries], /archive entry "\.\.\/x" is refused: it holds a "\.\."/],
    ['an absolute entry name', () => [...entries.slice(0, -1), { name: '/tmp/portal-evil', data: Buffer.from('x') }, entries.at(-1)!], /archive entry "\/tmp\/portal-evil" is refused: it is an absolute path/],
    [
      'an entry not in the manifest',
      () => [{ name: `files/photos/${'ab'.repeat(32)}`, data: Buffer.from('untergeschoben') }, ...entries],
      /files\/photos\/(ab){32} is not in the manifest/,
    ],
    [
      'a file whose bytes do not match their SHA-256',
      () => entries.map((e) => (e === photoOf() ? { name: e.name, data: Buffer.from(e.data.map((b, i) => (i === 100 ? b ^ 0xff : b))) } : e)),
      /files\/photos\/[0-9a-f]{64} does not match its SHA-256 in the manifest/,
    ],
    [
      'a manifest that lists a path outside the archive',
      () =>
        entries.map((e) => {
          if (e.name !== 'manifest.json') return e;
          const m = JSON.parse(e.data.toString('utf8')) as BackupManifest;
          m.config[0]!.name = 'config/../../../etc/cron.d/portal';
          return { name: e.name, data: Buffer.from(JSON.stringify(m)) };
        }),
      /manifest\.json lists "config\/\.\.\/\.\.\/\.\.\/etc\/cron\.d\/portal", refused/,
    ],
  ];

  it.each(cases)('%s', async (_, make, message) => {
    const path = join(work, `evil-${randomBytes(3).toString('hex')}.tar`);
    await writeEntries(path, make());
    const target = await emptyDatabase();
    const dataDir = mkdtempSync(join(work, 'data-'));
    const r = await runCli(['restore', path], env(target, dataDir));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/the archive is damaged or incomplete; nothing was restored/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    // Nothing: no table, no file, nothing beside the archive or at the path it names.
    expect(await rowsOf(target)).toEqual({});
    expect(readdirSync(dataDir)).toEqual([]);
    expect(existsSync(join(work, 'x'))).toBe(false);
    expect(existsSync('/tmp/portal-evil')).toBe(false);
  });

  it('a native dump of a portal with a migration this one does not know is refused before migrating', async () => {
    const path = join(work, 'future.tar');
    await writeEntries(
      path,
      entries.map((e) => {
        if (e.name !== 'manifest.json') return e;
        const m = JSON.parse(e.data.toString('utf8')) as BackupManifest;
        if (m.database.format === 'native') m.database.migrations.push('Migration29990101000000FromTheFuture');
        return { name: e.name, data: Buffer.from(JSON.stringify(m)) };
      }),
    );
    const target = await emptyDatabase();
    const dataDir = mkdtempSync(join(work, 'data-'));
    const r = await runCli(['restore', path], env(target, dataDir));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/migration\(s\) this version of the portal does not know \(Migration29990101000000FromTheFuture\).*nothing was restored/);
    expect(await rowsOf(target)).toEqual({});
    expect(readdirSync(dataDir)).toEqual([]);
  });

  it('a truncated archive (the manifest cut off) is refused', async () => {
    const path = join(work, 'truncated.tar');
    const good = readFileSync(join(work, 'good.tar'));
    writeFileSync(path, good.subarray(0, good.length - 2048));
    const target = await emptyDatabase();
    const dataDir = mkdtempSync(join(work, 'data-'));
    const r = await runCli(['restore', path], env(target, dataDir));
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/damaged or incomplete; nothing was restored/);
    expect(await rowsOf(target)).toEqual({});
    expect(readdirSync(dataDir)).toEqual([]);
  });
});

describe('the PostgreSQL tools', () => {
  it("no pg_dump of the server's version or newer: a refusal that says what to install", async () => {
    const err = (await findPgTool('pg_dump', 99, { pathEnv: '' }).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(
      /^pg_dump: needs pg_dump of PostgreSQL 99 or newer \(found .*\): install PostgreSQL 99's client tools \(e\.g\. postgresql-client-99\), or set PORTAL_PG_BIN/,
    );
  });

  // Only where no pg_dump on this machine fits the server (the embedded one): else there is no subject.
  it.skipIf(pgDump !== null)('PORTAL_BACKUP_DUMP=pg_dump without a fitting pg_dump is refused, auto falls back to native', async () => {
    const portal = await createTestPortal();
    try {
      const noTools = { PATH: '', PORTAL_PG_BIN: join(work, 'no-such-folder') };
      const forced = await runCli(['backup', '--out', join(work, 'forced.tar')], { ...env(portal.dbUrl, portal.dataDir, { PORTAL_BACKUP_DUMP: 'pg_dump' }), ...noTools });
      expect(forced.code).not.toBe(0);
      expect(forced.stderr).toMatch(/needs pg_dump of PostgreSQL \d+ or newer/);
      expect(existsSync(join(work, 'forced.tar'))).toBe(false);
      const auto = await runCli(['--json', 'backup', '--out', join(work, 'auto.tar')], { ...env(portal.dbUrl, portal.dataDir), ...noTools });
      expect(auto.code, auto.stderr).toBe(0);
      expect((JSON.parse(auto.stdout) as BackupManifest).database.format).toBe('native');
    } finally {
      await portal.destroy();
    }
  });

  it('PORTAL_BACKUP_DUMP with another value is refused', async () => {
    const portal = await createTestPortal();
    try {
      const r = await runCli(['backup', '--out', join(work, 'other.tar')], env(portal.dbUrl, portal.dataDir, { PORTAL_BACKUP_DUMP: 'sql' }));
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/PORTAL_BACKUP_DUMP: "sql" is not one of auto, pg_dump, native/);
      expect(existsSync(join(work, 'other.tar'))).toBe(false);
    } finally {
      await portal.destroy();
    }
  });
});

describe('a portal on S3', () => {
  it('backs up from one bucket prefix and restores into another, files checked by SHA-256', async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', S3RVER_CREDENTIALS.accessKeyId);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', S3RVER_CREDENTIALS.secretAccessKey);
    const s3 = await startS3();
    const portal = await createTestPortal({ 'storage.url': s3.url('bron/') });
    try {
      const data = await texturedPhoto(120, { width: 200, height: 150 });
      const { key } = await portal.photos.put(data);
      const s3env = (db: string, prefix: string) => ({ ...env(db, portal.dataDir), PORTAL_STORAGE_URL: s3.url(prefix) });
      const backup = await runCli(['--json', 'backup', '--out', join(work, 's3-backup.tar.gz'), '--gzip'], s3env(portal.dbUrl, 'bron/'));
      expect(backup.code, backup.stderr).toBe(0);
      expect((JSON.parse(backup.stdout) as { files: { key: string }[] }).files.map((f) => f.key)).toEqual([key]);

      const target = await emptyDatabase();
      const restore = await runCli(['restore', join(work, 's3-backup.tar.gz'), '--config-to', join(work, 's3-config')], s3env(target, 'doel/'));
      expect(restore.code, restore.stderr).toBe(0);
      expect(restore.stdout).toMatch(/1 file\(s\), all as in the manifest/);
      const storage = await openStorage(parseStorageUrl(s3.url('doel/'), work));
      expect((await storage.photos.get(key)).equals(data)).toBe(true);
      storage.close();
    } finally {
      await portal.destroy();
      await s3.close();
      vi.unstubAllEnvs();
    }
  });
});
