import { randomInt } from 'node:crypto';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { parentIdOf } from '../access/index.ts';
import type { Actor } from '../actor.ts';
import { clockOf } from '../clock.ts';
import { sql, sqlCount } from '../db/sql.ts';
import { Parent } from '../entities/parent.ts';
import { Photo, PhotoView } from '../entities/photo.ts';
import type { ByteCache } from './byte-cache.ts';
import { formatTraceCode } from './downloads.ts';
import { PhotoNotFoundError, type PhotoStore } from './store.ts';
import { embedTraceCode } from './trace-mark.ts';
import { imageKeyForActor } from './visibility.ts';
import { encodeVariant, VARIANT_TYPES, type VariantFormat, type VariantWidth } from './process.ts';
import { variantEncodeSlots } from './encode-slots.ts';

/**
 * Traced display images (privacy invariant 2): every image larger than a thumbnail that a parent
 * receives carries that parent's trace mark and is recorded, so a leaked copy of the 1600 px
 * photo-page image names its parent as a leaked download does. Thumbnails (400 px, see
 * DEFAULT_THUMB_SIZE) stay one shared file.
 *
 * - One trace code per parent and photo (a `photo_view` row, made before the first byte is
 *   sent), from the same 32-bit space as the downloads' codes: `traceDownload` finds either.
 * - Only the invisible mark: the photo page shows the picture itself, and a code in its corner
 *   would be on every photo of the album. Downloads keep their visible code.
 * - That parent's copy is kept in the photo store (content-addressed, so its key is also the
 *   ETag, different per parent) and its key in the row, with the display key it was made from:
 *   a second view is a row lookup and a file read, no re-encoding; a reprocessed photo (a new
 *   display key) is traced again with the same code. The copy is referenced only while the
 *   photo exists (retention.ts referencedKeys), so the orphan sweep removes it with the photo.
 * - Who may see the photo is asked on every request before any of this (imageKeyForActor), so a
 *   withdrawn consent makes the kept copy unreachable at once.
 * - Staff and admins get the shared display image, untraced: they are not parents taking images
 *   away, and they see the photo in the staff views anyway (the original included).
 */

export interface TracedViewContext {
  photos: Pick<PhotoStore, 'get' | 'put'>;
  /** Memory for image bytes by store key (content-addressed, never stale); optional. */
  cache?: ByteCache;
}

export interface DisplayImage {
  /** The store key of these bytes, for the ETag: a parent's own traced copy, else the shared display image. */
  key: string;
  /** The trace code in these bytes (as people read it), or null for staff and admins. */
  traceCode: string | null;
  /** The bytes; for a parent also counted as a view sent. */
  read(): Promise<Buffer>;
}

interface ViewRow {
  id: string;
  trace_code: string;
  display_key: string | null;
  traced_key: string | null;
  last_at: Date | string;
}

/** How precise `last_at` is: a repeat view within this time writes nothing (a warm view is reads only). */
export const LAST_VIEW_RESOLUTION_MS = 60 * 60_000;

let embeds = 0;
/** How many traced copies this process has made (tests and the bench: a warm view makes none). */
export const tracedViewEmbeds = (): number => embeds;

const load = (ctx: TracedViewContext, key: string) => (ctx.cache ? ctx.cache.get(key, (k) => ctx.photos.get(k)) : ctx.photos.get(key));

