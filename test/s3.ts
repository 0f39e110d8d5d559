import crypto from 'node:crypto';
import { mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';

/** s3rver's fixed account (it checks signatures against it). */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

/**
 * s3rver encrypts its listing continuation tokens with single DES, which OpenSSL 3 keeps in its
 * legacy provider only, so a truncated ListObjectsV2 page fails with a 500. Three-key DES with
 * the same key three times is the same cipher, and is in the default provider.
 */
function allowSingleDes(): void {
  const marked = crypto as typeof crypto & { desShimmed?: boolean };
  if (marked.desShimmed) return;
  marked.desShimmed = true;
  const triple = (key: crypto.CipherKey) => Buffer.concat([key as Buffer, key as Buffer, key as Buffer]);
  const cipher = crypto.createCipheriv;
  const decipher = crypto.createDecipheriv;
  Object.assign(crypto, {
    createCipheriv: (algorithm: string, key: crypto.CipherKey, iv: crypto.BinaryLike | null, options?: never) =>
      algorithm === 'des' ? cipher('des-ede3-cbc', triple(key), iv) : cipher(algorithm, key, iv, options),
    createDecipheriv: (algorithm: string, key: crypto.CipherKey, iv: crypto.BinaryLike | null, options?: never) =>
      algorithm === 'des' ? decipher('des-ede3-cbc', triple(key), iv) : decipher(algorithm, key, iv, options),
  });
}

export interface TestS3 {
  endpoint: string;
  bucket: string;
  /** s3://… for PORTAL_STORAGE_URL, with an optional key prefix. */
  url(prefix?: string): string;
  /** A client for this server; `onSend` sees every request (to count them). */
  client(onSend?: (command: string) => void): S3Client;
  /** Backdates an object (s3rver's LastModified is its file's mtime). */
  age(key: string, ageMs: number): void;
  /** The file s3rver keeps an object's bytes in (to damage it). */
  objectFile(key: string): string;
  close(): Promise<void>;
}

/** An s3rver in this process, on a free port, over a fresh temp folder, with one bucket. */
export async function startS3(bucket = 'ouderportaal-test'): Promise<TestS3> {
  allowSingleDes();
  const dir = mkdtempSync(join(tmpdir(), 's3rver-'));
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: dir });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const clients: S3Client[] = [];
  const client = (onSend?: (command: string) => void) => {
    const c = new S3Client({
      endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: S3RVER_CREDENTIALS,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    if (onSend) {
      c.middlewareStack.add(
        (next, context) => (args) => {
          onSend(context.commandName ?? '?');
          return next(args);
        },
        { step: 'initialize', name: 'countRequests' },
      );
    }
    clients.push(c);
    return c;
  };
  await client().send(new CreateBucketCommand({ Bucket: bucket }));
  return {
    endpoint,
    bucket,
    url: (prefix = '') => `s3://${bucket}/${prefix}?endpoint=${encodeURIComponent(endpoint)}&region=us-east-1&forcePathStyle=true`,
    client,
    age: (key, ageMs) => {
      const when = new Date(Date.now() - ageMs);
      utimesSync(join(dir, bucket, `${key}._S3rver_object`), when, when);
    },
    objectFile: (key) => join(dir, bucket, `${key}._S3rver_object`),
    close: async () => {
      for (const c of clients) c.destroy();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
