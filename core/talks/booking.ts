import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { authorize, parentIdOf, scopeFilter, scopeOf } from '../access/index.ts';
import type { Actor } from '../actor.ts';
import { audit } from '../audit.ts';
import { clockOf } from '../clock.ts';
import { sql, sqlCount } from '../db/sql.ts';
import { conflict, type DomainError, isDomainError, notFound } from '../errors.ts';
import { fullName } from '../people.ts';
import { enqueueTalkMails, type TalkMailContext, type TalkMailJob } from './mail.ts';
import { readSlots, type TalkSlotView } from './read.ts';

/**
 * The parent side of oudergesprekken (talk.book: a guardian of the child, the child placed
 * today). A parent books a free slot of a group the child is placed in today, moves the booking
 * to another free slot, or cancels it while it lies ahead. Another group's slot, another family's
 * booking or a child who left is "not found".
 *
 * Double booking is impossible in the database, not only here: taking a slot is
 * `update … where child_id is null` (of two parents at the same moment the second finds it taken
 * and gets SLOT_TAKEN), and the partial unique index on the child's open talk refuses a second
 * booking for one child made in parallel. A move is one transaction: release, then take; when the
 * take fails the release is rolled back with it.
 */

/** The stable code of "Dit tijdstip is net bezet": the page and the API say it in words. */
export const SLOT_TAKEN = 'talk slot taken';
export const ALREADY_BOOKED = 'the child already has a talk';

export interface ChildTalks {
  childId: number;
  childName: string;
  /** The open talk (booked, not held): upcoming, or begun and not yet recorded. */
  booked: (TalkSlotView & { upcoming: boolean }) | null;
  /** Free slots ahead in the child's groups. */
  free: TalkSlotView[];
}

/** Per own child (talk.book's scope): the open talk and the free slots to choose from. */
export async function parentTalks(em: EntityManager, actor: Actor): Promise<ChildTalks[]> {
  const scope = scopeFilter(scopeOf(em, actor, 'talk.book'), 'c.id');
  const parentId = parentIdOf(actor);
  if (parentId === undefined) return [];
  const clock = clockOf(em);
  const today = clock.today();
  const now = clock.now();
  const children = await sql<{ id: number; first_name: string; infix: string | null; last_name: string }>(
    em,
    `select c.id, c.first_name, c.infix, c.last_name from child c join guardianship g on g.child_id = c.id and g.parent_id = ?
      where ${scope.sql} order by c.birth_date, c.first_name, c.id`,
    [parentId, ...scope.params],
  );
  const out: ChildTalks[] = [];
  for (const c of children) {
    const [booked] = await readSlots(em, 'ts.child_id = ? and ts.held_at is null and ts.cancelled_at is null and ts.lapsed_at is null', [c.id]);
    const free = await readSlots(
      em,
      `ts.child_id is null and ts.cancelled_at is null and ts.starts_at > ?
       and ts.group_id in (select pl.group_id from placement pl where pl.child_id = ? and pl.start_date <= ?::date and (pl.end_date is null or pl.end_date >= ?::date))`,
      [now, c.id, today, today],
    );
    out.push({
      childId: c.id,
      childName: fullName({ firstName: c.first_name, infix: c.infix, lastName: c.last_name }),
      booked: booked ? { ...booked, upcoming: new Date(booked.startsAt) > now } : null,
      free,
    });
  }
  return out;
}

interface OpenRow {
  id: number;
  staff_id: number | null;
  booking_id: string;
  sequence: number;
  starts_at: Date | string;
}

/** The child's open booking, locked for this transaction. */
async function openBooking(tx: EntityManager, childId: number): Promise<OpenRow | undefined> {
  const [row] = await sql<OpenRow>(
    tx,
    'select id, staff_id, booking_id, sequence, starts_at from talk_slot where child_id = ? and held_at is null and cancelled_at is null and lapsed_at is null for update',
    [childId],
  );
  return row;
}

const isUniqueViolation = (err: unknown) => isDomainError(err) && err.code === 'conflict';

export type BookingOutcome = { outcome: 'booked' | 'moved' | 'unchanged'; slotId: number };

/**
 * Books `slotId` for the child, or moves the child's open booking there. The confirmation mails
 * (with the invitation) are queued in the same transaction: to the parent who booked and to the
 * staff member of the slot (and a cancellation to the previous one, when another holds it).
 */