/** The parent's view row of a photo: found, or made with a fresh trace code (recorded before any byte is sent). */
async function viewRow(em: EntityManager, parentId: number, photoId: string): Promise<ViewRow> {
  const find = async () =>
    (
      await sql<ViewRow>(em, 'select id, trace_code, display_key, traced_key, last_at from photo_view where parent_id = ? and photo_ref = ?', [
        parentId,
        photoId,
      ])
    )[0];
  const found = await find();
  if (found) return found;
  const parent = await em.findOneOrFail(Parent, { id: parentId }, { fields: ['email'] });
  for (let attempt = 0; ; attempt++) {
    // A random 32-bit code, like a download's; the trigger on both tables keeps them one space.
    const traceCode = randomInt(1, 0xffffffff);
    try {
      await em.fork().transactional(async (tx) => {
        const now = clockOf(tx).now();
        tx.create(PhotoView, {
          traceCode,
          photo: tx.getReference(Photo, photoId),
          photoRef: photoId,
          parent: tx.getReference(Parent, parentId),
          email: parent.email,
          firstAt: now,
          lastAt: now,
        });
      });
    } catch (err) {
      if (!(err instanceof UniqueConstraintViolationException) || attempt >= 5) throw err;
      // Either the code was taken (draw again) or a concurrent first view made the row (use it).
    }
    const row = await find();
    if (row) return row;
  }
}

/** Makes this parent's traced copy of the display image, stores it, and points the row at it. */
async function makeCopy(em: EntityManager, ctx: TracedViewContext, row: ViewRow, displayKey: string): Promise<{ key: string; data: Buffer }> {
  embeds++;
  const data = await embedTraceCode(await ctx.photos.get(displayKey), Number(row.trace_code));
  const { key } = await ctx.photos.put(data);
  await sqlCount(em, 'update photo_view set display_key = ?, traced_key = ?, last_at = ? where id = ?', [displayKey, key, clockOf(em).now(), row.id]);
  return { key, data };
}

export interface TracedCopy {
  /** The store key of the parent's traced copy. */
  key: string;
  traceCode: string;
  /** The bytes, when they were just made. */
  data?: Buffer;
  rowId: string;
  /** When the row was last written (a copy made just now counts). */
  lastAt: Date;
}

/**
 * The parent's traced copy of a photo's display image, made on first use and kept. The caller
 * has decided that this parent may have the photo (the album's rule for the photo page, the AVG
 * export's own rule for its ZIP).
 */
export async function tracedCopy(
  em: EntityManager,
  ctx: TracedViewContext,
  parentId: number,
  photoId: string,
  displayKey: string,
): Promise<TracedCopy> {
  const row = await viewRow(em, parentId, photoId);
  const traceCode = formatTraceCode(Number(row.trace_code));
  if (row.traced_key && row.display_key === displayKey) return { key: row.traced_key, traceCode, rowId: row.id, lastAt: new Date(row.last_at) };
  const made = await makeCopy(em, ctx, row, displayKey);
  return { key: made.key, traceCode, data: made.data, rowId: row.id, lastAt: clockOf(em).now() };
}

/** The bytes of a traced copy: kept ones from memory or the store; made again when the store lost them. */
async function copyBytes(em: EntityManager, ctx: TracedViewContext, parentId: number, photoId: string, displayKey: string, copy: TracedCopy) {
  if (copy.data) return copy.data;
  try {
    return await load(ctx, copy.key);
  } catch (err) {
    if (!(err instanceof PhotoNotFoundError)) throw err;
    const row = await viewRow(em, parentId, photoId);
    return (await makeCopy(em, ctx, row, displayKey)).data;
  }
}

/**
 * The display image (1600 px) of a photo for an actor, or not found: the album's rule, asked
 * first on every call. A parent gets their own traced copy (recorded); staff and admins the
 * shared image. What the photo page's `/fotos/:id/groot` and the API's display variant serve.
 */
