import type { EntityManager } from '@mikro-orm/postgresql';
import { Child, type IChild } from '../entities/child.ts';
import { Group, type IGroup } from '../entities/group.ts';
import { type ILocation, Location } from '../entities/location.ts';
import { type IParent, Parent } from '../entities/parent.ts';
import { type IStaff, Staff } from '../entities/staff.ts';
import { DomainError, notFound } from '../errors.ts';
import { normalizeEmail } from '../validation.ts';

/**
 * How people name records at the terminal and in files: a location by its name (or id), a
 * group as "Location/Group", by a name that is unique in the organisation, or by id; a child
 * by the planning system's child number; a parent or staff member by e-mail address.
 */

const isId = (ref: string) => /^\d+$/.test(ref.trim());

export async function findLocation(em: EntityManager, ref: string): Promise<ILocation> {
  const r = ref.trim();
  const location = isId(r)
    ? await em.findOne(Location, { id: Number(r) })
    : await em.findOne(Location, { name: { $ilike: r.replace(/[\\%_]/g, '\\$&') } });
  if (!location) throw notFound(`location "${r}"`);
  return location;
}

export async function findGroup(em: EntityManager, ref: string, locationRef?: string): Promise<IGroup> {
  const r = ref.trim();
  if (isId(r) && !locationRef) {
    const group = await em.findOne(Group, { id: Number(r), archivedAt: null }, { populate: ['location'] });
    if (!group) throw notFound(`group ${r}`);
    return group;
  }
  let locationPart = locationRef;
  let groupPart = r;
  const slash = r.lastIndexOf('/');
  if (!locationPart && slash > 0) {
    locationPart = r.slice(0, slash);
    groupPart = r.slice(slash + 1);
  }
  const where = {
    name: { $ilike: groupPart.trim().replace(/[\\%_]/g, '\\$&') },
    archivedAt: null,
    ...(locationPart ? { location: (await findLocation(em, locationPart)).id } : {}),
  };
  const groups = await em.find(Group, where, { populate: ['location'] });
  if (groups.length === 0) throw notFound(`group "${r}"${locationRef ? ` at ${locationRef}` : ''}`);
  if (groups.length > 1) {
    throw new DomainError(
      'conflict',
      `there are ${groups.length} groups named "${groupPart}": say which, as ${groups
        .map((g) => `"${g.location.name}/${g.name}"`)
        .join(' or ')}`,
    );
  }
  return groups[0]!;
}

export async function findChild(em: EntityManager, childNumber: string): Promise<IChild> {
  const child = await em.findOne(Child, { childNumber: childNumber.trim() });
  if (!child) throw notFound(`child "${childNumber.trim()}"`);
  return child;
}

export async function findParent(em: EntityManager, email: string): Promise<IParent> {
  const parent = await em.findOne(Parent, { email: normalizeEmail(email) });
  if (!parent) throw notFound(`parent "${normalizeEmail(email)}"`);
  return parent;
}

export async function findStaff(em: EntityManager, email: string): Promise<IStaff> {
  const staff = await em.findOne(Staff, { email: normalizeEmail(email) });
  if (!staff) throw notFound(`staff member "${normalizeEmail(email)}"`);
  return staff;
}
