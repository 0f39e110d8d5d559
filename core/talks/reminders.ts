import type { EntityManager } from '@mikro-orm/postgresql';
import { addDays } from '../dates.ts';
import { clockOf, PORTAL_TIME_ZONE } from '../clock.ts';
import { sql } from '../db/sql.ts';
import { enqueueTalkMails, type TalkMailContext } from './mail.ts';

/**
 * The reminder of the day before: a periodic scan (core/jobs/background.ts) queues one mail per
 * booking whose talk is tomorrow (Europe/Amsterdam) to the parent who booked it. The booking's
 * reminded_at is set in the same statement that picks it, and the mails are queued in that
 * transaction, so two nodes scanning at once, or a scan run twice, remind once. From
 * REMIND_FROM on the day before: a reminder at midnight helps nobody. A move clears the mark
 * (a talk moved to tomorrow is reminded again, about the new time).
 */

export const REMIND_FROM = '09:00';

export async function remindTomorrow(em: EntityManager, ctx: TalkMailContext): Promise<number> {
  const clock = clockOf(em);
  if (clock.timeOfDay() < REMIND_FROM) return 0;
  const tomorrow = addDays(clock.today(), 1);
  return await em.transactional(async (tx) => {
    const due = await sql<{ id: number; booking_id: string; sequence: number; child_id: number; booked_by_id: number }>(
      tx,
      `update talk_slot set reminded_at = ?
        where id in (select id from talk_slot
                      where child_id is not null and booked_by_id is not null and reminded_at is null and held_at is null and cancelled_at is null
                        and (starts_at at time zone '${PORTAL_TIME_ZONE}')::date = ?::date
                      for update skip locked)
        returning id, booking_id, sequence, child_id, booked_by_id`,
      [clock.now(), tomorrow],
    );
    await enqueueTalkMails(
      ctx,
      tx,
      due.map((d) => ({ slotId: d.id, bookingId: d.booking_id, sequence: d.sequence, childId: d.child_id, event: 'reminder' as const, parentId: d.booked_by_id })),
    );
    return due.length;
  });
}

/** How long staff have to record a talk as held before it stops counting as the child's open talk. */
export const LAPSE_DAYS = 7;

/**
 * Talks that began LAPSE_DAYS ago and were never recorded as held lapse: the partial unique index
 * (one open talk per child) no longer counts them, so the parents can book the next one. Staff
 * can still record them as held; nothing else changes. Run with the reminders.
 */
export async function lapseUnrecorded(em: EntityManager): Promise<number> {
  const now = clockOf(em).now();
  const before = new Date(now.getTime() - LAPSE_DAYS * 86_400_000);
  const rows = await sql<{ id: number }>(
    em,
    `update talk_slot set lapsed_at = ?, updated_at = ?
      where child_id is not null and held_at is null and cancelled_at is null and lapsed_at is null and starts_at < ?
      returning id`,
    [now, now, before],
  );
  return rows.length;
}
