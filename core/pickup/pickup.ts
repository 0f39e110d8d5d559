import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { authorize, parentIdOf } from '../access/index.ts';
import type { Actor } from '../actor.ts';
import { audit } from '../audit.ts';
import { currentPlacement } from '../authorization.ts';
import { clockOf } from '../clock.ts';
import { addDays } from '../dates.ts';
import { inTransaction } from '../db/errors.ts';
import { sql } from '../db/sql.ts';
import { Child, type IChild, Placement } from '../entities/child.ts';
import { PickupNote } from '../entities/child-day.ts';
import { Parent } from '../entities/parent.ts';
import { invalid, notFound } from '../errors.ts';
import { optionalText, parseInput, text } from '../validation.ts';

/**
 * Ophalen: a parent tells the group who picks their child up on a day and at what time ("oma
 * Ria, 16:30"), with an optional note. For today or tomorrow only: it is a message about the
 * coming hours, not a standing arrangement. It can be changed or cleared until the day is over
 * (until midnight in Amsterdam, by the portal clock); after that it is history.
 */

export const PICKUP_LIMITS = { name: 100, relation: 60, note: 300 } as const;

export interface PickupInput {
  childId: number;
  /** 'YYYY-MM-DD': today or tomorrow; default today. */
  date?: string;
  name: string;
  relation?: string | null;
  /** HH:MM. */
  time: string;
  note?: string | null;
}

export interface PickupView {
  childId: number;
  date: string;
  name: string;
  relation: string | null;
  time: string;
  note: string | null;
  setBy: string;
}

const schema = z.object({
  name: text(PICKUP_LIMITS.name, 'name'),
  relation: optionalText(PICKUP_LIMITS.relation, 'relation'),
  time: z
    .string()
    .trim()
    .regex(/^([01]?\d|2[0-3]):[0-5]\d$/, 'expected a time like 16:30')
    .transform((v) => v.padStart(5, '0')),
  note: optionalText(PICKUP_LIMITS.note, 'note'),
});

const iso = (value: string | Date): string => (typeof value === 'string' ? value.slice(0, 10) : value.toISOString().slice(0, 10));

const view = (n: { child: { id: number }; date: string; name: string; relation?: string | null; time: string; note?: string | null; setBy: string }): PickupView => ({
  childId: n.child.id,
  date: iso(n.date),
  name: n.name,
  relation: n.relation ?? null,
  time: n.time,
  note: n.note ?? null,
  setBy: n.setBy,
});

/** The days a note can be set or changed for: today and tomorrow. */
export function pickupDays(today: string): [string, string] {
  return [today, addDays(today, 1)];
}

/** The child if the actor may set its pickup (`child.pickup.set`: its guardians); not found otherwise. */
async function childToPickUp(em: EntityManager, actor: Actor, childId: number): Promise<IChild> {
  await authorize(em, actor, 'child.pickup.set', childId, 'child');
  const child = await em.findOne(Child, { id: childId });
  if (!child) throw notFound('child');
  return child;
}

function dayOfInput(em: EntityManager, raw: string | undefined): string {
  const days = pickupDays(clockOf(em).today());
  const day = raw?.trim() || days[0];
  if (!days.includes(day)) throw invalid('date', 'today or tomorrow only');
  return day;
}

/** Sets (or changes) who picks the child up on today or tomorrow. */
export async function setPickup(em: EntityManager, actor: Actor, input: PickupInput): Promise<PickupView> {
  const child = await childToPickUp(em, actor, input.childId);
  const day = dayOfInput(em, input.date);
  const values = parseInput(schema, { name: input.name ?? '', relation: input.relation ?? '', time: input.time ?? '', note: input.note ?? '' });
  const placed = await em.count(Placement, { child: child.id, ...currentPlacement(day) });
  if (placed === 0) throw invalid('date', 'the child is not placed in a group that day');
  return await inTransaction(em, async (tx) => {
    await sql(tx, 'select id from child where id = ? for update', [child.id]);
    const existing = await tx.findOne(PickupNote, { child: child.id, date: day });
    const parentId = parentIdOf(actor);
    const fields = { name: values.name, relation: values.relation ?? null, time: values.time, note: values.note ?? null, setBy: actor.label };
    const setByParent = parentId === undefined ? null : tx.getReference(Parent, parentId);
    const note = existing ? Object.assign(existing, fields, { setByParent }) : tx.create(PickupNote, { child: child.id, date: day, ...fields, setByParent });
    // Who and when, not the note's words: the names of other people stay out of the audit log.
    audit(tx, { type: 'child.pickup_set', actor, subject: child.childNumber, details: { date: day, time: values.time, changed: existing !== null } });
    await tx.flush();
    return view(note);
  });
}

/** Clears the note of today or tomorrow; none set: not found. */
export async function clearPickup(em: EntityManager, actor: Actor, childId: number, date?: string): Promise<void> {
  const child = await childToPickUp(em, actor, childId);
  const day = dayOfInput(em, date);
  await inTransaction(em, async (tx) => {
    const existing = await tx.findOne(PickupNote, { child: child.id, date: day });
    if (!existing) throw notFound('pickup note');
    tx.remove(existing);
    audit(tx, { type: 'child.pickup_cleared', actor, subject: child.childNumber, details: { date: day } });
    await tx.flush();
  });
}

/** What the parent's form shows: the child, the two days, and the notes set for them. */
export interface PickupForm {
  child: { id: number; firstName: string };
  days: [string, string];
  notes: PickupView[];
}

export async function pickupForm(em: EntityManager, actor: Actor, childId: number): Promise<PickupForm> {
  const child = await childToPickUp(em, actor, childId);
  const days = pickupDays(clockOf(em).today());
  const rows = await em.find(PickupNote, { child: child.id, date: { $in: days } }, { orderBy: { date: 'asc' } });
  return { child: { id: child.id, firstName: child.firstName }, days, notes: rows.map(view) };
}

/** The notes of one day for some children, by child (Vandaag); the caller has decided who may see them. */
export async function pickupsOn(em: EntityManager, childIds: readonly number[], day: string): Promise<Map<number, PickupView>> {
  if (childIds.length === 0) return new Map();
  const rows = await em.find(PickupNote, { child: { $in: [...childIds] }, date: day });
  return new Map(rows.map((n) => [n.child.id, view(n)]));
}
