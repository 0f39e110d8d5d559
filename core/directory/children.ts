import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import type { Actor } from '../actor.ts';
import { isAdmin, requireAdmin } from '../access/index.ts';
import { audit } from '../audit.ts';
import { assertCanSeeChild, currentPlacement, idsInScope } from '../authorization.ts';
import { addDays, addMonths } from '../dates.ts';
import { dryRunnable } from '../db/dry-run.ts';
import { inTransaction } from '../db/errors.ts';
import { sql } from '../db/sql.ts';
import { Child, ConsentRecord, type IChild, type IPlacement, Placement } from '../entities/child.ts';
import { Guardianship } from '../entities/parent.ts';
import { conflict, DomainError, invalid } from '../errors.ts';
import { fullName } from '../people.ts';
import { date, optionalText, parseInput, text } from '../validation.ts';
import { shownMentorNames } from './mentor.ts';
import { findChild, findGroup, findLocation } from './refs.ts';
import { clockOf } from '../clock.ts';

export interface PlacementView {
  group: string;
  location: string;
  startDate: string;
  endDate: string | null;
}

export interface ChildView {
  childNumber: string;
  name: string;
  firstName: string;
  infix: string | null;
  lastName: string;
  birthDate: string;
  leftOn: string | null;
  /** The group the child is in today, as "Location/Group". */
  group: string | null;
  consent: { internal: boolean; external: boolean } | null;
}

export interface ChildDetail extends ChildView {
  placements: PlacementView[];
  parents: { email: string; name: string }[];
  /** Numbers the child had before a correction, oldest first. */
  previousNumbers: string[];
  /**
   * The mentor as stored, and whether parents see it today: a deactivated mentor, or one who no
   * longer works in the child's group, is kept but not shown, and the administrator should know.
   */
  mentor: { name: string; email: string; shownToParents: boolean } | null;
}

const placementView = (p: IPlacement): PlacementView => ({
  group: p.group.name,
  location: p.group.location.name,
  startDate: p.startDate,
  endDate: p.endDate ?? null,
});

async function toViews(em: EntityManager, children: IChild[]): Promise<ChildView[]> {
  if (children.length === 0) return [];
  const ids = children.map((c) => c.id);
  const placements = await em.find(
    Placement,
    { child: { $in: ids }, ...currentPlacement(clockOf(em).today()) },
    { populate: ['group.location'] },
  );
  const consents = await em.find(ConsentRecord, { child: { $in: ids } }, { orderBy: { recordedAt: 'asc', id: 'asc' } });
  const groupOf = new Map(placements.map((p) => [p.child.id, `${p.group.location.name}/${p.group.name}`]));
  const consentOf = new Map(consents.map((c) => [c.child.id, { internal: c.internal, external: c.external }]));
  return children.map((c) => ({
    childNumber: c.childNumber,
    name: fullName(c),
    firstName: c.firstName,
    infix: c.infix ?? null,
    lastName: c.lastName,
    birthDate: c.birthDate,
    leftOn: c.leftOn ?? null,
    group: groupOf.get(c.id) ?? null,
    consent: consentOf.get(c.id) ?? null,
  }));
}

const childNumber = text(50, 'child number').regex(/^[\w.-]+$/, 'may contain only letters, digits, - . and _');

/** Older than this, a birth date is a typo: childcare ends at 13 (BSO), and this leaves room. */
export const MAX_CHILD_AGE_YEARS = 18;

/** Why a birth date cannot be right on `today` (the portal clock's), or null. */
export function birthDateProblem(birthDate: string, today: string): string | null {
  if (birthDate > today) return 'lies in the future';
  if (birthDate < addMonths(today, -12 * MAX_CHILD_AGE_YEARS)) {
    return `${birthDate} lies more than ${MAX_CHILD_AGE_YEARS} years back; a child in childcare is younger (a typo?)`;
  }
  return null;
}

function assertBirthDate(em: EntityManager, birthDate: string): void {
  const problem = birthDateProblem(birthDate, clockOf(em).today());
  if (problem) throw invalid('birthDate', problem);
}

/**
 * The current numbers of children whose number was corrected, by their old number: for the
 * imports, which match children by number and must not add a child again under its old one (a
 * database trigger refuses that; this says which number to use instead).
 */
export async function correctedChildNumbers(em: EntityManager, numbers: readonly string[]): Promise<Map<string, string>> {
  if (numbers.length === 0) return new Map();
  const rows = await sql<{ old: string; current: string }>(
    em,
    `select o.old, c.child_number as current from child c
       cross join lateral jsonb_array_elements_text(c.previous_numbers) as o(old)
      where c.previous_numbers is not null and o.old in (select json_array_elements_text(?::json))`,
    [JSON.stringify(numbers)],
  );
  return new Map(rows.map((r) => [r.old, r.current]));
}

