import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import type { Actor } from '../actor.ts';
import { requireAdmin } from '../access/index.ts';
import { assertCanSeeChild, currentPlacement, idsInScope } from '../authorization.ts';
import { addDays, } from '../dates.ts';
import { inTransaction } from '../db/errors.ts';
import { Child, ConsentRecord, type IChild, type IPlacement, Placement } from '../entities/child.ts';
import { Guardianship } from '../entities/parent.ts';
import { conflict, invalid } from '../errors.ts';
import { fullName } from '../people.ts';
import { date, optionalText, parseInput, text } from '../validation.ts';
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

const addSchema = z.object({
  childNumber: text(50, 'child number').regex(/^[\w.-]+$/, 'may contain only letters, digits, - . and _'),
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
  if (data.birthDate > clockOf(em).today()) throw invalid('birthDate', 'lies in the future');
  if (data.startDate && !data.group) throw invalid('startDate', 'needs a group to start in');
  await inTransaction(em, async (tx) => {
    if (await tx.findOne(Child, { childNumber: data.childNumber })) {
      throw conflict(`a child with number ${data.childNumber} already exists`);
    }
    const group = data.group ? await findGroup(tx, data.group) : undefined;
    const child = tx.create(Child, {
      childNumber: data.childNumber,
      firstName: data.firstName,
      infix: data.infix ?? null,
      lastName: data.lastName,
      birthDate: data.birthDate,
      leftOn: null,
    });
    if (group) tx.create(Placement, { child, group, startDate: data.startDate ?? clockOf(em).today(), endDate: null });
  });
  return await showChild(em, actor, data.childNumber);
}

export async function showChild(em: EntityManager, actor: Actor, childNumber: string): Promise<ChildDetail> {
  const child = await findChild(em, childNumber);
  await assertCanSeeChild(em, actor, child.id, `child "${childNumber.trim()}"`);
  const [view] = await toViews(em, [child]);
  const placements = await em.find(
    Placement,
    { child: child.id },
    { populate: ['group.location'], orderBy: { startDate: 'asc' } },
  );
  // A parent sees the other guardians of their own child; that is the household, not a leak.
  const links = await em.find(Guardianship, { child: child.id }, { populate: ['parent'] });
  return {
    ...view!,
    placements: placements.map(placementView),
    parents: links.map((l) => ({ email: l.parent.email, name: fullName(l.parent) })),
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
  await inTransaction(em, async (tx) => {
    const child = await findChild(tx, childNumber);
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
  });
  return await showChild(em, actor, childNumber);
}

const leaveSchema = z.object({ date: date.optional() });

/** The child leaves the organisation: the placement ends on that (last) day. */
export async function leaveChild(
  em: EntityManager,
  actor: Actor,
  childNumber: string,
  input: z.input<typeof leaveSchema>,
): Promise<ChildDetail> {
  requireAdmin(actor, 'directory.manage');
  const data = parseInput(leaveSchema, input);
  const on = data.date ?? clockOf(em).today();
  await inTransaction(em, async (tx) => {
    const child = await findChild(tx, childNumber);
    if (on < child.birthDate) throw invalid('date', 'lies before the birth date');
    const open = await tx.find(Placement, { child: child.id, $or: [{ endDate: null }, { endDate: { $gt: on } }] });
    for (const p of open) {
      if (p.startDate > on) tx.remove(p);
      else p.endDate = on;
    }
    child.leftOn = on;
  });
  return await showChild(em, actor, childNumber);
}
