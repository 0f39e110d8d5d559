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
import { inspectImage, PhotoRejectedError, processImage } from './process.ts';
import type { PhotoStore, PutResult } from './store.ts';
import { clockOf } from '../clock.ts';

/**
 * Uploading a photo: the bytes go to the incoming store (size limit while streaming), the header
 * is checked at once so a bad file is refused while the uploader waits, then the photo row and
 * its processing job are committed together. The job makes the stripped versions; the upload as
 * received never leaves the incoming store and is deleted when done.
 */

export const PHOTO_QUEUE = 'photo-process';

export interface PhotoContext {
  config: Readonly<PortalConfig>;
  log: Logger;
  photos: PhotoStore;
  incoming: PhotoStore;
  em(): EntityManager;
  jobs(options?: { supervise?: boolean }): Promise<JobQueue>;
}

async function photoQueue(ctx: Pick<PhotoContext, 'jobs'>): Promise<JobQueue> {
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
  const inHand = input.data instanceof Uint8Array ? input.data : null;
  // Bytes already in memory are checked before they are stored (a refused file never touches the
  // store) and not read back; a stream is checked once it is stored whole.
  if (inHand) await inspectImage(inHand, { maxPixels });
  const stored = await ctx.incoming.put(input.data, { maxBytes: ctx.config.photos.maxUploadBytes });
  if (!inHand) {
    try {
      await inspectImage(await ctx.incoming.get(stored.key), { maxPixels });
    } catch (err) {
      await ctx.incoming.delete(stored.key);
      throw err;
    }
  }
  const jobs = await photoQueue(ctx);
  return await em.transactional(async (tx) => {
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
    });
    await tx.flush();
    const jobId = await jobs.send(tx, PHOTO_QUEUE, { photoId: photo.id });
    return { photoId: photo.id, jobId };
  });
}

/**
 * Makes the stripped versions of an uploaded photo. Safe to run twice: the stores are
 * content-addressed and the row is only updated while it is still processing.
 */
export async function processUploadedPhoto(ctx: PhotoContext, photoId: string): Promise<'ready' | 'failed' | 'skipped'> {
  const em = ctx.em();
  const photo = await em.findOne(Photo, { id: photoId });
  if (photo?.state !== 'processing' || !photo.sourceKey) return 'skipped';
  const sourceKey = photo.sourceKey;
  let processed: Awaited<ReturnType<typeof processImage>>;
  // Each variant goes to the store as soon as it is encoded: the display version's and the
  // thumbnail's writes and fsyncs overlap the full-resolution encode instead of following it.
  const stored: Partial<Record<'original' | 'display' | 'thumbnail', Promise<PutResult>>> = {};
  try {
    processed = await processImage(await ctx.incoming.get(sourceKey), {
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
    await em.nativeUpdate(
      Photo,
      { id: photoId, state: 'processing' },
      { state: 'failed', failureReason: err.message, sourceKey: null },
    );
    await ctx.incoming.delete(sourceKey);
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
  await ctx.incoming.delete(sourceKey);
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
