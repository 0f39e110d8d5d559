import { sql } from '../db/sql.ts';
// File times are set by the operating system from the real time, so the sweep compares them with
// the system clock, never with the portal's (which a test may have pinned): as retention.ts does.
import { systemClock } from '../clock.ts';
import { lockSource, type PhotoContext } from './upload.ts';

/**
 * The sweep of uploads as received: unstripped originals (GPS, camera serial and all) must not
 * stay on disk. A job removes its upload when it ends (upload.ts releaseSource); this catches
 * what that missed: a crash between the `put` and the row's commit, a refused upload whose
 * cleanup failed, the kept upload of a failed photo after its hour, half-written temp files.
 * It runs at start-up and every hour (core/jobs/background.ts), on one node at a time.
 *
 * An upload older than `olderThanMs` (an hour) goes unless a photo is still being processed from
 * it (a live job). A failed photo that kept its upload for a retry loses it: trying it again
 * then asks for a new upload. Temporary files of both stores older than an hour go too.
 */

const HOUR = 60 * 60_000;

export interface SweepReport {
  /** Incoming uploads removed. */
  removed: number;
  /** Incoming uploads older than the limit but still being processed. */
  kept: number;
  /** Temporary (half-written) files removed from the incoming and photo stores. */
  tempFiles: number;
}

export async function sweepIncoming(
  ctx: Pick<PhotoContext, 'em' | 'incoming' | 'photos'>,
  options: { olderThanMs?: number; filesNow?: Date } = {},
): Promise<SweepReport> {
  const olderThanMs = options.olderThanMs ?? HOUR;
  const cutoff = new Date((options.filesNow ?? systemClock.now()).getTime() - olderThanMs);
  const report: SweepReport = { removed: 0, kept: 0, tempFiles: 0 };
  const old: string[] = [];
  for await (const key of ctx.incoming.keys()) {
    const s = await ctx.incoming.stat(key);
    if (s && s.mtime < cutoff) old.push(key);
  }
  for (const key of old) {
    const removed = await ctx.em().transactional(async (tx) => {
      // The lock an upload of the same bytes takes before its row: it cannot commit in between.
      await lockSource(tx, key);
      const live = await sql(tx, `select 1 from photo where source_key = ? and state = 'processing' limit 1`, [key]);
      if (live.length) return null;
      await sql(tx, `update photo set source_key = null where source_key = ? and state = 'failed'`, [key]);
      // deleteStale: a put of the same content since the cutoff keeps its file.
      return await ctx.incoming.deleteStale(key, cutoff);
    });
    if (removed === null) report.kept++;
    else if (removed) report.removed++;
  }
  for (const store of [ctx.incoming, ctx.photos]) {
    report.tempFiles += (await store.sweepTemp({ olderThanMs })).removed.length;
  }
  return report;
}
