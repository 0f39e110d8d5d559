import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor } from '../actor.ts';
import { requireAdmin } from '../access/index.ts';
import { clockOf, startOfDay } from '../clock.ts';
import { addMonths, dayOf } from '../dates.ts';
import { Photo } from '../entities/photo.ts';
import { sweepOrphans } from './store.ts';
import type { PhotoContext } from './upload.ts';

/**
 * Photos whose files are in the store: every key a row still points at, among `keys`. A parent's
 * traced copy of a display image (photo_view.traced_key) counts only while its photo exists:
 * a deleted photo's copies go with it.
 */
export async function referencedKeys(em: EntityManager, keys: string[]): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const rows = (await em.getConnection().execute(
    `select k from (
       select original_key as k from photo union all select display_key from photo union all select thumb_key from photo
       union all select traced_key from photo_view where photo_id is not null
       union all select key from photo_variant
     ) s where k = any(?::text[])`,
    [`{${keys.join(',')}}`],
  )) as { k: string }[];
  return new Set(rows.map((r) => r.k));
}

/** Minutes a stored file may wait for its row (upload processing between put and commit). */
const ORPHAN_GRACE_MS = 60 * 60_000;

/**
 * Retention: photos uploaded longer ago than photos.retentionMonths are removed (by upload date:
 * an old picture uploaded today must not vanish tonight), rows first (tags
 * go with them; download records stay, for tracing), then the files no row points at any more.
 * `portal photos prune` runs it; the server runs it daily.
 *
 * Two times: the rows' age is the portal's (`now`, default its clock), the files' age is the
 * real one, because the operating system stamps files with the real time (`filesNow`, default the
 * system clock; a test moves it on to see the grace period pass). Giving the file sweep the
 * portal's time would, with a clock set ahead, delete the files of an upload still in progress.
 */
export async function prunePhotos(
  em: EntityManager,
  ctx: Pick<PhotoContext, 'config' | 'photos' | 'incoming'>,
  actor: Actor,
  options: { dryRun?: boolean; now?: Date; filesNow?: Date } = {},
): Promise<{ photos: number; files: number; before: string }> {
  requireAdmin(actor, 'retention.manage');
  const now = options.now ?? clockOf(em).now();
  // From the start of that day in Amsterdam, held to the month's end (see core/dates.ts addMonths).
  const before = startOfDay(addMonths(dayOf(now), -ctx.config.photos.retentionMonths));
  const old = await em.find(Photo, { uploadedAt: { $lt: before } }, { fields: ['id'] });
  if (!options.dryRun && old.length) await em.nativeDelete(Photo, { id: { $in: old.map((p) => p.id) } });
  const swept = await sweepOrphans(ctx.photos, (keys) => referencedKeys(em, keys), {
    olderThanMs: ORPHAN_GRACE_MS,
    dryRun: options.dryRun,
    now: options.filesNow,
  });
  if (!options.dryRun) await ctx.incoming.sweepTemp();
  return { photos: old.length, files: swept.removed.length, before: before.toISOString() };
}