export async function bookSlot(
  em: EntityManager,
  ctx: TalkMailContext,
  actor: Actor,
  input: { childId: number; slotId: number },
): Promise<BookingOutcome> {
  await authorize(em, actor, 'talk.book', input.childId, 'child');
  const parentId = parentIdOf(actor)!;
  const clock = clockOf(em);
  const today = clock.today();
  const now = clock.now();
  // The slot must lie ahead in a group the child is placed in today: anything else is not found.
  const [slot] = await sql<{ id: number; staff_id: number | null; child_id: number | null }>(
    em,
    `select ts.id, ts.staff_id, ts.child_id from talk_slot ts
      where ts.id = ? and ts.cancelled_at is null and ts.starts_at > ?
        and ts.group_id in (select pl.group_id from placement pl where pl.child_id = ? and pl.start_date <= ?::date and (pl.end_date is null or pl.end_date >= ?::date))`,
    [Number.isSafeInteger(input.slotId) && input.slotId > 0 && input.slotId <= 2_147_483_647 ? input.slotId : 0, now, input.childId, today, today],
  );
  if (!slot) throw notFound('talk slot');
  if (slot.child_id === input.childId) return { outcome: 'unchanged', slotId: slot.id };
  if (slot.child_id !== null) throw conflict(SLOT_TAKEN, [{ path: 'slot', message: SLOT_TAKEN }]);
  try {
    return await em.transactional(async (tx) => {
      const old = await openBooking(tx, input.childId);
      if (old && new Date(old.starts_at) <= now) {
        // A talk that began is not moved: staff record it as held first (then a new one can be booked).
        throw conflict(ALREADY_BOOKED, [{ path: 'slot', message: ALREADY_BOOKED }]);
      }
      if (old) {
        await sqlCount(
          tx,
          `update talk_slot set child_id = null, booked_by_id = null, booked_at = null, booking_id = null, sequence = 0, reminded_at = null, updated_at = ? where id = ?`,
          [now, old.id],
        );
      }
      const bookingId = old?.booking_id ?? randomUUID();
      const sequence = old ? old.sequence + 1 : 0;
      const taken = await sqlCount(
        tx,
        `update talk_slot set child_id = ?, booked_by_id = ?, booked_at = ?, booking_id = ?, sequence = ?, reminded_at = null, updated_at = ?
          where id = ? and child_id is null and cancelled_at is null`,
        [input.childId, parentId, now, bookingId, sequence, now, slot.id],
      );
      if (taken === 0) throw conflict(SLOT_TAKEN, [{ path: 'slot', message: SLOT_TAKEN }]);
      const event = old ? 'moved' : 'booked';
      const base = { slotId: slot.id, bookingId, sequence, childId: input.childId };
      const jobs: TalkMailJob[] = [{ ...base, event, parentId }];
      if (slot.staff_id !== null) jobs.push({ ...base, event, staffId: slot.staff_id, byParentId: parentId });
      if (old && old.staff_id !== null && old.staff_id !== slot.staff_id) {
        jobs.push({ ...base, slotId: old.id, event: 'cancelled', staffId: old.staff_id, byParentId: parentId });
      }
      await enqueueTalkMails(ctx, tx, jobs);
      audit(tx, { type: old ? 'talk.moved' : 'talk.booked', actor, details: { slotId: slot.id, childId: input.childId, ...(old && { fromSlotId: old.id }) } });
      await tx.flush();
      return { outcome: event, slotId: slot.id } as const;
    });
  } catch (err) {
    // The partial unique index (one open talk per child): a parallel booking for the same child won.
    if (isUniqueViolation(err) && (err as DomainError).message !== SLOT_TAKEN && (err as DomainError).message !== ALREADY_BOOKED) {
      throw conflict(ALREADY_BOOKED, [{ path: 'slot', message: ALREADY_BOOKED }]);
    }
    throw err;
  }
}

/** Cancels the child's booking of `slotId` while it lies ahead; the slot is free again. */
export async function cancelBooking(em: EntityManager, ctx: TalkMailContext, actor: Actor, input: { childId: number; slotId: number }): Promise<void> {
  await authorize(em, actor, 'talk.book', input.childId, 'child');
  const clock = clockOf(em);
  const now = clock.now();
  await em.transactional(async (tx) => {
    const old = await openBooking(tx, input.childId);
    if (!old || old.id !== input.slotId) throw notFound('talk slot');
    if (new Date(old.starts_at) <= now) throw conflict(ALREADY_BOOKED, [{ path: 'slot', message: 'the talk has begun' }]);
    await sqlCount(
      tx,
      `update talk_slot set child_id = null, booked_by_id = null, booked_at = null, booking_id = null, sequence = 0, reminded_at = null, updated_at = ? where id = ?`,
      [now, old.id],
    );
    const base = { slotId: old.id, bookingId: old.booking_id, sequence: old.sequence + 1, childId: input.childId, event: 'cancelled' as const };
    const parentId = parentIdOf(actor)!;
    const jobs: TalkMailJob[] = [{ ...base, parentId }];
    if (old.staff_id !== null) jobs.push({ ...base, staffId: old.staff_id, byParentId: parentId });
    await enqueueTalkMails(ctx, tx, jobs);
    audit(tx, { type: 'talk.cancelled', actor, details: { slotId: old.id, childId: input.childId } });
    await tx.flush();
  });
}