export async function displayImageForActor(
  em: EntityManager,
  ctx: TracedViewContext,
  actor: Actor,
  photoId: string,
): Promise<DisplayImage> {
  const displayKey = await imageKeyForActor(em, actor, photoId, 'display');
  const parentId = parentIdOf(actor);
  if (parentId === undefined) {
    // Staff and admins are not parents taking images away: the shared display image, untraced.
    return { key: displayKey, traceCode: null, read: () => load(ctx, displayKey) };
  }
  const copy = await tracedCopy(em, ctx, parentId, photoId, displayKey);
  return {
    key: copy.key,
    traceCode: copy.traceCode,
    read: async () => {
      const data = await copyBytes(em, ctx, parentId, photoId, displayKey, copy);
      // The record is the row (made before the first byte); last_at to the hour, so that a warm
      // view writes nothing (one commit per image request would cost more than the image).
      const now = clockOf(em).now();
      if (now.getTime() - copy.lastAt.getTime() >= LAST_VIEW_RESOLUTION_MS) {
        await sqlCount(em, 'update photo_view set last_at = ? where id = ?', [now, copy.rowId]);
      }
      return data;
    },
  };
}

/** `displayImageForActor` with its bytes: the traced display image for a parent, the shared one for staff. */
export async function tracedDisplayImage(
  em: EntityManager,
  ctx: TracedViewContext,
  actor: Actor,
  photoId: string,
): Promise<{ data: Buffer; key: string; traceCode: string | null }> {
  const image = await displayImageForActor(em, ctx, actor, photoId);
  return { data: await image.read(), key: image.key, traceCode: image.traceCode };
}

/**
 * The parent's traced copies for their AVG export, one per photo (the export decided which
 * photos: those of their children they may see), recorded on the same view rows as the photo
 * page (same code, `exported_at` set): a leaked ZIP photo traces back like a viewed one. Made
 * one at a time: memory stays flat whatever the album's size.
 */
export async function tracedCopiesForExport(
  em: EntityManager,
  ctx: TracedViewContext,
  parentId: number,
  photos: readonly { id: string; displayKey: string }[],
): Promise<Map<string, TracedCopy>> {
  const copies = new Map<string, TracedCopy>();
  for (const photo of photos) {
    const copy = await tracedCopy(em, ctx, parentId, photo.id, photo.displayKey);
    const { data: _made, ...kept } = copy;
    copies.set(photo.id, kept);
    await sqlCount(em, 'update photo_view set exported_at = ?, last_at = ? where id = ?', [clockOf(em).now(), clockOf(em).now(), copy.rowId]);
  }
  return copies;
}

// ---------------------------------------------------------------------------------------------
// The photo page's variants (VARIANT_WIDTHS wide; AVIF, WebP and JPEG)

export interface VariantImage extends DisplayImage {
  contentType: string;
}

/**
 * encodeVariant within the process's encode slots (encode-slots.ts). Only the encode itself: its
 * input (a traced JPEG that may be made first) is ready before a slot is taken, so a variant
 * made from another never waits on a slot it holds.
 */
const boundedEncode = async (input: Buffer, width: number, format: VariantFormat): Promise<Buffer> =>
  await variantEncodeSlots.run(() => encodeVariant(input, width, format));

let variantsMade = 0;
/** How many variants this process has encoded (tests: a repeat request makes none). */
export const variantEncodes = (): number => variantsMade;

/**
 * A kept variant (a photo_variant row pointing into the photo store), or made now by `make` and
 * kept. `parentId` null is the shared, untraced variant. A row made from an older display image
 * (a reprocessed photo) is made again.
 */
async function keptVariant(
  em: EntityManager,
  ctx: TracedViewContext,
  photoId: string,
  parentId: number | null,
  variant: string,
  displayKey: string,
  make: () => Promise<Buffer>,
): Promise<{ key: string; data?: Buffer }> {
  const where = 'photo_id = ? and parent_id is not distinct from ?::int and variant = ?';
  const found = (await sql<{ key: string; display_key: string }>(em, `select key, display_key from photo_variant where ${where}`, [photoId, parentId, variant]))[0];
  if (found && found.display_key === displayKey) {
    try {
      return { key: found.key, data: await load(ctx, found.key) };
    } catch (err) {
      // The store lost the file (a restore without the photo store, say): made again below.
      if (!(err instanceof PhotoNotFoundError)) throw err;
    }
  }
  variantsMade++;
  const data = await make();
  const { key } = await ctx.photos.put(data);
  try {
    await em.fork().transactional(async (tx) => {
      await sqlCount(tx, `delete from photo_variant where ${where}`, [photoId, parentId, variant]);
      await sqlCount(tx, 'insert into photo_variant (photo_id, parent_id, variant, display_key, key) values (?, ?, ?, ?, ?)', [photoId, parentId, variant, displayKey, key]);
    });
  } catch (err) {
    // A concurrent first request kept the same variant: either copy serves.
    if (!(err instanceof UniqueConstraintViolationException)) throw err;
  }
  return { key, data };
}

