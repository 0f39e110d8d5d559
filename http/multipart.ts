import { Readable } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import busboy from 'busboy';
import { HTTPException } from 'hono/http-exception';
import type { WebContext } from './env.ts';
import { CSRF_FIELD, CsrfError } from './middleware/csrf.ts';

/**
 * Streaming multipart: each file is handed on as a stream while the request is still arriving,
 * so an upload is never buffered in memory and the size limit bites as the bytes come in.
 * The text fields must come before the files (browsers send them in form order; our forms put
 * the file input last), and the CSRF token must be the first of them: it is checked before a
 * single byte of a file is accepted, because the CSRF middleware left this body unread.
 */

export interface FilePart {
  field: string;
  filename: string;
  /** The bytes, as they arrive. Must be read to the end (or `drain`ed) before the next part. */
  data: AsyncIterable<Uint8Array>;
  /** Skips what is left of the file, e.g. after the store refused it. */
  drain(): void;
}

export interface MultipartLimits {
  maxFiles: number;
  /** Per file; the stream stops one byte beyond it, so the consumer's own limit must refuse it. */
  maxFileBytes: number;
}

export class MultipartError extends HTTPException {
  constructor(message: string) {
    super(400, { message });
    this.name = 'MultipartError';
  }
}

/**
 * More files than `maxFiles` in one body. Raised once the whole body is read and the files
 * within the limit were handled, so the caller can undo those and refuse the upload as a whole.
 */
export class TooManyFilesError extends MultipartError {
  constructor(readonly maxFiles: number) {
    super(`at most ${maxFiles} files at a time`);
    this.name = 'TooManyFilesError';
  }
}

/**
 * Reads a multipart body part by part: `onFile` is awaited for each file before the next one is
 * parsed (busboy pauses the socket meanwhile), with the text fields seen so far.
 */
export async function readMultipart(
  c: WebContext,
  limits: MultipartLimits,
  onFile: (fields: Readonly<Record<string, string>>, file: FilePart) => Promise<void>,
): Promise<Record<string, string>> {
  const type = c.req.header('Content-Type') ?? '';
  const body = c.req.raw.body;
  if (!/^multipart\/form-data\b/i.test(type) || !body) throw new MultipartError('expected multipart/form-data');
  const verifyCsrf = c.var.verifyCsrf;

  const fields: Record<string, string> = {};
  // No verifier: the middleware already checked the token (sent in the X-CSRF-Token header by
  // our upload script), before this handler ran.
  let csrfChecked = verifyCsrf === undefined;
  const parser = busboy({
    headers: { 'content-type': type },
    // One byte more than allowed: the receiving store's own limit then sees the excess and
    // refuses the file by name, rather than keeping a silently cut-off picture.
    limits: { files: limits.maxFiles, fileSize: limits.maxFileBytes + 1, fields: 20, fieldSize: 4096, parts: limits.maxFiles + 20 },
  });

  return await new Promise<Record<string, string>>((resolve, reject) => {
    const input = Readable.fromWeb(body as unknown as NodeReadableStream<Uint8Array>);
    // Files are handled one at a time, in order; `chain` is the one in progress.
    let chain = Promise.resolve();
    let failed = false;
    const fail = (err: unknown) => {
      if (failed) return;
      failed = true;
      input.unpipe(parser);
      input.resume(); // read and discard the rest, so the response can still be sent
      reject(err);
    };
    parser.on('field', (name, value) => {
      if (name === CSRF_FIELD && !csrfChecked) {
        if (!verifyCsrf?.(value)) return fail(new CsrfError('token mismatch'));
        csrfChecked = true;
      }
      fields[name] = value;
    });
    parser.on('file', (field, stream, info) => {
      if (!csrfChecked) {
        stream.resume();
        return fail(new CsrfError('no token before the first file'));
      }
      const part: FilePart = {
        field,
        filename: info.filename ?? '',
        // A consumer that stops early (the store refusing a file that is too large) must not
        // destroy the part's stream: busboy would wait for it forever. `drain` reads the rest.
        data: stream.iterator({ destroyOnReturn: false }),
        drain: () => {
          stream.resume();
        },
      };
      chain = chain.then(async () => {
        if (failed) {
          stream.resume();
          return;
        }
        try {
          await onFile({ ...fields }, part);
        } catch (err) {
          stream.resume();
          fail(err);
        }
      });
    });
    // Not a failure at once: the file in progress would be left half-handled. busboy skips the
    // files past the limit; the caller learns of them when the body ends.
    let tooMany = false;
    parser.on('filesLimit', () => {
      tooMany = true;
    });
    parser.on('partsLimit', () => {
      tooMany = true;
    });
    parser.on('error', (err) => fail(new MultipartError((err as Error).message)));
    parser.on('close', () => {
      chain.then(() => {
        if (failed) return;
        if (!csrfChecked) return fail(new CsrfError('no token sent'));
        if (tooMany) return fail(new TooManyFilesError(limits.maxFiles));
        resolve(fields);
      }, fail);
    });
    input.on('error', fail);
    input.pipe(parser);
  });
}
