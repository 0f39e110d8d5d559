import type { EntityManager } from '@mikro-orm/postgresql';
import { clockOf } from '../clock.ts';
import { sql, sqlCount } from '../db/sql.ts';
import { QUEUE_SCHEMA } from '../jobs/queue.ts';
import { failPhoto, PHOTO_QUEUE, type PhotoContext, photoQueue, queuePhoto } from './upload.ts';

/**
 * The reaper: no photo stays "processing" for more than a few minutes. A photo whose job is gone
 * (a worker that died past the queue's retries, a job lost with a restored queue, a queue
 * that gave up on a store that was down) is queued again, twice at most, and then marked failed
 * with `stuck`: its upload is kept, so staff (or `portal photos retry`) can try once more once
 * the cause is fixed. It runs every minute on one node (core/jobs/background.ts, periodic.ts).
 *
 * A photo counts as stuck once it has been in the queue for `STUCK_AFTER_MS` without a live job
 * (created, retrying or active); or for `HARD_LIMIT_MS` whatever its job says, in case the job
 * itself hangs where the queue's own expiry does not reach. Both are measured on the portal's
 * clock from `queued_at`, so a test can move past them.
 */

/** A photo takes seconds; fifty in one upload on two workers about a minute. */
export const STUCK_AFTER_MS = 3 * 60_000;
export const HARD_LIMIT_MS = 15 * 60_000;
/** Re-queues before a stuck photo is marked failed. */
export const MAX_REQUEUES = 2;

export interface ReapReport {
  requeued: string[];
  failed: string[];
}

/** The photos stuck at `now` (portal clock), oldest first, at most `limit`. */
export async function stuckPhotos(em: EntityManager, now: Date, limit = 500): Promise<{ id: string; attempts: number; queued_at: Date }[]> {
  return await sql(
    em,
    `select p.id, p.attempts, coalesce(p.queued_at, p.uploaded_at) as queued_at from photo p
      where p.state = 'processing'
        and (coalesce(p.queued_at, p.uploaded_at) < ?
             or (coalesce(p.queued_at, p.uploaded_at) < ?
                 and not exists (select 1 from ${QUEUE_SCHEMA}.job j
                                  where j.name = ? and j.data->>'photoId' = p.id::text
                                    and j.state in ('created', 'retry', 'active'))))
      order by 3 limit ?`,
    [new Date(now.getTime() - HARD_LIMIT_MS), new Date(now.getTime() - STUCK_AFTER_MS), PHOTO_QUEUE, limit],
  );
}

export async function reapStuckPhotos(ctx: PhotoContext, options: { now?: Date } = {}): Promise<ReapReport> {
  const em = ctx.em();
  // Ensures the queue (and the schema the query reads) exists, as on a node that never uploaded.
  const jobs = await photoQueue(ctx);
  const now = options.now ?? clockOf(em).now();
  const report: ReapReport = { requeued: [], failed: [] };
  for (const photo of await stuckPhotos(em, now)) {
    if (photo.attempts >= MAX_REQUEUES) {
      const failed = await failPhoto(em, photo.id, {
        code: 'stuck',
        reason: `processing did not finish after ${photo.attempts + 1} attempts`,
        keepSource: true,
      });
      if (failed) report.failed.push(photo.id);
      continue;
    }
    const requeued = await em.transactional(async (tx) => {
      // Compare-and-set on attempts: a retry or another reaper in between wins.
      const n = await sqlCount(
        tx,
        `update photo set attempts = attempts + 1, queued_at = ?
          where id = ? and state = 'processing' and attempts = ?`,
        [now, photo.id, photo.attempts],
      );
      if (n) await queuePhoto(tx, jobs, photo.id);
      return n > 0;
    });
    if (requeued) report.requeued.push(photo.id);
  }
  if (report.requeued.length || report.failed.length) {
    ctx.log.warn('photos stuck in processing', { requeued: report.requeued.length, failed: report.failed.length });
  }
  return report;
}