/**
 * One variant of a photo's display image for an actor, or not found: the album's rule is asked
 * first, before any kept copy is looked at, so a withdrawn consent refuses a kept variant too.
 *
 * A parent gets their own traced copy (privacy invariant 2): at each width the trace mark is
 * embedded in the picture at that width (the 1600 px one is the photo page's traced display
 * copy above, the same bytes as `/fotos/:id/groot`), and the WebP and AVIF of that width are
 * encoded from the traced JPEG, so every format carries the parent's code. The view is recorded
 * on the parent's photo_view row (one code per parent and photo) before any byte is sent.
 * Staff and admins get shared, untraced variants. Both kinds are kept in the photo store.
 */
export async function imageVariantForActor(
  em: EntityManager,
  ctx: TracedViewContext,
  actor: Actor,
  photoId: string,
  width: VariantWidth,
  format: VariantFormat,
): Promise<VariantImage> {
  const displayKey = await imageKeyForActor(em, actor, photoId, 'display');
  const contentType = VARIANT_TYPES[format];
  const variant = `${width}.${format}`;
  const parentId = parentIdOf(actor);
  if (parentId === undefined) {
    const kept = await keptVariant(em, ctx, photoId, null, variant, displayKey, async () => await boundedEncode(await load(ctx, displayKey), width, format));
    return { key: kept.key, traceCode: null, contentType, read: async () => kept.data ?? (await load(ctx, kept.key)) };
  }
  const row = await viewRow(em, parentId, photoId);
  const traceCode = formatTraceCode(Number(row.trace_code));
  /**
   * The parent's traced JPEG at `w`, kept: at 1600 px the photo page's traced display copy (the
   * same bytes as `/fotos/:id/groot`), at a smaller width the trace mark embedded in the picture
   * at that width. The JPEG variant itself, and the input of its WebP and AVIF.
   */
  const tracedJpeg = async (w: VariantWidth): Promise<{ key: string; data: Buffer }> => {
    if (w === 1600) {
      const copy = await tracedCopy(em, ctx, parentId, photoId, displayKey);
      return { key: copy.key, data: await copyBytes(em, ctx, parentId, photoId, displayKey, copy) };
    }
    const kept = await keptVariant(em, ctx, photoId, parentId, `${w}.jpeg`, displayKey, async () => {
      embeds++;
      return await embedTraceCode(await boundedEncode(await load(ctx, displayKey), w, 'jpeg'), Number(row.trace_code));
    });
    return { key: kept.key, data: kept.data ?? (await load(ctx, kept.key)) };
  };
  const image: { key: string; data?: Buffer } =
    format === 'jpeg'
      ? await tracedJpeg(width)
      : await keptVariant(em, ctx, photoId, parentId, variant, displayKey, async () => await boundedEncode((await tracedJpeg(width)).data, width, format));
  return {
    key: image.key,
    traceCode,
    contentType,
    read: async () => {
      const data = image.data ?? (await load(ctx, image.key));
      const now = clockOf(em).now();
      if (now.getTime() - new Date(row.last_at).getTime() >= LAST_VIEW_RESOLUTION_MS) {
        await sqlCount(em, 'update photo_view set last_at = ? where id = ?', [now, row.id]);
      }
      return data;
    },
  };
}
