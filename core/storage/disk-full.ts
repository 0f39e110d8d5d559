import { statfs } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { formatBytes } from '../doctor/disk.ts';
import type { PhotoStore, PutOptions, PutResult } from '../photos/store.ts';

/**
 * A write failed because the disk (or the user's quota) is full. Not the request's fault and
 * not a bug: the CLI exits with its own code (cli/errors.ts EXIT.diskFull), HTTP answers 507
 * (http/errors.ts). The message names the folder and, where known, how much space the write
 * needed and how much was free, so the administrator knows what to free.
 */
export class StorageFullError extends Error {
  constructor(
    readonly path: string,
    /** Bytes the write needed; for a stream, at least this many (what had arrived). */
    readonly neededBytes: number | undefined,
    /** Free space for the portal's user when the write failed; undefined when statfs failed too. */
    readonly freeBytes: number | undefined,
    readonly atLeast = false,
    options?: { cause?: unknown },
  ) {
    const needed = neededBytes === undefined ? '' : `; the write needed ${atLeast ? 'at least ' : ''}${formatBytes(neededBytes)}`;
    const free = freeBytes === undefined ? '' : ` (${formatBytes(freeBytes)} free)`;
    super(`no space left on the disk at ${path}${free}${needed}: free space there and try again`, options);
    this.name = 'StorageFullError';
  }
}

export function isStorageFull(err: unknown): err is StorageFullError {
  return err instanceof StorageFullError;
}

/** ENOSPC (disk full) or EDQUOT (the user's quota): the same remedy, free space. */
export function isNoSpace(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/** Free bytes for the portal's user at `path` (or its nearest existing parent); undefined when unknown. */
export async function freeBytesAt(path: string): Promise<number | undefined> {
  let at = resolve(path);
  for (;;) {
    try {
      const s = await statfs(at);
      return Number(s.bavail) * Number(s.bsize);
    } catch {
      if (at === dirname(at)) return undefined;
      at = dirname(at);
    }
  }
}

/** `err` as a StorageFullError naming `path` when it is ENOSPC/EDQUOT; otherwise `err` itself. */
export async function describeNoSpace(err: unknown, path: string, neededBytes?: number, atLeast = false): Promise<unknown> {
  if (!isNoSpace(err) || isStorageFull(err)) return err;
  return new StorageFullError(resolve(path), neededBytes, await freeBytesAt(path), atLeast, { cause: err });
}

/** Counts the bytes of a put's input as they pass, so a full disk can say how much had arrived. */
function counted(data: Uint8Array | AsyncIterable<Uint8Array>, seen: { bytes: number }): Uint8Array | AsyncIterable<Uint8Array> {
  if (data instanceof Uint8Array) {
    seen.bytes = data.byteLength;
    return data;
  }
  return {
    async *[Symbol.asyncIterator]() {
      for await (const chunk of data) {
        seen.bytes += chunk.byteLength;
        yield chunk;
      }
    },
  };
}

/**
 * A folder store whose ENOSPC/EDQUOT become StorageFullError naming the folder and the bytes
 * the write needed (all of them for bytes in hand; at least what had arrived for a stream).
 * core/storage/open.ts wraps every folder store in it; a test wraps a store that fails on purpose.
 */
export function withDiskFullErrors(store: PhotoStore, folder: string): PhotoStore {
  const translate = async <T>(work: Promise<T>, needed?: () => { bytes: number; atLeast: boolean }): Promise<T> => {
    try {
      return await work;
    } catch (err) {
      const n = needed?.();
      throw await describeNoSpace(err, folder, n?.bytes, n?.atLeast);
    }
  };
  return {
    ...store,
    put(data: Uint8Array | AsyncIterable<Uint8Array>, options?: PutOptions): Promise<PutResult> {
      const seen = { bytes: 0 };
      return translate(store.put(counted(data, seen), options), () => ({ bytes: seen.bytes, atLeast: !(data instanceof Uint8Array) }));
    },
    deleteStale: (key, cutoff) => translate(store.deleteStale(key, cutoff)),
    sweepTemp: (options) => translate(store.sweepTemp(options)),
  };
}
