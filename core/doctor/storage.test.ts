import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/load.ts';
import { S3RVER_CREDENTIALS, startS3, type TestS3 } from '../../test/s3.ts';
import { checkStorage, describeS3Error } from './storage.ts';

/**
 * The doctor's storage check against a real S3 server (s3rver) and real folders: a healthy
 * bucket, and each way a bucket setup goes wrong, said in one line.
 */

let s3: TestS3;
let dataDir: string;
const any = { bytes: 0, percent: 0 };
const saved = { ...process.env };

const configFor = (storageUrl?: string, flags: Record<string, unknown> = {}) =>
  loadConfig({ env: {}, flags: { dataDir, 'log.level': 'silent', ...(storageUrl ? { 'storage.url': storageUrl } : {}), ...flags } }).config;

function credentials(values: { accessKeyId?: string; secretAccessKey?: string } = S3RVER_CREDENTIALS): void {
  delete process.env['AWS_ACCESS_KEY_ID'];
  delete process.env['AWS_SECRET_ACCESS_KEY'];
  delete process.env['AWS_SESSION_TOKEN'];
  delete process.env['AWS_PROFILE'];
  // Nothing else in the SDK's chain may find credentials on the test machine, or ask the network.
  process.env['AWS_SHARED_CREDENTIALS_FILE'] = join(dataDir, 'no-credentials');
  process.env['AWS_CONFIG_FILE'] = join(dataDir, 'no-config');
  process.env['AWS_EC2_METADATA_DISABLED'] = 'true';
  if (values.accessKeyId) process.env['AWS_ACCESS_KEY_ID'] = values.accessKeyId;
  if (values.secretAccessKey) process.env['AWS_SECRET_ACCESS_KEY'] = values.secretAccessKey;
}

beforeAll(async () => {
  s3 = await startS3();
});
afterAll(async () => {
  await s3?.close();
});
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'portal-doctor-storage-'));
  credentials();
});
afterEach(() => {
  process.env = { ...saved };
  rmSync(dataDir, { recursive: true, force: true });
});

/** s3rver on a port nothing listens on any more. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('storage check, bucket', () => {
  it('ok: reachable, a probe put, read back with its checksum and deleted; nothing left in the bucket', async () => {
    const r = await checkStorage(configFor(s3.url('portal/')), any);
    expect(r).toMatchObject({ check: 'storage', status: 'ok' });
    expect(r.detail).toContain(`s3://${s3.bucket}/portal/`);
    expect(r.detail).toMatch(/written, read back \(SHA-256 checked\) and deleted/);
    const left = await s3.client().send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: 'portal/' }));
    expect(left.Contents ?? []).toEqual([]);
  });

  it('a bucket that does not exist', async () => {
    const url = s3.url().replace(`s3://${s3.bucket}/`, 's3://no-such-bucket/');
    const r = await checkStorage(configFor(url), any);
    expect(r.status).toBe('fail');
    expect(r.detail).toContain('no bucket "no-such-bucket"');
    expect(r.detail).not.toContain('\n');
  });

  it('no credentials, an unknown access key: each said as such', async () => {
    credentials({});
    const none = await checkStorage(configFor(s3.url()), any);
    expect(none).toMatchObject({ status: 'fail', detail: expect.stringContaining('no credentials: set AWS_ACCESS_KEY_ID') });

    credentials({ accessKeyId: 'NOBODY', secretAccessKey: 'S3RVER' });
    const unknown = await checkStorage(configFor(s3.url()), any);
    expect(unknown).toMatchObject({ status: 'fail', detail: expect.stringContaining('InvalidAccessKeyId') });
    expect(unknown.detail).toContain('(while listing the bucket)');
  });

  it('what AWS answers that s3rver never does (it takes any secret, has no policies): a refused secret, access denied, another region', () => {
    const at = { kind: 's3', bucket: 'fotos', prefix: '', endpoint: undefined, region: 'eu-west-1', forcePathStyle: false } as const;
    const answer = (name: string, status: number) => Object.assign(new Error('x'), { name, $metadata: { httpStatusCode: status } });
    expect(describeS3Error(answer('SignatureDoesNotMatch', 403), at)).toMatch(/refuses the secret key/);
    expect(describeS3Error(answer('AccessDenied', 403), at)).toBe('access denied to bucket "fotos" at AWS S3 (AccessDenied): the credentials need list, get, put and delete on it');
    expect(describeS3Error(answer('PermanentRedirect', 301), at)).toMatch(/in another region than eu-west-1/);
  });

  it('an endpoint nothing answers on', async () => {
    const url = s3.url().replace(encodeURIComponent(s3.endpoint), encodeURIComponent(`http://127.0.0.1:${await closedPort()}`));
    const r = await checkStorage(configFor(url), any);
    expect(r).toMatchObject({ status: 'fail', detail: expect.stringMatching(/the endpoint http:\/\/127\.0\.0\.1:\d+ is unreachable \(ECONNREFUSED\)/) });
  });
});

describe('storage check, folder', () => {
  it('the data folder: writable (the probe is gone afterwards), with its free space', async () => {
    const r = await checkStorage(configFor(), any);
    expect(r.status).toBe('ok');
    expect(r.detail).toContain(`storage ${dataDir} writable`);
    expect(r.detail).toMatch(/free of/);
    expect(readdirSync(dataDir)).toEqual([]);
  });

  it('low on space is a warning; a folder not made yet is fine when its parent is writable', async () => {
    const low = await checkStorage(configFor(join(dataDir, 'files')), { bytes: Number.MAX_SAFE_INTEGER, percent: 0 });
    expect(low.status).toBe('warn');
    expect(low.detail).toContain('not made yet');
    expect(low.detail).toContain('LOW');
  });

  it('a file where the folder should be fails (what root, who may write anywhere, still cannot)', async () => {
    const file = join(dataDir, 'not-a-folder');
    writeFileSync(file, 'x');
    const r = await checkStorage(configFor(file), any);
    expect(r).toMatchObject({ status: 'fail', detail: expect.stringMatching(/not-a-folder is not writable: ENOTDIR/) });
  });

  it.skipIf(process.getuid?.() === 0)('a folder this user may not write to fails', async () => {
    const locked = join(dataDir, 'locked');
    mkdirSync(locked);
    chmodSync(locked, 0o500);
    try {
      const r = await checkStorage(configFor(locked), any);
      expect(r).toMatchObject({ status: 'fail', detail: expect.stringContaining('is not writable') });
    } finally {
      chmodSync(locked, 0o700);
    }
  });
});
