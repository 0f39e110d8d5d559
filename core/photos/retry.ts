import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor } from '../actor.ts';
import { authorize, requireAdmin } from '../access/index.ts';
import { audit } from '../audit.ts';
import { clockOf } from '../clock.ts';
import { sql, sqlCount } from '../db/sql.ts';
import { Photo } from '../entities/photo.ts';
import { DomainError, isDomainError, notFound } from '../errors.ts';
import { photoForStaff } from './tagging.ts';
import { lockSource, type PhotoContext, photoQueue, queuePhoto } from './upload.ts';

/**
 * Trying a failed photo again: from its row on the staff photo page (staff of the group, the
 * location manager) or `portal photos retry` (an administrator). Only a photo whose upload is
 * still kept can be: one that got stuck (reaper.ts). A refused file (damaged, too large, not a
 * photo) fails the same way every time, and its upload was dropped at once; an upload older than
 * the hourly sweep's hour is gone too: staff then delete the photo and upload it again.
 */

export class PhotoNotRetryableError extends DomainError {
  constructor(readonly why: 'not_failed' | 'upload_gone') {
    super(
      'validation',
      why === 'not_failed'
        ? 'only a failed photo can be tried again'
        : 'the uploaded file is no longer kept: delete the photo and upload it again',
      [{ path: 'photo', message: why }],
    );
    this.name = 'PhotoNotRetryableError';
  }
}

/** Queues a failed photo again (see above); throws PhotoNotRetryableError when it cannot be. */
export async function retryPhoto(em: EntityManager, ctx: PhotoContext, actor: Actor, photoId: string): Promise<void> {
  const photo = await photoForStaff(em, actor, photoId);
  await authorize(em, actor, 'group.photos.upload', photo.group.id, 'group');
  await requeueFailed(em, ctx, actor, photo.id);
}

async function requeueFailed(em: EntityManager, ctx: PhotoContext, actor: Actor, photoId: string): Promise<void> {
  const jobs = await photoQueue(ctx);
  await em.transactional(async (tx) => {
    const [row] = await sql<{ state: string; source_key: string | null }>(
      tx,
      'select state, source_key from photo where id = ? for update',
      [photoId],
    );
    if (!row) throw notFound('photo');
    if (row.state !== 'failed') throw new PhotoNotRetryableError('not_failed');
    const key = row.source_key;
    // Under the key's lock the sweep cannot take the file between this look and the commit.
    if (key) await lockSource(tx, key);
    if (!key || !(await ctx.incoming.stat(key))) {
      if (key) await sqlCount(tx, 'update photo set source_key = null where id = ?', [photoId]);
      return 'gone' as const;
    }
    await tx.nativeUpdate(
      Photo,
      { id: photoId },
      { state: 'processing', failureCode: null, failureReason: null, attempts: 0, queuedAt: clockOf(tx).now() },
    );
    await queuePhoto(tx, jobs, photoId);
    audit(tx, { type: 'photo.retried', actor, subject: photoId });
    return 'queued' as const;
  }).then((outcome) => {
    // Thrown after the commit, so that the forgotten upload stays forgotten.
    if (outcome === 'gone') throw new PhotoNotRetryableError('upload_gone');
  });
}

export interface RetryReport {
  retried: string[];
  refused: { photoId: string; message: string }[];
}

/**
 * `portal photos retry`: the photos named, or every failed photo whose upload is still kept.
 * A report, not an error on the first that cannot be tried again.
 */
export async function retryFailedPhotos(
  em: EntityManager,
  ctx: PhotoContext,
  actor: Actor,
  photoIds: string[] | 'all',
): Promise<RetryReport> {
  requireAdmin(actor, 'photo.pipeline');
  const ids =
    photoIds === 'all'
      ? (await sql<{ id: string }>(em, `select id from photo where state = 'failed' and source_key is not null order by uploaded_at`)).map(
          (r) => r.id,
        )
      : photoIds;
  const report: RetryReport = { retried: [], refused: [] };
  for (const id of ids) {
    try {
      if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) throw notFound('photo');
      await requeueFailed(em, ctx, actor, id);
      report.retried.push(id);
    } catch (err) {
      if (!isDomainError(err)) throw err;
      report.refused.push({ photoId: id, message: err.message });
    }
  }
  return report;
}
