import type { EntityManager } from '@mikro-orm/postgresql';
import type { PortalConfig } from '../../config/schema.ts';
import type { Actor } from '../actor.ts';
import { authorize } from '../access/index.ts';
import { Group } from '../entities/group.ts';
import { Photo } from '../entities/photo.ts';
import { Staff } from '../entities/staff.ts';
import { notFound } from '../errors.ts';
import type { JobQueue } from '../jobs/queue.ts';
import type { Logger } from '../log.ts';
import { optionalText, parseInput } from '../validation.ts';
import { inspectUpload, PhotoRejectedError, type PhotoRejectReason, processImage } from './process.ts';
import { PhotoNotFoundError, type PhotoStore, type PutResult } from './store.ts';
import { clockOf } from '../clock.ts';
import { sql } from '../db/sql.ts';
import { PORTAL_LOCK_CLASS } from '../db/migrate.ts';

/**
 * Uploading a photo: the bytes go to the incoming store (size limit while streaming), the file is
 * checked at once (header and one cheap decode) so a bad or truncated file is refused while the
 * uploader waits, then the photo row and its processing job are committed together. The job
 * makes the stripped versions; the upload as received never leaves the incoming store.
 *
 * The incoming store is content-addressed, so the same bytes uploaded twice (in one upload, two,
 * or in parallel) are one file shared by two photos. That file goes only when no photo needs it
 * any more (`releaseSource`), under an advisory lock on its key that the upload's commit takes
 * too: a job that ends cannot delete the file between another upload's `put` and its row.
 * Every photo ends ready, failed with a reason, or deleted (reaper.ts catches the rest).
 */

export const PHOTO_QUEUE = 'photo-process';
/**
 * A photo's job that runs longer than this is taken as lost (a worker that died) and tried again
 * by the queue. Processing takes seconds; three minutes leaves room for a 40 MP WebP on a slow core.
 */
const JOB_EXPIRE_SECONDS = 180;

/** Why a photo failed: a refusal of the file itself, its upload gone, or processing that never finished. */
export type PhotoFailureCode = PhotoRejectReason | 'source_missing' | 'stuck';

export interface PhotoContext {
  config: Readonly<PortalConfig>;
  log: Logger;
  photos: PhotoStore;
  incoming: PhotoStore;
  em(): EntityManager;
  jobs(options?: { supervise?: boolean }): Promise<JobQueue>;
}

export async function photoQueue(ctx: Pick<PhotoContext, 'jobs'>): Promise<JobQueue> {
  const jobs = await ctx.jobs();
  await jobs.ensureQueue(PHOTO_QUEUE, { retryLimit: 3, retryDelaySeconds: 10 });
  return jobs;
}

export interface UploadInput {
  groupId: number;
  caption?: string | null;
  data: Uint8Array | AsyncIterable<Uint8Array>;
}

export async function uploadPhoto(
  em: EntityManager,
  ctx: PhotoContext,
  actor: Actor,
  input: UploadInput,
): Promise<{ photoId: string; jobId: string }> {
  // Staff of the group, its location manager, or an admin: decided before a byte is stored.
  await authorize(em, actor, 'group.photos.upload', input.groupId, 'group');
  const group = await em.findOne(Group, { id: input.groupId, archivedAt: null });
  if (!group) throw notFound('group');
  const caption = parseInput(optionalText(500, 'caption'), input.caption ?? '') ?? null;

  const maxPixels = ctx.config.photos.maxPixels;
  const maxBytes = ctx.config.photos.maxUploadBytes;
  let bytes = input.data instanceof Uint8Array ? input.data : null;
  // Bytes already in memory are checked before they are stored (a refused file never touches the
  // store); a stream is checked once it is stored whole (the size limit bites while it streams).
  if (bytes) await inspectUpload(bytes, { maxPixels });
  const stored = await ctx.incoming.put(input.data, { maxBytes });
  if (!bytes) {
    try {
      bytes = await ctx.incoming.get(stored.key);
      await inspectUpload(bytes, { maxPixels });
    } catch (err) {
      await releaseSource(ctx, stored.key);
      throw err;
    }
  }
  const held = bytes;
  const jobs = await photoQueue(ctx);
  return await em.transactional(async (tx) => {
    // A job of a photo with the same bytes may have ended since our put and deleted the shared
    // file. Under the lock (which that deletion and the sweep hold too) the file cannot go
    // between this look and the commit; when it has gone, the bytes in hand put it back.
    await lockSource(tx, stored.key);
    if (!(await ctx.incoming.stat(stored.key))) await ctx.incoming.put(held, { maxBytes });
    const photo = tx.create(Photo, {
      group,
      uploadedBy: 'staffId' in actor && actor.staffId ? tx.getReference(Staff, actor.staffId) : null,
      caption,
      state: 'processing',
      takenAt: clockOf(tx).now(),
      sourceKey: stored.key,
      // Parents see it once staff publish it on the batch tagging screen, or save its tags on
      // the one-photo page: never half-tagged while the chips are being ticked.
      awaitingPublish: true,
      queuedAt: clockOf(tx).now(),
    });
    await tx.flush();
    const jobId = await queuePhoto(tx, jobs, photo.id);
    return { photoId: photo.id, jobId };
  });
}

/** The photo's processing job, on the caller's transaction. */
export async function queuePhoto(tx: EntityManager, jobs: JobQueue, photoId: string): Promise<string> {
  return await jobs.send(tx, PHOTO_QUEUE, { photoId }, { expireInSeconds: JOB_EXPIRE_SECONDS });
}

