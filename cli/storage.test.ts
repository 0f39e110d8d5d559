import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseStorageUrl } from '../config/storage-url.ts';
import { createFileStore } from '../core/photos/store.ts';
import { migrateStorage } from '../core/storage/migrate.ts';
import { openStorage, type Storage } from '../core/storage/open.ts';
import { runCli } from '../test/cli.ts';
import { S3RVER_CREDENTIALS, startS3, type TestS3 } from '../test/s3.ts';

const sha = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

let s3: TestS3;
let dataDir: string;
const photos = Array.from({ length: 6 }, (_, i) => Buffer.from(`foto ${i} van de peuters`));
const attachment = Buffer.from('%PDF-1.4 nieuwsbrief');
const upload = Buffer.from('nog niet verwerkt');
const run = (...args: string[]) => runCli(args, { PORTAL_DATA_DIR: dataDir });

async function keysOf(storage: Storage) {
  const out: Record<string, string[]> = {};
  for (const name of ['photos', 'incoming', 'attachments'] as const) {
    out[name] = [];
    for await (const key of storage[name].keys()) out[name].push(key);
    out[name].sort();
  }
  return out;
}

beforeAll(async () => {
  // The SDK takes credentials from the standard variables, as in production.
  vi.stubEnv('AWS_ACCESS_KEY_ID', S3RVER_CREDENTIALS.accessKeyId);
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', S3RVER_CREDENTIALS.secretAccessKey);
  vi.stubEnv('AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED', 'true');
  s3 = await startS3();
  dataDir = mkdtempSync(join(tmpdir(), 'portal-storage-'));
  for (const p of photos) await createFileStore(join(dataDir, 'photos')).put(p);
  await createFileStore(join(dataDir, 'attachments')).put(attachment);
  await createFileStore(join(dataDir, 'incoming')).put(upload);
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await s3.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('portal storage migrate', () => {
  it('refuses a location it cannot use, and the one in use, with one line and exit 2', async () => {
    const bad = await run('storage', 'migrate', '--to', 'ftp://example.nl/x');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('portal: --to: expected a folder, a file:// URL or s3://bucket\n');
    const secret = await run('storage', 'migrate', '--to', 's3://key:secret@bucket-name');
    expect(secret.code).toBe(2);
    expect(secret.stderr).toMatch(/^portal: --to: no credentials in the URL/);
    const same = await run('storage', 'migrate', '--to', dataDir);
    expect(same.code).toBe(2);
    expect(same.stderr).toMatch(/^portal: --to: that is where the files are already/);
  });

  it('--dry-run counts what would be copied and writes nothing', async () => {
    const r = await run('--json', 'storage', 'migrate', '--to', s3.url('dry'), '--dry-run');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.dryRun).toBe(true);
    expect(report.stores.photos).toMatchObject({ checked: 6, copied: 6, present: 0 });
    const target = await openStorage(parseStorageUrl(s3.url('dry'), '/'), { client: s3.client() });
    expect(await keysOf(target)).toEqual({ photos: [], incoming: [], attachments: [] });
  });

  it('copies every key from the folder to S3, verified, and resumes after an interruption', async () => {
    const url = s3.url('portal');
    const source = await openStorage({ kind: 'folder', path: dataDir });
    const target = await openStorage(parseStorageUrl(url, '/'), { client: s3.client() });

    // A first run that stops after two photos (as Ctrl-C or a dropped connection would).
    const stop = new Error('interrupted');
    await expect(
      migrateStorage(source, target, {
        onProgress: ({ counts }) => {
          if (counts.copied === 2) throw stop;
        },
      }),
    ).rejects.toBe(stop);
    expect((await keysOf(target)).photos).toHaveLength(2);

    const r = await run('storage', 'migrate', '--to', url);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^store +checked +copied +already there +vanished +damaged +bytes\n/);
    expect(r.stdout).toMatch(/\nphotos +6 +4 +2 +0 +0 +\d+\n/);
    expect(r.stdout).toMatch(/Copied 6 file\(s\) \(\d+ bytes\) from .* to s3:\/\/ouderportaal-test\/portal\/ at http:\/\/127\.0\.0\.1:\d+; 2 already there\.\n$/);

    expect(await keysOf(target)).toEqual({
      photos: photos.map(sha).sort(),
      incoming: [sha(upload)],
      attachments: [sha(attachment)],
    });
    for (const p of photos) expect(await target.photos.get(sha(p))).toEqual(p);
    expect(await target.attachments.get(sha(attachment))).toEqual(attachment);

    // A third run has nothing left to do.
    const again = await run('--json', 'storage', 'migrate', '--to', url);
    const report = JSON.parse(again.stdout);
    expect(report.stores.photos).toMatchObject({ checked: 6, copied: 0, present: 6 });
    expect(report.stores.attachments).toMatchObject({ checked: 1, copied: 0, present: 1 });
  });

  it('copies back from S3 to a folder when storage.url points at the bucket', async () => {
    const back = mkdtempSync(join(tmpdir(), 'portal-storage-back-'));
    try {
      const r = await runCli(['--json', 'storage', 'migrate', '--to', `file://${back}`], { PORTAL_DATA_DIR: dataDir, PORTAL_STORAGE_URL: s3.url('portal') });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).stores.photos).toMatchObject({ copied: 6 });
      expect(await keysOf(await openStorage({ kind: 'folder', path: back }))).toEqual(await keysOf(await openStorage({ kind: 'folder', path: dataDir })));
    } finally {
      rmSync(back, { recursive: true, force: true });
    }
  });

  it('reports source content that does not match its key, copies the rest, and exits 1', async () => {
    const damaged = sha(photos[3]!);
    const path = join(dataDir, 'photos', damaged.slice(0, 2), damaged.slice(2, 4), damaged);
    writeFileSync(path, 'bitrot');
    const r = await run('storage', 'migrate', '--to', s3.url('second'));
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`damaged at the source: photos/${damaged} (content at the source has SHA-256 ${sha(Buffer.from('bitrot'))})`);
    expect(r.stdout).toMatch(/\nphotos +6 +5 +0 +0 +1 +\d+\n/);
    const target = await openStorage(parseStorageUrl(s3.url('second'), '/'), { client: s3.client() });
    const keys = (await keysOf(target)).photos;
    expect(keys).toHaveLength(5);
    expect(keys).not.toContain(damaged);
    expect(keys).not.toContain(sha(Buffer.from('bitrot'))); // not left behind under its own hash
  });
});
