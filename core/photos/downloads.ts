import { randomInt } from 'node:crypto';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { audit } from '../audit.ts';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor } from '../actor.ts';
import { authorize, parentIdOf, requireAdmin } from '../access/index.ts';
import { Parent } from '../entities/parent.ts';
import { type IPhotoDownload, Photo, PhotoDownload, PhotoTag, PhotoView } from '../entities/photo.ts';
import { DomainError, notFound } from '../errors.ts';
import { fullName } from '../people.ts';
import { embedTraceCode, extractTraceCode } from './trace-mark.ts';
import type { PhotoContext } from './upload.ts';

/**
 * Downloads (privacy invariant 2): a parent downloads only photos in which their own child is
 * tagged; every download is recorded, and the file carries a trace code (visible in a corner
 * and hidden in the pixels) that maps back to that record, so a leaked copy names its source.
 */

/** Trace codes as people read them off a corner mark or type them: 7 characters, base 36. */
export const formatTraceCode = (code: number) => code.toString(36).toUpperCase().padStart(7, '0');
export const parseTraceCode = (text: string): number | undefined => {
  const t = text.trim().replace(/^#/, '');
  if (!/^[0-9a-z]{1,7}$/i.test(t)) return undefined;
  const n = Number.parseInt(t, 36);
  return n <= 0xffffffff ? n : undefined;
};

export interface DownloadedPhoto {
  data: Buffer;
  contentType: 'image/jpeg';
  filename: string;
  traceCode: string;
}

/**
 * The spelregels (own use only; no social media when other children or staff are in the photo;
 * misuse leads to exclusion) must be accepted before a parent's first download.
 */
export async function mustAcceptRules(em: EntityManager, actor: Actor): Promise<boolean> {
  const parentId = parentIdOf(actor);
  if (parentId === undefined) return false;
  return (await em.count(PhotoDownload, { parent: parentId })) === 0;
}

export async function downloadPhoto(
  em: EntityManager,
  ctx: Pick<PhotoContext, 'photos'>,
  actor: Actor,
  photoId: string,
  request: { ip?: string | null; userAgent?: string | null; rulesAccepted?: boolean } = {},
): Promise<DownloadedPhoto> {
  // `photo.download`: a parent (active) of the group, the photo shareable, their own child in it.
  await authorize(em, actor, 'photo.download', photoId, 'photo');
  const parentId = parentIdOf(actor)!;
  if (!request.rulesAccepted && (await mustAcceptRules(em, actor))) {
    throw new DomainError('validation', 'accept the rules of use (spelregels) before the first download', [
      { path: 'rules', message: 'not accepted' },
    ]);
  }
  const photo = await em.findOneOrFail(Photo, { id: photoId });
  const parent = await em.findOneOrFail(Parent, { id: parentId });
  if (!photo.originalKey) throw notFound('photo');
  // The children in it, for the audit log: `portal audit --child K1` finds every download of them.
  const children = (await em.find(PhotoTag, { photo: photo.id }, { populate: ['child'] })).map((t) => t.child.childNumber).sort();

  // A random 32-bit code; on the rare collision with an earlier download, draw again.
  let download: IPhotoDownload | undefined;
  for (let attempt = 0; !download; attempt++) {
    const traceCode = randomInt(1, 0xffffffff);
    try {
      download = await em.fork().transactional(async (tx) => {
        const row = tx.create(PhotoDownload, {
          traceCode,
          photo: tx.getReference(Photo, photo.id),
          photoRef: photo.id,
          parent: tx.getReference(Parent, parent.id),
          email: parent.email,
          ip: request.ip ?? null,
          userAgent: request.userAgent?.slice(0, 300) ?? null,
        });
        audit(tx, {
          type: 'photo.downloaded',
          actor,
          subject: parent.email,
          ip: request.ip ?? null,
          details: { photo: photo.id, traceCode: formatTraceCode(traceCode), children },
        });
        return row;
      });
    } catch (err) {
      if (!(err instanceof UniqueConstraintViolationException) || attempt >= 5) throw err;
    }
  }
  const code = formatTraceCode(download.traceCode);
  const data = await embedTraceCode(await ctx.photos.get(photo.originalKey), download.traceCode, { visibleLabel: code });
  const day = photo.takenAt.toISOString().slice(0, 10);
  return { data, contentType: 'image/jpeg', filename: `foto-${day}-${code}.jpg`, traceCode: code };
}

export interface TraceResult {
  /**
   * What the code was handed out with: a download (the original, visible code in a corner), or a
   * view (the parent's traced display image: photo page, app, AVG export; see traced-views.ts).
   */
  kind: 'download' | 'view';
  traceCode: string;
  /** How sure the pixel reading was (1: clean copy); null when traced from a typed code. */
  confidence: number | null;
  /** When the traced copy was first handed out: the download, or the first view or export. */
  downloadedAt: string;
  email: string;
  parentName: string | null;
  photoId: string;
  ip: string | null;
  userAgent: string | null;
  /** Views only: until when that parent received this copy (to the hour), and whether in an AVG export. */
  view?: { lastAt: string; exportedAt: string | null };
}

/**
 * `portal photos trace FILE|CODE`: which download or view a leaked copy comes from (one code
 * space: a code is one or the other). Admins only: it names a parent.
 */
export async function traceDownload(em: EntityManager, actor: Actor, input: { file?: Buffer; code?: string }): Promise<TraceResult> {
  requireAdmin(actor, 'photo.trace');
  let traceCode: number | undefined;
  let confidence: number | null = null;
  if (input.file) {
    const found = await extractTraceCode(input.file);
    if (!found) throw new DomainError('not_found', 'no trace code found in this image (cropped, rotated or not from the portal?)');
    traceCode = found.code;
    confidence = found.confidence;
  } else {
    traceCode = parseTraceCode(input.code ?? '');
    if (traceCode === undefined) throw new DomainError('validation', `"${input.code}" is not a trace code (7 letters and digits)`);
  }
  const download = await em.findOne(PhotoDownload, { traceCode }, { populate: ['parent'] });
  if (!download) {
    const view = await em.findOne(PhotoView, { traceCode }, { populate: ['parent'] });
    if (!view) throw new DomainError('not_found', `a download with trace code ${formatTraceCode(traceCode)} not found, nor a photo view`);
    return {
      kind: 'view',
      traceCode: formatTraceCode(traceCode),
      confidence,
      downloadedAt: view.firstAt.toISOString(),
      email: view.email,
      parentName: view.parent ? fullName(view.parent) : null,
      photoId: view.photoRef,
      ip: null,
      userAgent: null,
      view: { lastAt: view.lastAt.toISOString(), exportedAt: view.exportedAt?.toISOString() ?? null },
    };
  }
  return {
    kind: 'download',
    traceCode: formatTraceCode(traceCode),
    confidence,
    downloadedAt: download.at.toISOString(),
    email: download.email,
    parentName: download.parent ? fullName(download.parent) : null,
    photoId: download.photoRef,
    ip: download.ip ?? null,
    userAgent: download.userAgent ?? null,
  };
}
