import { DELETED_ROW_DAYS } from '../export/tables.ts';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor } from '../actor.ts';
import { requireAdmin } from '../access/index.ts';
import { audit } from '../audit.ts';
import { addDays, addMonths, dayOf } from '../dates.ts';
import { countRows, inList, sql, sqlCount } from '../db/sql.ts';
import { type ChildTracesRemoved, countChildTraces, removeChildTraces } from '../gdpr/child-traces.ts';
import { prunePhotos } from '../photos/retention.ts';
import type { PhotoContext } from '../photos/upload.ts';
import { clockOf, startOfDay } from '../clock.ts';

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
 * - ziekmeldingen and ophaalberichten (day notes) more than retention.dayNotesDays after their
 *   last day (a report's `until_date`, a note's `date`): they tell the group about a day, and
 *   are kept a while for questions afterwards, not as a health record;
 * - children who left more than retention.leaverGraceDays ago: their schriftje, conversations,
 *   photo tags and day notes (the grace period is the parents' time to download them, "Download
 *   mijn gegevens");
 * - photos per photos.retentionMonths (core/photos/retention.ts).
 */

export interface RetentionReport {
  dryRun: boolean;
  diaryEntries: number;
  threads: number;
  announcements: number;
  auditEvents: number;
  /** Ziekmeldingen past retention.dayNotesDays (a leaver's are counted under leavers). */
  sickReports: number;
  /** Ophaalberichten past retention.dayNotesDays (a leaver's are counted under leavers). */
  pickupNotes: number;
  /** Keys of deleted rows kept for `portal export --since`, older than DELETED_ROW_DAYS. */
  deletions: number;
  leavers: { children: string[] } & ChildTracesRemoved;
  photos: number;
  photoFiles: number;
}

/**
 * Where a period of whole months ends: the start of that calendar day in Amsterdam, so the cut
 * is the same whatever time the job runs, and 31 March minus a month is 28 February, not 3 March.
 */
const monthsBefore = (now: Date, months: number) => startOfDay(addMonths(dayOf(now), -months));

export async function applyRetention(
  em: EntityManager,
  ctx: Pick<PhotoContext, 'config' | 'photos' | 'incoming'>,
  actor: Actor,
  options: { dryRun?: boolean; now?: Date } = {},
): Promise<RetentionReport> {
  requireAdmin(actor, 'retention.manage');
  const now = options.now ?? clockOf(em).now();
  const dryRun = options.dryRun ?? false;
  const r = ctx.config.retention;
  const diaryBefore = dayOf(monthsBefore(now, r.diaryMonths));
  const messagesBefore = monthsBefore(now, r.messagesMonths);
  const auditBefore = monthsBefore(now, r.auditMonths);
  const leftBefore = addDays(dayOf(now), -r.leaverGraceDays);
  // A note whose last day is exactly dayNotesDays ago is still inside its period, as a leaver is.
  const dayNotesBefore = addDays(dayOf(now), -r.dayNotesDays);

  // Each rule once: the dry run counts the rows the real run deletes.
  // `child`: the rule is about a child's rows, which a leaver's removal (run first) may take.
  const rules = [
    ['diaryEntries', 'diary_entry where day < ?', diaryBefore, true],
    ['threads', 'message_thread where last_message_at < ?', messagesBefore, true],
    ['announcements', 'announcement where created_at < ?', messagesBefore, false],
    ['auditEvents', 'audit_event where at < ?', auditBefore, false],
    ['sickReports', 'sick_report where until_date < ?', dayNotesBefore, true],
    ['pickupNotes', 'pickup_note where date < ?', dayNotesBefore, true],
  ] as const;
  // The keys are stamped by the database's trigger (its now(), like the export's snapshot time
  // that `--since` gives back), so their age is measured on the database's clock, not the portal's.
  const oldKeys = `deleted_row where deleted_at < now() - make_interval(days => ?)`;
  const keysBefore = DELETED_ROW_DAYS;

  const report = await em.transactional(async (tx) => {
    // The keys of rows deleted long ago go first, before this run's own deletes record theirs:
    // those must reach an export, whatever time they were stamped with.
    const deletions = dryRun ? await countRows(tx, oldKeys, [keysBefore]) : await sqlCount(tx, `delete from ${oldKeys}`, [keysBefore]);
    const removed = { diaryEntries: 0, threads: 0, announcements: 0, auditEvents: 0, sickReports: 0, pickupNotes: 0, deletions };
    const leavers = await sql<{ id: number; child_number: string }>(
      tx,
      `select c.id, c.child_number from child c
        where c.left_on is not null and c.left_on < ?
          and (exists (select 1 from diary_entry e where e.child_id = c.id)
            or exists (select 1 from message_thread t where t.child_id = c.id)
            or exists (select 1 from photo_tag g where g.child_id = c.id)
            or exists (select 1 from sick_report s where s.child_id = c.id)
            or exists (select 1 from pickup_note n where n.child_id = c.id))
        order by c.child_number`,
      [leftBefore],
    );
    const leaverIds = leavers.map((l) => l.id);
    const traces = dryRun ? await countChildTraces(tx, leaverIds) : await removeChildTraces(tx, leaverIds);
    if (dryRun) {
      // The real run removes the leavers' rows first, so a rule never counts them: neither here.
      const notLeavers = leaverIds.length === 0 ? '' : ` and (child_id is null or child_id not ${inList(leaverIds)})`;
      for (const [key, from, before, child] of rules) removed[key] = await countRows(tx, child ? `${from}${notLeavers}` : from, [before, ...(child ? leaverIds : [])]);
    } else {
      // The audit trigger lets a delete through only inside a transaction that says this.
      await sql(tx, `set local ouderportaal.audit_retention = 'on'`);
      for (const [key, from, before] of rules) removed[key] = await sqlCount(tx, `delete from ${from}`, [before]);
    }
    return { dryRun, ...removed, leavers: { children: leavers.map((l) => l.child_number), ...traces }, photos: 0, photoFiles: 0 };
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
