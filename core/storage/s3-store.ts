import { createHash, randomBytes } from 'node:crypto';
import { type Readable, Transform } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import {
  type ByteRange,
  InvalidPhotoKeyError,
  isPhotoKey,
  PhotoNotFoundError,
  PhotoRangeError,
  type PhotoStat,
  type PhotoStore,
  PhotoTooLargeError,
  type PutOptions,
  type PutResult,
} from '../photos/store.ts';
// Object times are set by the server from the real time, so the store compares them with the
// system clock, never with the portal's (which a test may have pinned).
import { systemClock } from '../clock.ts';
import { PhotoChecksumError } from './checksum-error.ts';

export { PhotoChecksumError };

/**
 * The same content-addressed store as core/photos/store.ts's folder, in an S3-compatible bucket
 * (AWS S3, MinIO, Ceph, R2, …). Per store a key prefix such as `photos/`:
 *
 *   photos/<sha256>                          the content
 *   photos/.put/<sha256>                     empty marker: "this content was put again" (see deleteStale)
 *   photos/.tmp/<random>.part                a large upload before its hash is known
 *   photos/.tmp/sweep-<ms>-<sha256>-<rand>   a copy the orphan sweeper keeps until it has decided
 *
 * Checksums: a body whose hash is known before it is sent (every Buffer, and every stream up
 * to `partBytes`) goes in one PUT under its final key with `x-amz-checksum-sha256` and a SigV4
 * payload hash, both SHA-256 of the bytes: the server refuses the PUT if what arrived differs.
 * Larger streams go as a multipart upload to a temporary key (each part signed with its own
 * SHA-256) and are then copied server-side under their key, asking the server for the copy's
 * SHA-256; a server that does not give one (s3rver, older MinIO) has the copy read back and
 * hashed. Reads: `get` and a whole-content `stream` hash what they return and fail on a
 * mismatch (a stream with an error at its end, so an HTTP response is cut off rather than
 * completed); a byte range is not checked, as its hash is unknown.
 *
 * Durability follows the folder store's write order: `put` returns after the server has
 * acknowledged the object, which S3 promises is durable and visible to every later read.
 */
export interface S3StoreOptions {
  client: S3Client;
  bucket: string;
  /** The store's key prefix: '' or ending in '/'. */
  prefix: string;
  /** A stream up to this size is held in memory and PUT at once; larger ones go multipart (default 8 MiB, at least S3's smallest part, 5 MiB). */
  partBytes?: number;
}

const MiB = 1024 * 1024;
const HOUR = 60 * 60 * 1000;
/**
 * Object times are whole seconds of the server's clock, and the cutoffs come from this
 * machine's: deleteStale counts anything written less than this long before its cutoff as
 * fresh. Keeping too much is safe (the orphan sweeper removes it later); removing too much is not.
 */
export const CLOCK_SLACK_MS = 2 * 60 * 1000;
const TRASH = /^sweep-(\d+)-([0-9a-f]{64})-[0-9a-f]+$/;

interface S3ErrorShape {
  name?: string;
  $metadata?: { httpStatusCode?: number };
}

const statusOf = (err: unknown): number | undefined => (err as S3ErrorShape | null)?.$metadata?.httpStatusCode;
const isMissing = (err: unknown): boolean =>
  statusOf(err) === 404 || ['NoSuchKey', 'NotFound'].includes((err as S3ErrorShape | null)?.name ?? '');

function assertKey(key: string): void {
  if (!isPhotoKey(key)) throw new InvalidPhotoKeyError();
}

const sha256Base64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64');

function checkRange(range: ByteRange | undefined): void {
  if (!range) return;
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || start < 0 || (end !== undefined && (!Number.isSafeInteger(end) || end < start))) {
    throw new RangeError('invalid byte range');
  }
}

/** Passes the bytes through and fails at the end when they do not hash to `key`. */
function verifying(key: string): Transform {
  const hash = createHash('sha256');
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
    flush(done) {
      const actual = hash.digest('hex');
      done(actual === key ? null : new PhotoChecksumError(key, actual));
    },
  });
}

/**
 * The bytes of `range` from a ranged GET's answer. A server may send more than was asked: all
 * of it (a 200, as a proxy that ignores Range does) or past the end (s3rver reads `bytes=0-0`
 * as `bytes=0-`); the surplus is dropped here, so the caller gets exactly the range.
 */