/** findChild, but an old number (corrected since) says which number the child has now. */
async function findChildForAdmin(em: EntityManager, number: string): Promise<IChild> {
  try {
    return await findChild(em, number);
  } catch (err) {
    if (!(err instanceof DomainError) || err.code !== 'not_found') throw err;
    const now = (await correctedChildNumbers(em, [number.trim()])).get(number.trim());
    if (now) throw new DomainError('not_found', `child "${number.trim()}" not found: its number was corrected to ${now}`);
    throw err;
  }
}

const addSchema = z.object({
  childNumber,
  firstName: text(100, 'first name'),
  infix: optionalText(50, 'infix'),
  lastName: text(100, 'last name'),
  birthDate: date,
  group: z.string().trim().min(1).optional(),
  startDate: date.optional(),
});
export type AddChildInput = z.input<typeof addSchema>;

export async function addChild(em: EntityManager, actor: Actor, input: AddChildInput): Promise<ChildDetail> {
  requireAdmin(actor, 'directory.manage');
  const data = parseInput(addSchema, input);
  assertBirthDate(em, data.birthDate);
  if (data.startDate && !data.group) throw invalid('startDate', 'needs a group to start in');
  await inTransaction(em, async (tx) => {
    await assertNumberFree(tx, data.childNumber);
    const group = data.group ? await findGroup(tx, data.group) : undefined;
    const child = tx.create(Child, {
      childNumber: data.childNumber,
      firstName: data.firstName,
      infix: data.infix ?? null,
      lastName: data.lastName,
      birthDate: data.birthDate,
      leftOn: null,
    });
    const startDate = data.startDate ?? clockOf(em).today();
    if (group) tx.create(Placement, { child, group, startDate, endDate: null });
    audit(tx, {
      type: 'child.added',
      actor,
      subject: data.childNumber,
      details: group ? { group: `${group.location.name}/${group.name}`, startDate } : {},
    });
  });
  return await showChild(em, actor, data.childNumber);
}

/** A number may be given to a child when no child has it, now or before a correction. */
async function assertNumberFree(em: EntityManager, number: string, exceptId?: number): Promise<void> {
  const holder = await em.findOne(Child, { childNumber: number });
  if (holder && holder.id !== exceptId) throw conflict(`a child with number ${number} already exists`);
  const now = (await correctedChildNumbers(em, [number])).get(number);
  if (now !== undefined) {
    const former = await em.findOneOrFail(Child, { childNumber: now });
    if (former.id !== exceptId) throw conflict(`child number ${number} was corrected to ${now}; it cannot be given to another child`);
  }
}

export async function showChild(em: EntityManager, actor: Actor, childNumber: string): Promise<ChildDetail> {
  // Only an administrator hears which number an old one became: it names another record.
  const child = isAdmin(actor) ? await findChildForAdmin(em, childNumber) : await findChild(em, childNumber);
  await assertCanSeeChild(em, actor, child.id, `child "${childNumber.trim()}"`);
  const [view] = await toViews(em, [child]);
  const placements = await em.find(
    Placement,
    { child: child.id },
    { populate: ['group.location'], orderBy: { startDate: 'asc' } },
  );
  // A parent sees the other guardians of their own child; that is the household, not a leak.
  const links = await em.find(Guardianship, { child: child.id }, { populate: ['parent'] });
  if (child.mentor) await em.populate(child, ['mentor']);
  const mentor = child.mentor ?? null;
  const shown = mentor ? (await shownMentorNames(em, [child.id])).has(child.id) : false;
  return {
    ...view!,
    placements: placements.map(placementView),
    parents: links.map((l) => ({ email: l.parent.email, name: fullName(l.parent) })),
    previousNumbers: child.previousNumbers ?? [],
    mentor: mentor ? { name: fullName(mentor), email: mentor.email, shownToParents: shown } : null,
  };
}

export async function listChildren(
  em: EntityManager,
  actor: Actor,
  filter: { group?: string; location?: string; includeLeft?: boolean } = {},
): Promise<ChildView[]> {
  const scope = await idsInScope(em, actor, 'child.read');
  let inGroups: number[] | undefined;
  if (filter.group || filter.location) {
    const groupIds = filter.group
      ? [(await findGroup(em, filter.group, filter.location)).id]
      : { location: (await findLocation(em, filter.location!)).id };
    const placements = await em.find(Placement, {
      group: Array.isArray(groupIds) ? { $in: groupIds } : groupIds,
      ...currentPlacement(clockOf(em).today()),
    });
    inGroups = placements.map((p) => p.child.id);
  }
  const idFilters = [scope === 'all' ? undefined : scope, inGroups].filter((x): x is number[] => x !== undefined);
  const children = await em.find(
    Child,
    {
      ...(idFilters.length ? { id: { $in: idFilters.reduce((a, b) => a.filter((x) => b.includes(x))) } } : {}),
      ...(filter.includeLeft ? {} : { leftOn: null }),
    },
    { orderBy: { lastName: 'asc', firstName: 'asc', childNumber: 'asc' } },
  );
  return await toViews(em, children);
}

