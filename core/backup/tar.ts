import { once } from 'node:events';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tarStream from 'tar-stream';

/**
 * The backup archive's tar, on the maintained `tar-stream` package: POSIX ustar headers, PAX
 * headers for names longer than ustar holds (store keys and table names can be), GNU's base-256
 * sizes above 8 GiB; `tar -tvf` lists it. Written and read as streams, so an archive of any size
 * passes through in constant memory.
 *
 * Reading trusts nothing: only regular files, and a name with `..`, a leading `/`, a backslash or
 * a NUL is refused outright (a restore never writes a path from the archive anyway: it uses the
 * entries its manifest lists, see restore.ts).
 */

export class TarFormatError extends Error {
  override name = 'TarFormatError';
}

/** Refused before anything else: an entry name that could point outside the archive's own tree. */
export class UnsafeEntryError extends TarFormatError {
  override name = 'UnsafeEntryError';
}

/** Why `name` is not a plain relative path of the archive, or null when it is. */
export function unsafeEntryName(name: string): string | null {
  if (name.length === 0) return 'it is empty';
  if (name.includes('\0')) return 'it holds a NUL byte';
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) return 'it is an absolute path';
  if (name.includes('\\')) return 'it holds a backslash';
  if (name.split('/').some((part) => part === '..' || part === '.' || part === '')) return 'it holds a "..", "." or empty path segment';
  return null;
}

export function checkEntryName(name: string): void {
  const why = unsafeEntryName(name);
  if (why) throw new UnsafeEntryError(`archive entry ${JSON.stringify(name)} is refused: ${why}`);
}

export interface TarWriter {
  /**
   * Adds one file of exactly `size` bytes; `body` must yield that many (it throws otherwise, the
   * archive would be corrupt). `onChunk` sees every chunk, for the caller's hashing.
   */
  add(name: string, size: number, body: Uint8Array | AsyncIterable<Uint8Array>, onChunk?: (chunk: Uint8Array) => void): Promise<void>;
  /** Ends the archive and waits until `sinks` have taken every byte. */
  finish(): Promise<void>;
}

/** An archive piped through `sinks` (a gzip, then the file), entries 0600 with time `mtime`. */
export function tarWriter(mtime: Date, sinks: [NodeJS.WritableStream, ...NodeJS.WritableStream[]], mode = 0o600): TarWriter {
  const pack = tarStream.pack();
  // streamx's Readable as a Node stream, so pipeline() handles backpressure and errors.
  const streams: (NodeJS.ReadableStream | NodeJS.WritableStream)[] = [Readable.from(pack), ...sinks];
  const done = pipeline(streams);
  let failure: unknown;
  done.catch((err: unknown) => {
    failure = err;
    pack.destroy(err as Error);
  });
  const failed = done.then(() => new Promise<never>(() => {}));
  return {
    async add(name, size, body, onChunk) {
      checkEntryName(name);
      if (failure) throw failure;
      let closed: (err?: Error | null) => void = () => {};
      const entryDone = new Promise<void>((resolve, reject) => {
        closed = (err) => (err ? reject(err) : resolve());
      });
      entryDone.catch(() => {});
      const entry = pack.entry({ name, size, mode, mtime, type: 'file', uid: 0, gid: 0 }, (err) => closed(err));
      let written = 0;
      const chunks: AsyncIterable<Uint8Array> | Uint8Array[] = body instanceof Uint8Array ? [body] : body;
      for await (const chunk of chunks) {
        written += chunk.byteLength;
        if (written > size) throw new Error(`tar entry ${name} grew past its ${size} bytes while being written`);
        onChunk?.(chunk);
        if (!entry.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength))) {
          await Promise.race([once(entry as unknown as NodeJS.EventEmitter, 'drain'), failed, entryDone]);
        }
      }
      if (written !== size) throw new Error(`tar entry ${name} has ${written} bytes, not the ${size} announced`);
      entry.end(null);
      await Promise.race([entryDone, failed]);
    },
    async finish() {
      pack.finalize();
      await done;
    },
  };
}

export interface TarEntry {
  name: string;
  size: number;
  /** The entry's bytes; read it before asking for the next entry (what is left unread is skipped). */
  body: AsyncIterable<Buffer>;
}

/** tar-stream's messages for a damaged or cut-off archive, as one error type. */
function formatError(err: unknown): unknown {
  if (err instanceof TarFormatError) return err;
  const message = (err as Error)?.message ?? String(err);
  if (/invalid tar header|unexpected end|checksum|size mismatch|premature/i.test(message)) return new TarFormatError(`the tar structure is broken (${message})`);
  return err;
}

/**
 * The regular files of an archive, one after another, each to be read before the next. An
 * archive cut off inside an entry is refused here; one cut off between entries lacks its last
 * entry, the manifest, which restore.ts refuses.
 */
export async function* readTar(source: Readable): AsyncGenerator<TarEntry> {
  const extract = tarStream.extract();
  source.on('error', (err) => extract.destroy(err));
  source.pipe(extract as unknown as NodeJS.WritableStream);
  try {
    for await (const entry of extract) {
      const { name, size, type } = entry.header;
      checkEntryName(name);
      if (type !== 'file') throw new UnsafeEntryError(`archive entry ${JSON.stringify(name)} is refused: it is a ${type}, not a regular file`);
      let consumed = false;
      yield {
        name,
        size,
        body: (async function* () {
          consumed = true;
          try {
            for await (const chunk of entry) yield chunk as Buffer;
          } catch (err) {
            // A cut-off archive fails here, while its last entry is read.
            throw formatError(err);
          }
        })(),
      };
      if (!consumed) entry.resume();
      // tar-stream moves on once this entry's stream has ended.
    }
  } catch (err) {
    throw formatError(err);
  } finally {
    source.unpipe(extract as unknown as NodeJS.WritableStream);
    source.destroy();
  }
}
