import sharp from 'sharp';
import { DomainError } from '../errors.ts';
import { inspectImage, PhotoRejectedError } from '../photos/process.ts';
import type { PhotoStore } from '../photos/store.ts';

/**
 * Attachments of messages and announcements: a PDF or an image, decided by the content (never
 * the file name or the type the browser declared), with the same checks as photos. Images are
 * re-encoded, which drops every piece of metadata (privacy invariant 4: no GPS, no camera
 * serial); PDFs are kept as sent and only ever served as a download.
 */

export type AttachmentRejectReason = 'too_large' | 'unsupported' | 'corrupt';

/** An upload that cannot be attached. `code` is 'validation', on the path `attachment`. */
export class AttachmentRejectedError extends DomainError {
  constructor(
    readonly reason: AttachmentRejectReason,
    message: string,
  ) {
    super('validation', message, [{ path: 'attachment', message }]);
    this.name = 'AttachmentRejectedError';
  }
}

export interface AttachmentUpload {
  filename: string;
  data: Uint8Array;
}

export interface PreparedAttachment {
  filename: string;
  contentType: 'application/pdf' | 'image/jpeg' | 'image/png';
  data: Uint8Array;
}

export interface AttachmentLimits {
  maxBytes: number;
  maxPixels?: number;
}

const PDF_MAGIC = Buffer.from('%PDF-', 'latin1');

export const isPdf = (data: Uint8Array) => data.length >= 5 && Buffer.from(data.subarray(0, 5)).equals(PDF_MAGIC);

/**
 * A name that is safe in a Content-Disposition header and on any file system: no path, no
 * control characters or quotes, at most 100 characters, and the extension of what it really is.
 */
export function safeFilename(name: string, extension: string): string {
  const base = (name.split(/[/\\]/).pop() ?? '')
    .normalize('NFC')
    .replace(/[\p{Cc}\p{Cf}"*:<>?|;]/gu, '')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/\.[A-Za-z0-9]{1,5}$/, '')
    .slice(0, 100)
    .trim();
  return `${base || 'bijlage'}.${extension}`;
}

/** Checks an upload and returns what will be stored. Throws `AttachmentRejectedError`. */
export async function prepareAttachment(upload: AttachmentUpload, limits: AttachmentLimits): Promise<PreparedAttachment> {
  const { data } = upload;
  if (data.byteLength === 0) throw new AttachmentRejectedError('corrupt', 'The file is empty.');
  if (data.byteLength > limits.maxBytes) {
    throw new AttachmentRejectedError('too_large', `The file is larger than ${limits.maxBytes} bytes.`);
  }
  if (isPdf(data)) return { filename: safeFilename(upload.filename, 'pdf'), contentType: 'application/pdf', data };

  let format: string;
  try {
    format = (await inspectImage(data, { maxPixels: limits.maxPixels })).format;
  } catch (err) {
    if (!(err instanceof PhotoRejectedError)) throw err;
    throw new AttachmentRejectedError(err.reason === 'unsupported_format' ? 'unsupported' : 'corrupt', err.message);
  }
  try {
    // Decoded once, turned upright by its EXIF orientation, written without any metadata.
    const image = sharp(data, { limitInputPixels: limits.maxPixels ?? false, failOn: 'error' }).rotate();
    if (format === 'png') {
      return { filename: safeFilename(upload.filename, 'png'), contentType: 'image/png', data: await image.png().toBuffer() };
    }
    return {
      filename: safeFilename(upload.filename, 'jpg'),
      contentType: 'image/jpeg',
      data: await image.jpeg({ quality: 88, mozjpeg: true }).toBuffer(),
    };
  } catch (err) {
    throw new AttachmentRejectedError('corrupt', `The image cannot be read: ${(err as Error).message}`);
  }
}

/** Stores a prepared attachment (durable when this returns); its key for the row. */
export async function storeAttachment(store: PhotoStore, prepared: PreparedAttachment): Promise<string> {
  return (await store.put(prepared.data)).key;
}

/** `attachment; filename="…"` with an ASCII fallback and the UTF-8 name (RFC 6266). */
export function contentDisposition(filename: string): string {
  const ascii = filename.normalize('NFKD').replace(/[^\x20-\x7e]/g, '').replace(/["\\%]/g, '') || 'bijlage';
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}
