import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor } from '../actor.ts';
import { audit } from '../audit.ts';
import { addDays, dayOf } from '../dates.ts';
import { inTransaction } from '../db/errors.ts';
import { Group } from '../entities/group.ts';
import { DayCancellation, type DayPart, SwapCredit } from '../entities/schedule.ts';
import { invalid, notFound } from '../errors.ts';
import { sql } from '../db/sql.ts';
import { authorize } from '../access/index.ts';
import { assertGroupInReach, childToActFor } from './access.ts';
import { closedFor, contractedDays, hasRoom, occupancy } from './attendance.ts';
import { timeOfDayOf } from '../clock.ts';
import { refuse } from './refusal.ts';
import { type Rules, rulesFor } from './rules.ts';
import { clockOf } from '../clock.ts';

/**
 * Afmelden: a parent calls off a contracted day of their child. Allowed for a future day, or
 * for today before the location's `cancelBefore`; a closed public holiday is no contracted day.
 * The day becomes a credit (ruildag tegoed) valid for `creditValidWeeks` weeks after it, except
 * a half day where half days are not swappable (that is cancelled without credit).
 */

export interface CancelInput {
  childId: number;
  date: string;
}

export interface CancelOutcome {
  cancellationId: number;
  date: string;
  /** The contracted part that was cancelled (the contract decides it, not the caller). */
  part: DayPart;
  /** The credit earned; null where half days give none. */
  credit: { id: number; expiresOn: string } | null;
}

/** Why a contracted day cannot be cancelled (now), or undefined when it can. The page asks this per day. */
export function cancelRefusal(rules: Rules, date: string, now: Date): { code: 'holiday' | 'past' | 'after_deadline'; params: Record<string, string> } | undefined {
  const holiday = closedFor(rules, date);
  if (holiday) return { code: 'holiday', params: { name: holiday } };
  const t = dayOf(now);
  if (date < t) return { code: 'past', params: {} };
  if (date === t && timeOfDayOf(now) >= rules.cancelBefore) return { code: 'after_deadline', params: { time: rules.cancelBefore } };
  return undefined;
}

export async function cancelDay(em: EntityManager, actor: Actor, input: CancelInput, now: Date = clockOf(em).now()): Promise<CancelOutcome> {
  const child = await childToActFor(em, actor, input.childId);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(input.date)) throw invalid('date', 'expected a date');
  const [day] = await contractedDays(em, { childIds: [child.id] }, input.date, input.date);
  if (!day) throw refuse('not_contracted');
  await assertGroupInReach(em, actor, day.groupId, 'child');
  const group = await em.findOneOrFail(Group, { id: day.groupId });
  const rules = await rulesFor(em, group.location.id);
  const refusal = cancelRefusal(rules, day.date, now);
  if (refusal) throw refuse(refusal.code, refusal.params);
  if (day.cancellationId !== null) throw refuse('already_cancelled');

  return await inTransaction(em, async (tx) => {
    const cancellation = tx.create(DayCancellation, {
      child: child.id,
      group: day.groupId,
      date: day.date,
      part: day.part,
      cancelledBy: actor.label,
    });
    const earns = day.part === 'day' || rules.halfDaysSwappable;
    const credit = earns
      ? tx.create(SwapCredit, {
          child: child.id,
          group: day.groupId,
          cancellation,
          sourceDate: day.date,
          part: day.part,
          expiresOn: addDays(day.date, rules.creditValidWeeks * 7),
        })
      : null;
    audit(tx, {
      type: 'day.cancelled',
      actor,
      subject: child.childNumber,
      details: { date: day.date, part: day.part, groupId: day.groupId, credit: credit?.expiresOn ?? null },
    });
    await tx.flush();
    return { cancellationId: cancellation.id, date: day.date, part: day.part, credit: credit ? { id: credit.id, expiresOn: credit.expiresOn } : null };
  });
}

/**
 * Undoes an afmelding (a mis-tap on a phone should not cost a day): allowed under the same
 * deadline as cancelling, while its credit has never been used for a request, and while the place is still free
 * (an approved swap day may have taken it meanwhile). The credit goes with it.
 */
export async function undoCancel(em: EntityManager, actor: Actor, input: CancelInput, now: Date = clockOf(em).now()): Promise<void> {
  const child = await childToActFor(em, actor, input.childId);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(input.date)) throw invalid('date', 'expected a date');
  const cancellation = await em.findOne(DayCancellation, { child: child.id, date: input.date }, { populate: ['group'] });
  if (!cancellation) throw notFound('cancellation');
  await authorize(em, actor, 'cancellation.withdraw', cancellation.id, 'cancellation');
  const rules = await rulesFor(em, cancellation.group.location.id);
  const refusal = cancelRefusal(rules, cancellation.date, now);
  if (refusal) throw refuse(refusal.code, refusal.params);
  await inTransaction(em, async (tx) => {
    await sql(tx, 'select id from care_group where id = ? for update', [cancellation.group.id]);
    const open = await sql(
      tx,
      `select 1 from swap_request r join swap_credit c on c.id = r.credit_id
        where c.cancellation_id = ?`,
      [cancellation.id],
    );
    if (open.length) throw refuse('credit_in_use');
    // Contracts may overbook a group (the planning system's business); what undoing must not do
    // is take back a place that an approved swap day has been given meanwhile.
    const swapsIn = await sql(tx, `select 1 from swap_request where group_id = ? and date = ?::date and status = 'approved'`, [
      cancellation.group.id,
      cancellation.date,
    ]);
    if (swapsIn.length && !hasRoom(await occupancy(tx, cancellation.group.id, cancellation.date), cancellation.part)) throw refuse('full');
    // The credit goes with the cancellation (on delete cascade). A credit that was ever asked
    // for stays, so the request's history (and a refusal's reason) is not lost.
    await sql(tx, 'delete from day_cancellation where id = ?', [cancellation.id]);
    audit(tx, { type: 'day.reinstated', actor, subject: child.childNumber, details: { date: cancellation.date, part: cancellation.part } });
    await tx.flush();
  });
}

/**
 * The same undo, for a caller that names the afmelding by its id (the app API). Someone else's
 * afmelding is "not found" like one that does not exist, so an id reveals nothing.
 */
export async function undoCancellation(em: EntityManager, actor: Actor, cancellationId: number, now: Date = clockOf(em).now()): Promise<void> {
  const cancellation = Number.isSafeInteger(cancellationId) ? await em.findOne(DayCancellation, { id: cancellationId }) : null;
  if (!cancellation) throw notFound('cancellation');
  await authorize(em, actor, 'cancellation.withdraw', cancellation.id, 'cancellation');
  await undoCancel(em, actor, { childId: cancellation.child.id, date: cancellation.date }, now);
}