/** Holds the incoming file `key` until the transaction of `tx` ends (see the module comment). */
export async function lockSource(tx: EntityManager, key: string): Promise<void> {
  await sql(tx, 'select pg_advisory_xact_lock(?, hashtext(?))', [PORTAL_LOCK_CLASS, `incoming:${key}`]);
}

/**
 * Deletes the incoming file `key` unless a photo still needs it: one being processed, or a
 * failed one that may be tried again. Under the key's lock, so an upload of the same bytes that
 * is about to commit its row either comes first (and is seen here) or puts the file back.
 */
export async function releaseSource(ctx: Pick<PhotoContext, 'em' | 'incoming'>, key: string): Promise<boolean> {
  return await ctx.em().transactional(async (tx) => {
    await lockSource(tx, key);
    const users = await sql(tx, `select 1 from photo where source_key = ? and state in ('processing', 'failed') limit 1`, [key]);
    if (users.length) return false;
    return await ctx.incoming.delete(key);
  });
}

/**
 * Marks a photo that is still processing as failed. `keepSource`: the upload stays so that staff
 * can try again (the hourly sweep removes it after an hour); a refused file is dropped at once.
 */
export async function failPhoto(
  em: EntityManager,
  photoId: string,
  failure: { code: PhotoFailureCode; reason: string; keepSource: boolean },
): Promise<boolean> {
  const changes = { state: 'failed' as const, failureCode: failure.code, failureReason: failure.reason.slice(0, 500) };
  const n = await em.nativeUpdate(
    Photo,
    { id: photoId, state: 'processing' },
    failure.keepSource ? changes : { ...changes, sourceKey: null },
  );
  return n > 0;
}

/**
 * Makes the stripped versions of an uploaded photo. Safe to run twice: the stores are
 * content-addressed and the row is only updated while it is still processing.
 */
export async function processUploadedPhoto(ctx: PhotoContext, photoId: string): Promise<'ready' | 'failed' | 'skipped'> {
  const em = ctx.em();
  const photo = await em.findOne(Photo, { id: photoId });
  if (photo?.state !== 'processing') return 'skipped';
  if (!photo.sourceKey) {
    await failPhoto(em, photoId, { code: 'source_missing', reason: 'the uploaded file is gone', keepSource: false });
    return 'failed';
  }
  const sourceKey = photo.sourceKey;
  let source: Buffer;
  try {
    source = await ctx.incoming.get(sourceKey);
  } catch (err) {
    if (!(err instanceof PhotoNotFoundError)) throw err; // the store is down: the queue retries
    // Retrying cannot bring it back: staff are told to upload the photo again.
    await failPhoto(em, photoId, { code: 'source_missing', reason: 'the uploaded file is gone', keepSource: false });
    return 'failed';
  }
  let processed: Awaited<ReturnType<typeof processImage>>;
  // Each variant goes to the store as soon as it is encoded: the display version's and the
  // thumbnail's writes and fsyncs overlap the full-resolution encode instead of following it.
  const stored: Partial<Record<'original' | 'display' | 'thumbnail', Promise<PutResult>>> = {};
  try {
    processed = await processImage(source, {
      maxPixels: ctx.config.photos.maxPixels,
      now: clockOf(em).now(),
      onVariant: (name, variant) => {
        const put = ctx.photos.put(variant.data);
        // Its failure is seen below (Promise.all, allSettled); until then it must not count as
        // unhandled while the other variants are still encoding.
        put.catch(() => {});
        stored[name] = put;
      },
    });
  } catch (err) {
    // Wait for the writes already started (a rejected photo's variants are files without a row,
    // which the orphan sweeper removes), so none is still running when the job is retried.
    await Promise.allSettled(Object.values(stored));
    if (!(err instanceof PhotoRejectedError)) throw err; // a passing fault: the queue retries
    await failPhoto(em, photoId, { code: err.reason, reason: err.message, keepSource: false });
    await releaseSource(ctx, sourceKey);
    return 'failed';
  }
  // Files first, then the row: a crash in between leaves files without a row, which the sweeper
  // removes; never a row that points at a missing file. Every put is durable when it resolves
  // (file and directory entries fsynced), and the row is written only after all three resolved.
  const [original, display, thumb] = await Promise.all([
    stored.original ?? ctx.photos.put(processed.original.data),
    stored.display ?? ctx.photos.put(processed.display.data),
    stored.thumbnail ?? ctx.photos.put(processed.thumbnail.data),
  ]);
  await em.nativeUpdate(
    Photo,
    { id: photoId, state: 'processing' },
    {
      state: 'ready',
      sourceKey: null,
      originalKey: original.key,
      displayKey: display.key,
      thumbKey: thumb.key,
      width: processed.original.width,
      height: processed.original.height,
      takenAt: processed.takenAt ?? photo.uploadedAt,
    },
  );
  // Another photo of the same bytes may still need the file: it goes with the last of them.
  await releaseSource(ctx, sourceKey);
  return 'ready';
}

/** The photo-processing worker of a running server. */
export async function startPhotoWorker(ctx: PhotoContext): Promise<string> {
  const jobs = await photoQueue(ctx);
  return await jobs.workEach<{ photoId: string }>(
    PHOTO_QUEUE,
    { batchSize: 2, pollingIntervalSeconds: 1 },
    (job) => processUploadedPhoto(ctx, job.photoId),
    (m) => ctx.log.warn(m),
    (job) => `processing photo ${job.photoId}`,
  );
}