function fitToRange(body: Readable, range: ByteRange, contentRange: string | undefined, contentLength: number | undefined): Readable {
  const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(contentRange ?? '');
  const from = m ? Number(m[1]) : 0;
  const to = m ? Number(m[2]) : (contentLength ?? 0) - 1;
  const size = m ? Number(m[3]) : (contentLength ?? 0);
  const end = Math.min(range.end ?? size - 1, size - 1);
  if (from > range.start) throw new Error(`the server answered bytes ${from}-${to} for a range from ${range.start}`);
  if (from === range.start && to === end) return body;
  let skip = range.start - from;
  let left = end - range.start + 1;
  const cut = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      let part = chunk;
      if (skip > 0) {
        const n = Math.min(skip, part.length);
        part = part.subarray(n);
        skip -= n;
      }
      if (left > 0 && part.length > 0) {
        const piece = part.subarray(0, left);
        left -= piece.length;
        this.push(piece);
      }
      if (left === 0) body.destroy(); // nothing more is wanted: stop the download
      done();
    },
  });
  body.on('error', (err) => {
    if (left > 0) cut.destroy(err);
  });
  body.on('close', () => {
    if (left === 0) cut.end();
  });
  return body.pipe(cut);
}

export function createS3Store(options: S3StoreOptions): PhotoStore {
  const { client, bucket, prefix } = options;
  const partBytes = Math.max(options.partBytes ?? 8 * MiB, 5 * MiB);
  if (prefix !== '' && !prefix.endsWith('/')) throw new RangeError('prefix must be empty or end in /');
  const objectKey = (key: string) => prefix + key;
  const markerKey = (key: string) => `${prefix}.put/${key}`;
  const tempPrefix = `${prefix}.tmp/`;

  /** Size and server time of an object, or null. */
  async function head(name: string): Promise<{ size: number; mtime: Date } | null> {
    try {
      const r = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: name }));
      return { size: r.ContentLength ?? 0, mtime: r.LastModified ?? new Date(0) };
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  }

  const deleteObject = (name: string) => client.send(new DeleteObjectCommand({ Bucket: bucket, Key: name }));
  // Our names are hex, dots, dashes and slashes: nothing to escape in the copy source.
  const copyObject = (from: string, to: string, checksum?: 'SHA256') =>
    client.send(new CopyObjectCommand({ Bucket: bucket, Key: to, CopySource: `${bucket}/${from}`, ChecksumAlgorithm: checksum }));

  /**
   * Marks existing content as put again, then looks whether it is still there. The marker is
   * written *before* that look: a sweeper that deletes the content after the look finds the
   * marker when it looks after its delete, and puts the content back (deleteStale).
   */
  async function refresh(key: string, size: number): Promise<boolean> {
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: markerKey(key), Body: new Uint8Array(0) }));
    return (await head(objectKey(key)))?.size === size;
  }

  /** Bytes whose hash is known: one PUT under the final key, which the server checks against the SHA-256. */
  async function putWhole(data: Uint8Array, key: string): Promise<PutResult> {
    const size = data.byteLength;
    if ((await head(objectKey(key)))?.size === size && (await refresh(key, size))) {
      return { key, size, sha256: key, created: false };
    }
    await client.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: objectKey(key),
        Body: data,
        ChecksumSHA256: sha256Base64(key),
        ContentType: 'application/octet-stream',
      }),
    );
    return { key, size, sha256: key, created: true };
  }

  /** A completed upload under a temporary name goes under its key (server-side copy), checked. */
  async function install(tempKey: string, key: string, size: number): Promise<PutResult> {
    try {
      if ((await head(objectKey(key)))?.size === size && (await refresh(key, size))) {
        return { key, size, sha256: key, created: false };
      }
      const copied = await copyObject(tempKey, objectKey(key), 'SHA256');
      const reported = copied.CopyObjectResult?.ChecksumSHA256;
      let actual: string;
      if (reported && !reported.includes('-')) {
        actual = Buffer.from(reported, 'base64').toString('hex');
      } else {
        // No full-object checksum from this server: read the copy back.
        const hash = createHash('sha256');
        const body = (await client.send(new GetObjectCommand({ Bucket: bucket, Key: objectKey(key) }))).Body as Readable;
        for await (const chunk of body) hash.update(chunk as Buffer);
        actual = hash.digest('hex');
      }
      if (actual !== key) {
        await deleteObject(objectKey(key));
        throw new PhotoChecksumError(key, actual);
      }
      return { key, size, sha256: key, created: true };
    } finally {
      await deleteObject(tempKey);
    }
  }

  async function put(data: Uint8Array | AsyncIterable<Uint8Array>, putOptions: PutOptions = {}): Promise<PutResult> {
    const { maxBytes } = putOptions;
    if (maxBytes !== undefined && (!Number.isSafeInteger(maxBytes) || maxBytes < 0)) {
      throw new RangeError('maxBytes must be a non-negative integer');
    }
    if (data instanceof Uint8Array) {
      if (maxBytes !== undefined && data.byteLength > maxBytes) throw new PhotoTooLargeError(maxBytes);
      return putWhole(data, createHash('sha256').update(data).digest('hex'));
    }

    const hash = createHash('sha256');
    let size = 0;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let upload: { tempKey: string; uploadId: string; parts: { PartNumber: number; ETag: string | undefined }[] } | undefined;

    const sendPart = async () => {
      const body = Buffer.concat(pending, pendingBytes);
      pending = [];
      pendingBytes = 0;
      if (!upload) {
        const tempKey = `${tempPrefix}${randomBytes(16).toString('hex')}.part`;
        const created = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: tempKey }));
        upload = { tempKey, uploadId: created.UploadId!, parts: [] };
      }
      const PartNumber = upload.parts.length + 1;
      // A Buffer body is signed with its SHA-256 (x-amz-content-sha256): the server checks each part.
      const r = await client.send(
        new UploadPartCommand({ Bucket: bucket, Key: upload.tempKey, UploadId: upload.uploadId, PartNumber, Body: body }),
      );
      upload.parts.push({ PartNumber, ETag: r.ETag });
    };

    try {
      // Leaving this loop early (limit, failed part) calls the iterator's return(), which for a
      // Node stream destroys it: nothing more is read. At most one part is held in memory.
      for await (const chunk of data) {
        size += chunk.byteLength;
        if (maxBytes !== undefined && size > maxBytes) throw new PhotoTooLargeError(maxBytes);
        hash.update(chunk);
        pending.push(Buffer.from(chunk)); // a copy: the source may reuse its buffer
        pendingBytes += chunk.byteLength;
        if (pendingBytes >= partBytes) await sendPart();
      }
      const key = hash.digest('hex');
      if (!upload) return await putWhole(Buffer.concat(pending, pendingBytes), key);
      if (pendingBytes > 0) await sendPart();
      const { tempKey, uploadId, parts } = upload;
      await client.send(
        new CompleteMultipartUploadCommand({ Bucket: bucket, Key: tempKey, UploadId: uploadId, MultipartUpload: { Parts: parts } }),
      );
      upload = undefined;
      return await install(tempKey, key, size);
    } catch (err) {
      if (upload) {
        const { tempKey, uploadId } = upload;
        await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: tempKey, UploadId: uploadId })).catch(() => {});
      }
      throw err;
    }
  }

  async function get(key: string): Promise<Buffer> {
    assertKey(key);
    let bytes: Uint8Array;
    try {
      const r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: objectKey(key) }));
      bytes = await r.Body!.transformToByteArray();
    } catch (err) {
      if (isMissing(err)) throw new PhotoNotFoundError(key);
      throw err;
    }
    const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const actual = createHash('sha256').update(data).digest('hex');
    if (actual !== key) throw new PhotoChecksumError(key, actual);
    return data;
  }

  async function stream(key: string, range?: ByteRange): Promise<Readable> {
    assertKey(key);
    checkRange(range);
    try {
      const r = await client.send(
        new GetObjectCommand({
          Bucket: bucket,
          Key: objectKey(key),
          Range: range ? `bytes=${range.start}-${range.end ?? ''}` : undefined,
        }),
      );
      const body = r.Body as Readable;
      if (range) return fitToRange(body, range, r.ContentRange, r.ContentLength);
      const checked = verifying(key);
      body.on('error', (err) => checked.destroy(err));
      checked.on('close', () => body.destroy());
      return body.pipe(checked);
    } catch (err) {
      if (isMissing(err)) throw new PhotoNotFoundError(key);
      if (statusOf(err) === 416) {
        const s = await head(objectKey(key));
        if (!s) throw new PhotoNotFoundError(key);
        throw new PhotoRangeError(s.size);
      }
      throw err;
    }
  }

  async function statKey(key: string): Promise<PhotoStat | null> {
    assertKey(key);
    const [object, marker] = await Promise.all([head(objectKey(key)), head(markerKey(key))]);
    if (!object) return null;
    return { size: object.size, mtime: marker && marker.mtime > object.mtime ? marker.mtime : object.mtime };
  }

  async function remove(key: string): Promise<boolean> {
    assertKey(key);
    // S3 answers a delete the same whether or not the object was there: look first (the answer
    // is for reports; two concurrent deletes may both say true).
    const existed = (await head(objectKey(key))) !== null;
    if (existed) await deleteObject(objectKey(key));
    await deleteObject(markerKey(key));
    return existed;
  }

  /**
   * S3 has no atomic rename and no conditional delete on a general bucket, so the folder
   * store's move-aside-and-look-again becomes copy-aside, delete, look at the put marker:
   *
   *   sweeper: copy to .tmp/sweep-…  → delete the content → read the marker → restore if fresh
   *   put:     write the marker      → look at the content → (absent: write it)
   *
   * S3 is strongly consistent (a read sees every write that finished before it began). If the
   * put saw the content, its look began before the sweeper's delete finished, so its marker was
   * written before the sweeper reads the marker: the sweeper sees it and copies the content
   * back. If the put's look came after the delete, it found nothing and wrote the content itself.
   * Either way the put's caller ends up with an object. The cost: for the moment between the
   * delete and the restore a read of that key fails, and every sweep keeps a server-side copy
   * until it has decided. A sweeper that dies in between leaves its copy in .tmp/, which
   * sweepTemp puts back an hour later (as the folder store does).
   *
   * Times: the object's and the marker's are the server's, in whole seconds; anything written
   * less than CLOCK_SLACK_MS before the cutoff counts as fresh, which at worst leaves an orphan
   * for the next sweep.
   */
  async function deleteStale(key: string, cutoff: Date): Promise<boolean> {
    assertKey(key);
    const fresh = (t: Date) => t.getTime() >= cutoff.getTime() - CLOCK_SLACK_MS;
    const before = await statKey(key);
    if (!before || fresh(before.mtime)) return false;
    const trashKey = `${tempPrefix}sweep-${systemClock.now().getTime()}-${key}-${randomBytes(8).toString('hex')}`;
    try {
      await copyObject(objectKey(key), trashKey);
    } catch (err) {
      if (isMissing(err)) return false;
      throw err;
    }
    await deleteObject(objectKey(key));
    const marker = await head(markerKey(key));
    if (marker && fresh(marker.mtime)) {
      await restore(trashKey, key);
      return false;
    }
    await deleteObject(trashKey);
    if (marker) await deleteObject(markerKey(key));
    return true;
  }

  /** Copies a swept object back under its key; overwriting is harmless, as any object there has the same bytes. */
  async function restore(trashKey: string, key: string): Promise<void> {
    await copyObject(trashKey, objectKey(key));
    await deleteObject(trashKey);
  }

  /** Every object directly under `listPrefix` (or, with `delimiter` off, beneath it), page by page. */
  async function* list(listPrefix: string, delimiter: boolean): AsyncGenerator<{ name: string; mtime: Date }> {
    let token: string | undefined;
    do {
      const page = await client.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: listPrefix, Delimiter: delimiter ? '/' : undefined, ContinuationToken: token }),
      );
      for (const o of page.Contents ?? []) {
        if (o.Key) yield { name: o.Key.slice(listPrefix.length), mtime: o.LastModified ?? new Date(0) };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async function* keys(): AsyncGenerator<string> {
    // The delimiter leaves out .put/ and .tmp/ (and anything else in a "folder").
    for await (const { name } of list(prefix, true)) if (isPhotoKey(name)) yield name;
  }

  async function sweepTemp(sweepOptions: { olderThanMs?: number } = {}): Promise<{ removed: string[]; restored: string[] }> {
    const cutoff = systemClock.now().getTime() - (sweepOptions.olderThanMs ?? HOUR);
    const removed: string[] = [];
    const restored: string[] = [];
    for await (const { name, mtime } of list(tempPrefix, false)) {
      const trash = TRASH.exec(name);
      if (trash) {
        // A sweeper died between copying an object aside and deciding. Restoring is always safe
        // (at worst an orphan waits for the next sweep); deleting might not be.
        if (Number(trash[1]) < cutoff) {
          await restore(tempPrefix + name, trash[2]!);
          restored.push(name);
        }
        continue;
      }
      if (name.endsWith('.part') && mtime.getTime() < cutoff) {
        await deleteObject(tempPrefix + name);
        removed.push(name);
      }
    }
    // Markers whose content has gone (a put or a delete that died half-way) are no use.
    for await (const { name, mtime } of list(`${prefix}.put/`, true)) {
      if (!isPhotoKey(name) || mtime.getTime() >= cutoff || (await head(objectKey(name)))) continue;
      await deleteObject(markerKey(name));
      removed.push(`.put/${name}`);
    }
    return { removed, restored };
  }

  return { put, get, stream, stat: statKey, delete: remove, deleteStale, keys, sweepTemp };
}
