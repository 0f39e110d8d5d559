import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where the portal keeps photos, uploads and attachments (`storage.url`, PORTAL_STORAGE_URL):
 * a folder, or an S3-compatible bucket. Parsed here, without the AWS SDK, so the configuration
 * is checked at start and a folder setup never loads the SDK.
 */
export type StorageLocation =
  | { kind: 'folder'; path: string }
  | {
      kind: 's3';
      bucket: string;
      /** Key prefix of the whole portal: '' or ending in '/'. */
      prefix: string;
      /** An S3-compatible server (MinIO, Ceph, …); unset: AWS. */
      endpoint?: string;
      /** Unset: the SDK's own (AWS_REGION, the profile). */
      region?: string;
      /** Bucket in the path (http://host/bucket/key) rather than the host name: what most S3-compatible servers want. */
      forcePathStyle: boolean;
    };

const S3_PARAMS = new Set(['endpoint', 'region', 'forcePathStyle']);
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * `s3://bucket[/prefix]?endpoint=http://host:port&region=…&forcePathStyle=true`, a `file://`
 * URL, or a folder path (relative ones against `baseDir`, the data folder). Throws an Error
 * whose message says what is expected. Credentials never go in the URL: the SDK reads them
 * from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or a profile or role), so they do not show
 * up in `portal config show` or a log line.
 */
export function parseStorageUrl(value: string, baseDir: string): StorageLocation {
  const text = value.trim();
  if (text === '') throw new Error('expected a folder, a file:// URL or s3://bucket');
  if (text.startsWith('file:')) {
    let path: string;
    try {
      path = fileURLToPath(text);
    } catch (err) {
      throw new Error(`not a file URL: ${(err as Error).message}`);
    }
    return { kind: 'folder', path };
  }
  if (!/^s3:/i.test(text)) {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) throw new Error('expected a folder, a file:// URL or s3://bucket');
    return { kind: 'folder', path: isAbsolute(text) ? text : resolve(baseDir, text) };
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error('expected s3://bucket?endpoint=http://host:port&region=…');
  }
  if (url.username || url.password) {
    throw new Error('no credentials in the URL: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY');
  }
  if (!BUCKET.test(url.hostname) || url.port) throw new Error(`"${url.hostname}" is not a bucket name (3-63 of a-z, 0-9, . and -)`);
  for (const name of url.searchParams.keys()) {
    if (!S3_PARAMS.has(name)) throw new Error(`unknown parameter "${name}" (known: ${[...S3_PARAMS].join(', ')})`);
  }
  const endpoint = url.searchParams.get('endpoint') ?? undefined;
  if (endpoint !== undefined && !/^https?:\/\/[^/?#]+\/?$/.test(endpoint)) {
    throw new Error(`endpoint "${endpoint}" is not like http://host:port`);
  }
  const forcePathStyle = url.searchParams.get('forcePathStyle') ?? 'false';
  if (forcePathStyle !== 'true' && forcePathStyle !== 'false') throw new Error('forcePathStyle must be true or false');
  const path = decodeURIComponent(url.pathname).replace(/^\/+|\/+$/g, '');
  return {
    kind: 's3',
    bucket: url.hostname,
    prefix: path ? `${path}/` : '',
    endpoint,
    region: url.searchParams.get('region') || undefined,
    forcePathStyle: forcePathStyle === 'true',
  };
}

/** The schema's check: undefined when the value parses, else what is wrong. */
export function storageUrlProblem(value: string): string | undefined {
  try {
    parseStorageUrl(value, '/');
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** For logs and reports: the location without anything secret (there is nothing secret in it by construction). */
export function describeStorage(location: StorageLocation): string {
  if (location.kind === 'folder') return location.path;
  const where = location.endpoint ? ` at ${location.endpoint}` : '';
  return `s3://${location.bucket}/${location.prefix}${where}`;
}
