import { createHash, randomBytes } from 'node:crypto';
import { type FileHandle, link, mkdir, open, readdir, readFile, rename, stat, unlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { DomainError } from '../errors.ts';
import { rethrowAfterCleanup } from '../storage/after-cleanup.ts';
// File times are set by the operating system from the real time, so the store compares them with
// the system clock, never with the portal's (which a test may have pinned).
import { systemClock } from '../clock.ts';

/**
 * Where photo bytes live. Rows in the database refer to a photo by its key, the SHA-256 of its
 * content in lower-case hex, so the same bytes are stored once and a key can never point at
 * other bytes than it did when the row was written.
 *
 * The write order that keeps the database and the store in step: `put` (durable when it
 * returns), then commit the row. A crash before the commit leaves a file without a row, which
 * `sweepOrphans` removes once it is older than its grace period; a row is never committed for a
 * file that is not durably there. Deleting a row and then its file can crash in between too:
 * the same sweeper removes the leftover file.
 */
export interface PhotoStore {
  /** Stores the bytes and returns their key. Storing bytes that are already there is a cheap no-op (`created: false`). */
  put(data: Uint8Array | AsyncIterable<Uint8Array>, options?: PutOptions): Promise<PutResult>;
  /** The whole content. Throws `PhotoNotFoundError`. */
  get(key: string): Promise<Buffer>;
  /**
   * The content, or a byte range of it, as a Node stream. Asynchronous so that a missing file or
   * a bad range is an error before any byte (or HTTP header) is sent. Throws `PhotoNotFoundError`,
   * `PhotoRangeError`.
   */
  stream(key: string, range?: ByteRange): Promise<Readable>;
  /** Size and last write (or last `put` of the same content); null when absent. */
  stat(key: string): Promise<PhotoStat | null>;
  /** Removes the photo; false when it was not there. */
  delete(key: string): Promise<boolean>;
  /**
   * Removes the photo only if it has not been written or re-`put` since `cutoff`, safely against
   * a concurrent `put` of the same content (which must then keep its file). What the orphan
   * sweeper uses; true when removed.
   */
  deleteStale(key: string, cutoff: Date): Promise<boolean>;
  /** Every stored key, in no particular order. */
  keys(): AsyncIterable<string>;
  /** Cleans up what interrupted writes left behind (default: older than an hour). */
  sweepTemp(options?: { olderThanMs?: number }): Promise<{ removed: string[]; restored: string[] }>;
}

export interface PutOptions {
  /** Refuse content larger than this many bytes, checked while the body streams in. */
  maxBytes?: number;
}

export interface PutResult {
  key: string;
  size: number;
  sha256: string;
  /** False when the same content was already stored. */
  created: boolean;
}

/** Inclusive on both ends, as in an HTTP `Range: bytes=start-end` header; `end` past the last byte is clamped. */
export interface ByteRange {
  start: number;
  end?: number;
}

export interface PhotoStat {
  size: number;
  mtime: Date;
}

export class PhotoTooLargeError extends DomainError {
  constructor(readonly maxBytes: number) {
    super('validation', `photo is larger than ${maxBytes} bytes`, [
      { path: 'photo', message: `larger than ${maxBytes} bytes` },
    ]);
    this.name = 'PhotoTooLargeError';
  }
}

export class InvalidPhotoKeyError extends DomainError {
  constructor() {
    super('validation', 'invalid photo key', [{ path: 'key', message: 'not a photo key' }]);
    this.name = 'InvalidPhotoKeyError';
  }
}

export class PhotoNotFoundError extends DomainError {
  constructor(readonly key: string) {
    super('not_found', 'photo not found');
    this.name = 'PhotoNotFoundError';
  }
}

export class PhotoRangeError extends DomainError {
  constructor(readonly size: number) {
    super('validation', 'requested range not satisfiable', [{ path: 'range', message: `content is ${size} bytes` }]);
    this.name = 'PhotoRangeError';
  }
}

const KEY = /^[0-9a-f]{64}$/;
const SHARD = /^[0-9a-f]{2}$/;
const TEMP_DIR = '.tmp';
const PART_SUFFIX = '.part';
/** A file the sweeper has moved aside before deleting: `sweep-<epoch ms>-<key>-<random>`. */
const TRASH = /^sweep-(\d+)-([0-9a-f]{64})-[0-9a-f]+$/;
const HOUR = 60 * 60 * 1000;

export function isPhotoKey(key: unknown): key is string {
  return typeof key === 'string' && KEY.test(key);
}

function assertKey(key: string): void {
  if (!isPhotoKey(key)) throw new InvalidPhotoKeyError();
}

function isErrno(err: unknown, code: string): boolean {
  return err instanceof Error && (err as NodeJS.ErrnoException).code === code;
}

async function fsyncDir(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function unlinkQuietly(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (err) {
    if (!isErrno(err, 'ENOENT')) throw err;
  }
}

function singleChunk(data: Uint8Array): AsyncIterable<Uint8Array> {
  return {
    async *[Symbol.asyncIterator]() {
      yield data;
    },
  };
}

/**
 * The store on local disk: `<root>/ab/cd/<sha256>`, written through `<root>/.tmp/`, which must
 * be on the same filesystem (rename is only atomic within one). Nothing is touched until the
 * first call, so creating a store is free.
 */
export function createFileStore(root: string): PhotoStore {
  const tempDir = join(root, TEMP_DIR);
  const shardDir = (key: string) => join(root, key.slice(0, 2), key.slice(2, 4));
  const pathOf = (key: string) => join(shardDir(key), key);

  /** Marks existing content as freshly stored (so the sweeper's grace period starts again); its size, or null when absent. */
  async function refresh(key: string): Promise<number | null> {
    const path = pathOf(key);
    try {
      const now = systemClock.now();
      await utimes(path, now, now);
      return (await stat(path)).size;
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return null;
      throw err;
    }
  }

  /** Puts a complete, fsynced temp file in place and makes the rename durable. */
  async function install(tempPath: string, key: string): Promise<void> {
    const dir = shardDir(key);
    const outer = join(root, key.slice(0, 2));
    // The first directory mkdir made: undefined (both there), the inner `cd` alone, or `ab`.
    const firstCreated = await mkdir(dir, { recursive: true });
    await rename(tempPath, pathOf(key));
    // The rename's entry, and the entry of each directory made just now, must be durable. Only a
    // directory that got a new entry needs its fsync: a new `cd` is an entry in `ab`, a new `ab`
    // one in the root. They are issued together and all awaited before `put` returns, so the
    // journal commits them at once instead of one after another; the order among them does not
    // matter, since nobody learns the key (no row is written) until every one has completed.
    const dirs = [dir];
    if (firstCreated !== undefined) dirs.push(outer);
    if (firstCreated !== undefined && firstCreated !== dir) dirs.push(root);
    await Promise.all(dirs.map(fsyncDir));
  }

  async function put(data: Uint8Array | AsyncIterable<Uint8Array>, options: PutOptions = {}): Promise<PutResult> {
    const { maxBytes } = options;
    if (maxBytes !== undefined && (!Number.isSafeInteger(maxBytes) || maxBytes < 0)) {
      throw new RangeError('maxBytes must be a non-negative integer');
    }
    if (data instanceof Uint8Array) {
      if (maxBytes !== undefined && data.byteLength > maxBytes) throw new PhotoTooLargeError(maxBytes);
      // The whole content is in hand: hash first, and skip the write when it is already stored.
      const key = createHash('sha256').update(data).digest('hex');
      if ((await refresh(key)) === data.byteLength) return { key, size: data.byteLength, sha256: key, created: false };
    }
    const input = data instanceof Uint8Array ? singleChunk(data) : data;

    await mkdir(tempDir, { recursive: true, mode: 0o700 });
    const tempPath = join(tempDir, randomBytes(16).toString('hex') + PART_SUFFIX);
    let fh: FileHandle | undefined = await open(tempPath, 'wx', 0o600);
    try {
      const hash = createHash('sha256');
      let size = 0;
      // Leaving this loop early (limit, write error) calls the iterator's return(), which for a
      // Node stream destroys it: nothing more is read, let alone buffered.
      for await (const chunk of input) {
        size += chunk.byteLength;
        if (maxBytes !== undefined && size > maxBytes) throw new PhotoTooLargeError(maxBytes);
        hash.update(chunk);
        await fh.write(chunk);
      }
      await fh.sync();
      await fh.close();
      fh = undefined;

      const key = hash.digest('hex');
      if ((await refresh(key)) === size) {
        await unlink(tempPath);
        return { key, size, sha256: key, created: false };
      }
      // Absent, or (damaged) with another size: the new file replaces it atomically.
      await install(tempPath, key);
      return { key, size, sha256: key, created: true };
    } catch (err) {
      // On a full disk removing the temp file can fail too: the write's own error is the one to
      // report (rethrowAfterCleanup keeps it; the temp file is left to sweepTemp).
      return await rethrowAfterCleanup(err, async () => {
        await fh?.close().catch(() => {});
        await unlinkQuietly(tempPath);
      });
    }
  }

  async function get(key: string): Promise<Buffer> {
    assertKey(key);
    try {
      return await readFile(pathOf(key));
    } catch (err) {
      if (isErrno(err, 'ENOENT')) throw new PhotoNotFoundError(key);
      throw err;
    }
  }

  async function stream(key: string, range?: ByteRange): Promise<Readable> {
    assertKey(key);
    if (range) {
      const { start, end } = range;
      if (!Number.isSafeInteger(start) || start < 0 || (end !== undefined && (!Number.isSafeInteger(end) || end < start))) {
        throw new RangeError('invalid byte range');
      }
    }
    let fh: FileHandle;
    try {
      fh = await open(pathOf(key), 'r');
    } catch (err) {
      if (isErrno(err, 'ENOENT')) throw new PhotoNotFoundError(key);
      throw err;
    }
    try {
      if (!range) return fh.createReadStream();
      const { size } = await fh.stat();
      if (range.start >= size) throw new PhotoRangeError(size);
      const end = Math.min(range.end ?? size - 1, size - 1);
      return fh.createReadStream({ start: range.start, end });
    } catch (err) {
      await fh.close();
      throw err;
    }
  }

  async function statKey(key: string): Promise<PhotoStat | null> {
    assertKey(key);
    try {
      const s = await stat(pathOf(key));
      return { size: s.size, mtime: s.mtime };
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return null;
      throw err;
    }
  }

  async function remove(key: string): Promise<boolean> {
    assertKey(key);
    try {
      await unlink(pathOf(key));
      return true;
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return false;
      throw err;
    }
  }

  /** Puts a file the sweeper moved aside back in its place, unless the place has been filled meanwhile. */
  async function restore(trashPath: string, key: string): Promise<void> {
    await mkdir(shardDir(key), { recursive: true });
    try {
      await link(trashPath, pathOf(key)); // never overwrites: a newer copy there wins
    } catch (err) {
      if (!isErrno(err, 'EEXIST')) throw err;
    }
    await unlink(trashPath);
  }

  async function deleteStale(key: string, cutoff: Date): Promise<boolean> {
    assertKey(key);
    const path = pathOf(key);
    const before = await statKey(key);
    if (!before || before.mtime >= cutoff) return false;
    // Move the file aside (atomic), then look again. A concurrent put of the same content either
    // refreshed the mtime before the move (seen below: put it back) or finds no file after it
    // (and writes a new one). Either way the put's caller ends up with a file.
    await mkdir(tempDir, { recursive: true, mode: 0o700 });
    const trashPath = join(tempDir, `sweep-${systemClock.now().getTime()}-${key}-${randomBytes(8).toString('hex')}`);
    try {
      await rename(path, trashPath);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return false;
      throw err;
    }
    const moved = await stat(trashPath);
    if (moved.mtime >= cutoff) {
      await restore(trashPath, key);
      return false;
    }
    await unlink(trashPath);
    return true;
  }

  async function* keys(): AsyncGenerator<string> {
    const dirs = async (path: string) => {
      try {
        return await readdir(path, { withFileTypes: true });
      } catch (err) {
        if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return [];
        throw err;
      }
    };
    for (const a of await dirs(root)) {
      if (!a.isDirectory() || !SHARD.test(a.name)) continue;
      for (const b of await dirs(join(root, a.name))) {
        if (!b.isDirectory() || !SHARD.test(b.name)) continue;
        for (const f of await dirs(join(root, a.name, b.name))) {
          if (f.isFile() && KEY.test(f.name) && f.name.startsWith(a.name + b.name)) yield f.name;
        }
      }
    }
  }

  async function sweepTemp(options: { olderThanMs?: number } = {}): Promise<{ removed: string[]; restored: string[] }> {
    const cutoff = systemClock.now().getTime() - (options.olderThanMs ?? HOUR);
    const removed: string[] = [];
    const restored: string[] = [];
    let names: string[];
    try {
      names = await readdir(tempDir);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return { removed, restored };
      throw err;
    }
    for (const name of names) {
      const path = join(tempDir, name);
      const trash = TRASH.exec(name);
      if (trash) {
        // A sweeper died between moving a file aside and deleting or restoring it. Restoring is
        // always safe (at worst an orphan waits for the next sweep); deleting might not be.
        if (Number(trash[1]) < cutoff) {
          await restore(path, trash[2]!);
          restored.push(name);
        }
        continue;
      }
      if (!name.endsWith(PART_SUFFIX)) continue;
      try {
        if ((await stat(path)).mtimeMs >= cutoff) continue; // may still be being written
        await unlink(path);
        removed.push(name);
      } catch (err) {
        if (!isErrno(err, 'ENOENT')) throw err;
      }
    }
    return { removed, restored };
  }

  return { put, get, stream, stat: statKey, delete: remove, deleteStale, keys, sweepTemp };
}

export interface SweepOrphansOptions {
  /** Files younger than this are left alone: an upload between its `put` and its row's commit is not an orphan. */
  olderThanMs: number;
  /** Report what would be removed without removing it. */
  dryRun?: boolean;
  /** How many keys to hand `isReferenced` at once (default 500). */
  batchSize?: number;
  /** The real time the files' ages are measured against (default the system clock: file times are real); tests move it on. */
  now?: Date;
}

/**
 * Removes stored photos that no database row references. `isReferenced` gets a batch of keys
 * and returns those that some row uses; if it throws, nothing more is removed. `olderThanMs`
 * must be well above the longest time between a `put` and its row's commit.
 */
export async function sweepOrphans(
  store: PhotoStore,
  isReferenced: (keys: string[]) => Promise<Set<string>>,
  options: SweepOrphansOptions,
): Promise<{ checked: number; removed: string[] }> {
  const { olderThanMs, dryRun = false, batchSize = 500 } = options;
  if (!Number.isFinite(olderThanMs) || olderThanMs < 0) throw new RangeError('olderThanMs must be a non-negative number');
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new RangeError('batchSize must be a positive integer');
  const cutoff = new Date((options.now ?? systemClock.now()).getTime() - olderThanMs);
  let checked = 0;
  const removed: string[] = [];

  const sweep = async (batch: string[]) => {
    const old: string[] = [];
    for (const key of batch) {
      const s = await store.stat(key);
      if (s && s.mtime < cutoff) old.push(key);
    }
    if (old.length === 0) return;
    const referenced = await isReferenced(old);
    for (const key of old) {
      if (referenced.has(key)) continue;
      if (dryRun || (await store.deleteStale(key, cutoff))) removed.push(key);
    }
  };

  let batch: string[] = [];
  for await (const key of store.keys()) {
    checked++;
    batch.push(key);
    if (batch.length >= batchSize) {
      await sweep(batch);
      batch = [];
    }
  }
  await sweep(batch);
  return { checked, removed };
}
