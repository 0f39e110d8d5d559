import { createHash, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { PortalConfig } from '../../config/schema.ts';
import type { StorageLocation } from '../../config/storage-url.ts';
import { configuredLocation } from '../storage/open.ts';
import { checkDisk, type DiskThreshold } from './disk.ts';
import { type CheckResult, fail, ok, oneLine, warn } from './report.ts';

/**
 * Where photos, uploads, attachments and export ZIPs live (storage.url): can the portal write
 * there and read back what it wrote? For a bucket: credentials found, bucket there and
 * listable, and a small probe object put, read back with its SHA-256 checked, and deleted, all
 * under `doctor/` beside the stores' own prefixes. What is wrong is said in one line: no
 * credentials, no such bucket, access denied, the endpoint unreachable. For a folder: a probe
 * file written, read back and removed in each folder the stores use, and their free space.
 */
export async function checkStorage(config: Readonly<PortalConfig>, threshold: DiskThreshold): Promise<CheckResult> {
  const location = configuredLocation(config);
  if (location.kind === 's3') return await checkBucket(location);
  const folders = [{ label: 'storage', path: location.path }];
  if (config.photos.dir) folders.push({ label: 'photos', path: resolve(config.dataDir, config.photos.dir) });
  return await checkFolders(folders, threshold);
}

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

/** The folder, or (not made yet: the first write makes it) the nearest one above it that exists. */
async function nearestExisting(path: string): Promise<string> {
  let at = resolve(path);
  for (;;) {
    try {
      await stat(at);
      return at;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || at === dirname(at)) throw err;
      at = dirname(at);
    }
  }
}

export async function checkFolders(folders: { label: string; path: string }[], threshold: DiskThreshold): Promise<CheckResult> {
  const lines: string[] = [];
  for (const folder of folders) {
    const path = resolve(folder.path);
    const at = await nearestExisting(path);
    if (at !== path) {
      try {
        await access(at, constants.W_OK);
      } catch {
        return fail('storage', `${folder.label} ${path} does not exist, and ${at} is not writable for this user: the first upload would fail`);
      }
      lines.push(`${folder.label} ${path} not made yet (${at} is writable)`);
      continue;
    }
    const probe = join(path, `.doctor-${randomBytes(6).toString('hex')}`);
    const data = randomBytes(64);
    try {
      await writeFile(probe, data, { flag: 'wx' });
      const back = await readFile(probe);
      if (sha256(back) !== sha256(data)) return fail('storage', `${folder.label} ${path}: a probe file read back differs from what was written`);
    } catch (err) {
      return fail('storage', `${folder.label} ${path} is not writable: ${oneLine(err)}`);
    } finally {
      await rm(probe, { force: true }).catch(() => {});
    }
    lines.push(`${folder.label} ${path} writable`);
  }
  const disk = await checkDisk(folders, threshold);
  const detail = `${lines.join('; ')}; ${disk.detail}`;
  return disk.status === 'ok' ? ok('storage', detail) : warn('storage', detail);
}

interface S3Failure {
  name?: string;
  Code?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  cause?: unknown;
}

const NETWORK = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'TimeoutError']);

/** One line that says what is wrong with the bucket, not the SDK's stack of causes. */
export function describeS3Error(err: unknown, location: Extract<StorageLocation, { kind: 's3' }>): string {
  const e = (err ?? {}) as S3Failure;
  const name = e.name ?? e.Code ?? '';
  const status = e.$metadata?.httpStatusCode;
  const where = location.endpoint ?? 'AWS S3';
  const networkCode = [e.code, (e.cause as S3Failure | undefined)?.code, name].find((c) => c && NETWORK.has(c));
  if (name === 'CredentialsProviderError' || /could not load credentials/i.test(e.message ?? '')) {
    return 'no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE, or give the machine a role)';
  }
  if (networkCode) return `the endpoint ${where} is unreachable (${networkCode})`;
  if (name === 'NoSuchBucket' || (status === 404 && name === 'NotFound')) return `no bucket "${location.bucket}" at ${where}: create it, or fix the name in PORTAL_STORAGE_URL`;
  if (name === 'InvalidAccessKeyId') return `the server at ${where} does not know the access key in AWS_ACCESS_KEY_ID (InvalidAccessKeyId)`;
  if (name === 'SignatureDoesNotMatch') return `the server at ${where} refuses the secret key: AWS_SECRET_ACCESS_KEY does not belong to the access key (SignatureDoesNotMatch)`;
  if (name === 'AccessDenied' || status === 403) {
    return `access denied to bucket "${location.bucket}" at ${where} (${name || 403}): the credentials need list, get, put and delete on it`;
  }
  if (name === 'PermanentRedirect' || name === 'AuthorizationHeaderMalformed' || status === 301) {
    return `bucket "${location.bucket}" is in another region than ${location.region ?? 'the configured one'}: set region= in PORTAL_STORAGE_URL (${name || status})`;
  }
  return `${name ? `${name}: ` : ''}${oneLine(err)}`;
}

async function checkBucket(location: Extract<StorageLocation, { kind: 's3' }>): Promise<CheckResult> {
  const started = performance.now();
  const [{ S3Client, ListObjectsV2Command }, { createS3Store }] = await Promise.all([import('@aws-sdk/client-s3'), import('../storage/s3-store.ts')]);
  // As core/storage/open.ts makes the portal's client; two attempts, so that the doctor answers
  // about an unreachable endpoint within its deadline.
  const client = new S3Client({
    endpoint: location.endpoint,
    region: location.region,
    forcePathStyle: location.forcePathStyle,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 2,
  });
  const name = `s3://${location.bucket}/${location.prefix}${location.endpoint ? ` at ${location.endpoint}` : ''}`;
  let step = 'looking for credentials';
  try {
    await client.config.credentials();
    step = 'listing the bucket';
    await client.send(new ListObjectsV2Command({ Bucket: location.bucket, Prefix: `${location.prefix}doctor/`, MaxKeys: 1 }));
    const store = createS3Store({ client, bucket: location.bucket, prefix: `${location.prefix}doctor/` });
    const data = randomBytes(64);
    step = 'writing a probe object';
    const { key } = await store.put(data);
    step = 'reading the probe object back';
    // get() checks the bytes against their SHA-256 (the key), and so do we.
    const back = await store.get(key).catch(async (err: unknown) => {
      await store.delete(key).catch(() => {});
      throw err;
    });
    step = 'deleting the probe object';
    await store.delete(key);
    if (sha256(back) !== sha256(data)) return fail('storage', `${name}: the probe object read back differs from what was written`);
    const ms = Math.round(performance.now() - started);
    return ok('storage', `${name}: reachable; a probe object written, read back (SHA-256 checked) and deleted in ${ms} ms`);
  } catch (err) {
    return fail('storage', `${name}: ${describeS3Error(err, location)} (while ${step})`);
  } finally {
    client.destroy();
  }
}