const moveSchema = z.object({ group: text(200, 'group'), date: date.optional() });

/**
 * Moves a child to another group from a date (default today): the current placement ends the
 * day before, so the history shows where the child was on every day.
 */
export async function moveChild(
  em: EntityManager,
  actor: Actor,
  childNumber: string,
  input: z.input<typeof moveSchema>,
): Promise<ChildDetail> {
  requireAdmin(actor, 'directory.manage');
  const data = parseInput(moveSchema, input);
  const on = data.date ?? clockOf(em).today();
  const number = await inTransaction(em, async (tx) => {
    const child = await findChildForAdmin(tx, childNumber);
    if (child.leftOn && child.leftOn < on) throw conflict(`child ${child.childNumber} left on ${child.leftOn}`);
    const group = await findGroup(tx, data.group);
    const open = await tx.find(Placement, {
      child: child.id,
      $or: [{ endDate: null }, { endDate: { $gte: on } }],
    });
    for (const p of open) {
      if (p.group.id === group.id && p.startDate <= on) {
        throw conflict(`child ${child.childNumber} is already in that group on ${on}`);
      }
      if (p.startDate >= on) tx.remove(p); // a planned placement the move replaces
      else p.endDate = addDays(on, -1);
    }
    tx.create(Placement, { child, group, startDate: on, endDate: null });
    audit(tx, { type: 'child.moved', actor, subject: child.childNumber, details: { group: `${group.location.name}/${group.name}`, from: on } });
    return child.childNumber;
  });
  return await showChild(em, actor, number);
}

const updateSchema = z.object({
  childNumber: childNumber.optional(),
  firstName: text(100, 'first name').optional(),
  infix: optionalText(50, 'infix'),
  lastName: text(100, 'last name').optional(),
  birthDate: date.optional(),
});
export type UpdateChildInput = z.input<typeof updateSchema>;

/** The fields `updateChild` changes, as the audit event and the CLI name them. */
const UPDATABLE = ['childNumber', 'firstName', 'infix', 'lastName', 'birthDate'] as const;
type Updatable = (typeof UPDATABLE)[number];

export interface ChildUpdate extends ChildDetail {
  /** What changed, old and new value; empty when every given value was already the child's. */
  changes: { field: Updatable; from: string | null; to: string | null }[];
  dryRun: boolean;
}

/**
 * Corrects a child's details. The old values stay in the audit log (`child.updated`, before and
 * after); an old child number also stays on the child (previousNumbers), so an import that still
 * uses it is refused, naming the new one, instead of adding the child a second time.
 */
export async function updateChild(
  em: EntityManager,
  actor: Actor,
  childNumberRef: string,
  input: UpdateChildInput,
  options: { dryRun?: boolean } = {},
): Promise<ChildUpdate> {
  requireAdmin(actor, 'directory.manage');
  const data = parseInput(updateSchema, input);
  if (UPDATABLE.every((f) => data[f] === undefined)) {
    throw invalid('input', 'nothing to change: give a new child number, name or birth date');
  }
  return await dryRunnable(em, options.dryRun, async (tx) => {
    const child = await findChildForAdmin(tx, childNumberRef);
    const changes: ChildUpdate['changes'] = [];
    for (const field of UPDATABLE) {
      const to = data[field];
      const from = child[field] ?? null;
      if (to !== undefined && to !== from) changes.push({ field, from, to });
    }
    const changed = (field: Updatable) => changes.find((c) => c.field === field);
    const birthDate = changed('birthDate')?.to;
    if (birthDate) {
      assertBirthDate(tx, birthDate);
      const first = await tx.findOne(Placement, { child: child.id }, { orderBy: { startDate: 'asc' } });
      if (first && birthDate > first.startDate) {
        throw invalid('birthDate', `${birthDate} lies after the child's first day in a group (${first.startDate})`);
      }
      if (child.leftOn && birthDate > child.leftOn) throw invalid('birthDate', `${birthDate} lies after the day the child left (${child.leftOn})`);
    }
    const number = changed('childNumber');
    if (number) {
      await assertNumberFree(tx, number.to!, child.id);
      // Going back to an earlier number takes it off the list.
      child.previousNumbers = [...(child.previousNumbers ?? []).filter((n) => n !== number.to), number.from!];
    }
    for (const c of changes) {
      // Only the infix can be cleared; the schema gives the other fields a text or nothing.
      if (c.field === 'infix') child.infix = c.to;
      else child[c.field] = c.to!;
    }
    if (changes.length) {
      audit(tx, {
        type: 'child.updated',
        actor,
        subject: child.childNumber,
        details: {
          before: Object.fromEntries(changes.map((c) => [c.field, c.from])),
          after: Object.fromEntries(changes.map((c) => [c.field, c.to])),
        },
      });
    }
    await tx.flush();
    return { ...(await showChild(tx, actor, child.childNumber)), changes, dryRun: Boolean(options.dryRun) };
  });
}

