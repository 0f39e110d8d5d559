import type { EntityManager } from '@mikro-orm/postgresql';
import { type Actor, requireAdmin } from '../actor.ts';
import { audit } from '../audit.ts';
import { addDays, today } from '../dates.ts';
import { type ChildTracesRemoved, removeChildTraces } from '../gdpr/child-traces.ts';
import { prunePhotos } from '../photos/retention.ts';
import type { PhotoContext } from '../photos/upload.ts';

/**
 * The retention rules, per kind of data (config `retention.*` and `photos.retentionMonths`),
 * applied once a day by the server and on demand by `portal retention run`. Each run reports
 * what it removed (and writes that report to the audit log), so the privacy officer can show
 * that the rules are kept. `--dry-run` counts without removing.
 *
 * - schriftje entries older than retention.diaryMonths (by their day);
 * - conversations whose last message is older than retention.messagesMonths, and announcements
 *   older than that;
 * - audit events older than retention.auditMonths (the only delete the audit trigger allows);
 * - children who left more than retention.leaverGraceDays ago: their schriftje, conversations and
 *   photo tags (the grace period is the parents' time to download them, "Download mijn gegevens");
 * - photos per photos.retentionMonths (core/photos/retention.ts).
 */

export interface RetentionReport {
  dryRun: boolean;
  diaryEntries: number;
  threads: number;
  announcements: number;
  auditEvents: number;
  leavers: { children: string[] } & ChildTracesRemoved;
  photos: number;
  photoFiles: number;
}

const monthsBefore = (now: Date, months: number) => {
  const d = new Date(now);
  d.setMonth(d.getMonth() - months);
  return d;
};

export async function applyRetention(
  em: EntityManager,
  ctx: Pick<PhotoContext, 'config' | 'photos' | 'incoming'>,
  actor: Actor,
  options: { dryRun?: boolean; now?: Date } = {},
): Promise<RetentionReport> {
  requireAdmin(actor);
  const now = options.now ?? new Date();
  const dryRun = options.dryRun ?? false;
  const r = ctx.config.retention;
  const diaryBefore = today(monthsBefore(now, r.diaryMonths));
  const messagesBefore = monthsBefore(now, r.messagesMonths);
  const auditBefore = monthsBefore(now, r.auditMonths);
  const leftBefore = addDays(today(now), -r.leaverGraceDays);

  const report = await em.transactional(async (tx) => {
    const db = tx.getConnection();
    const trx = tx.getTransactionContext();
    const count = async (sql: string, params: unknown[]) =>
      Number(((await db.execute(`select count(*)::int as n from (${sql}) s`, params, 'all', trx)) as { n: number }[])[0]?.n ?? 0);
    const remove = async (sql: string, params: unknown[]) => ((await db.execute(sql, params, 'run', trx)) as unknown as { affectedRows: number }).affectedRows;

    const leavers = (await db.execute(
      `select c.id, c.child_number from child c
        where c.left_on is not null and c.left_on < ?
          and (exists (select 1 from diary_entry e where e.child_id = c.id)
            or exists (select 1 from message_thread t where t.child_id = c.id)
            or exists (select 1 from photo_tag g where g.child_id = c.id))
        order by c.child_number`,
      [leftBefore],
      'all',
      trx,
    )) as { id: number; child_number: string }[];

    if (dryRun) {
      const ids = leavers.map((l) => l.id);
      const list = ids.length ? ids.map(() => '?').join(', ') : 'null';
      return {
        dryRun,
        diaryEntries: await count('select 1 from diary_entry where day < ?', [diaryBefore]),
        threads: await count('select 1 from message_thread where last_message_at < ?', [messagesBefore]),
        announcements: await count('select 1 from announcement where created_at < ?', [messagesBefore]),
        auditEvents: await count('select 1 from audit_event where at < ?', [auditBefore]),
        leavers: {
          children: leavers.map((l) => l.child_number),
          diaryEntries: await count(`select 1 from diary_entry where child_id in (${list})`, ids),
          threads: await count(`select 1 from message_thread where child_id in (${list})`, ids),
          photoTags: await count(`select 1 from photo_tag where child_id in (${list})`, ids),
          photosHidden: await count(`select distinct photo_id from photo_tag where child_id in (${list})`, ids),
        },
        photos: 0,
        photoFiles: 0,
      };
    }
    const traces = await removeChildTraces(tx, leavers.map((l) => l.id));
    // The audit trigger lets a delete through only inside a transaction that says this.
    await db.execute(`set local ouderportaal.audit_retention = 'on'`, [], 'run', trx);
    return {
      dryRun,
      diaryEntries: await remove('delete from diary_entry where day < ?', [diaryBefore]),
      threads: await remove('delete from message_thread where last_message_at < ?', [messagesBefore]),
      announcements: await remove('delete from announcement where created_at < ?', [messagesBefore]),
      auditEvents: await remove('delete from audit_event where at < ?', [auditBefore]),
      leavers: { children: leavers.map((l) => l.child_number), ...traces },
      photos: 0,
      photoFiles: 0,
    };
  });

  const photos = await prunePhotos(em, ctx, actor, { dryRun, now });
  report.photos = photos.photos;
  report.photoFiles = photos.files;
  if (!dryRun) {
    audit(em, { type: 'retention.applied', actor, details: { ...report, leavers: { ...report.leavers, children: report.leavers.children.length } } });
    await em.flush();
  }
  return report;
}