const leaveSchema = z.object({ date: date.optional() });

export interface ChildLeave extends ChildDetail {
  leftOn: string;
  /** Placements that ended on the last day, and planned ones (starting later) that were removed. */
  placementsEnded: number;
  plannedRemoved: number;
  /**
   * The last day the parents can still read the schriftje and the conversations and download them,
   * with the photos the child is tagged in (Mijn gegevens): leftOn + retention.leaverGraceDays.
   * After it the retention run removes them. Null when the caller gave no grace period.
   */
  archiveUntil: string | null;
  /** Per parent, their other children still placed after the last day ("Daan (Centrum/Egeltjes)"). */
  parentsAfter: { email: string; name: string; stillPlaced: string[] }[];
  dryRun: boolean;
}

/**
 * The child leaves the organisation: the placement ends on that (last) day. Access follows by
 * itself: every request is checked against the placements in force that day (core/access), so
 * from the next day the parents reach no group content through this child, and no session holds
 * an older answer that would need ending. As guardians they keep the child's schriftje and
 * conversations (read, and in the AVG download) until the retention run removes them.
 */
export async function leaveChild(
  em: EntityManager,
  actor: Actor,
  childNumber: string,
  input: z.input<typeof leaveSchema>,
  options: { dryRun?: boolean; leaverGraceDays?: number } = {},
): Promise<ChildLeave> {
  requireAdmin(actor, 'directory.manage');
  const data = parseInput(leaveSchema, input);
  const on = data.date ?? clockOf(em).today();
  return await dryRunnable(em, options.dryRun, async (tx) => {
    const child = await findChildForAdmin(tx, childNumber);
    if (on < child.birthDate) throw invalid('date', 'lies before the birth date');
    const open = await tx.find(Placement, { child: child.id, $or: [{ endDate: null }, { endDate: { $gt: on } }] });
    let placementsEnded = 0;
    let plannedRemoved = 0;
    for (const p of open) {
      if (p.startDate > on) {
        tx.remove(p);
        plannedRemoved++;
      } else {
        p.endDate = on;
        placementsEnded++;
      }
    }
    const previousLeftOn = child.leftOn ?? null;
    child.leftOn = on;
    const archiveUntil = options.leaverGraceDays === undefined ? null : addDays(on, options.leaverGraceDays);
    audit(tx, {
      type: 'child.left',
      actor,
      subject: child.childNumber,
      details: { leftOn: on, previousLeftOn, placementsEnded, plannedRemoved, archiveUntil },
    });
    await tx.flush();
    return {
      ...(await showChild(tx, actor, child.childNumber)),
      leftOn: on,
      placementsEnded,
      plannedRemoved,
      archiveUntil,
      parentsAfter: await parentsAfterLeaving(tx, child.id, on),
      dryRun: Boolean(options.dryRun),
    };
  });
}

/** The child's parents, each with their other children who are still placed after `lastDay`. */
async function parentsAfterLeaving(em: EntityManager, childId: number, lastDay: string): Promise<ChildLeave['parentsAfter']> {
  const links = await em.find(Guardianship, { child: childId }, { populate: ['parent'] });
  const siblingLinks = await em.find(Guardianship, { parent: { $in: links.map((l) => l.parent.id) }, child: { $ne: childId } });
  const placements = await em.find(
    Placement,
    {
      child: { $in: siblingLinks.map((l) => l.child.id), $or: [{ leftOn: null }, { leftOn: { $gt: lastDay } }] },
      $or: [{ endDate: null }, { endDate: { $gt: lastDay } }],
    },
    { populate: ['child', 'group.location'], orderBy: { child: { birthDate: 'asc' }, startDate: 'asc' } },
  );
  return links.map((l) => {
    const theirs = new Set(siblingLinks.filter((s) => s.parent.id === l.parent.id).map((s) => s.child.id));
    const stillPlaced = placements
      .filter((p) => theirs.has(p.child.id))
      .map((p) => `${p.child.firstName} (${p.group.location.name}/${p.group.name})`);
    return { email: l.parent.email, name: fullName(l.parent), stillPlaced: [...new Set(stillPlaced)] };
  });
}
