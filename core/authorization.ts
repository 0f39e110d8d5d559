import type { EntityManager } from '@mikro-orm/postgresql';
import { type Actor, isAdmin } from './actor.ts';
import { Placement } from './entities/child.ts';
import { Group } from './entities/group.ts';
import { Guardianship } from './entities/parent.ts';
import { StaffAssignment } from './entities/staff-assignment.ts';
import { notFound } from './errors.ts';
import { clockOf } from './clock.ts';

/**
 * Who may see what. Reads are scoped by the actor: a list query takes its filter from here, so
 * a forgotten check returns nothing rather than everything, and a record outside the scope is
 * reported as not found (never "forbidden", which would confirm that it exists).
 */

export type Scope = 'all' | number[];

/** The groups whose children the actor may see: all (admin), assigned ones (staff, manager). */
export async function visibleGroupIds(em: EntityManager, actor: Actor): Promise<Scope> {
  if (isAdmin(actor)) return 'all';
  if (actor.kind === 'staff' || actor.kind === 'manager') {
    const assignments = await em.find(StaffAssignment, { staff: actor.staffId });
    const groupIds = assignments.filter((a) => a.group).map((a) => a.group!.id);
    const locationIds = assignments.filter((a) => a.location).map((a) => a.location!.id);
    if (locationIds.length) {
      const groups = await em.find(Group, { location: { $in: locationIds } }, { fields: ['id'] });
      groupIds.push(...groups.map((g) => g.id));
    }
    return [...new Set(groupIds)];
  }
  if (actor.kind === 'parent') {
    const placements = await em.find(Placement, {
      child: { $in: await visibleChildIdsOfParent(em, actor.parentId) },
      ...currentPlacement(clockOf(em).today()),
    });
    return [...new Set(placements.map((p) => p.group.id))];
  }
  return [];
}

export interface WorkGroup {
  id: number;
  name: string;
  locationName: string;
}

/**
 * The groups (not archived) that staff, a location manager or an admin work in, by location and
 * name: the group pickers of the photo, schriftje and message pages. Parents work in none.
 */
export async function workGroups(em: EntityManager, actor: Actor): Promise<WorkGroup[]> {
  if (actor.kind === 'parent' || actor.kind === 'system') return [];
  const scope = await visibleGroupIds(em, actor);
  if (scope !== 'all' && scope.length === 0) return [];
  const groups = await em.find(
    Group,
    { archivedAt: null, ...(scope === 'all' ? {} : { id: { $in: scope } }) },
    { populate: ['location'], orderBy: { location: { name: 'asc' }, name: 'asc' } },
  );
  return groups.map((g) => ({ id: g.id, name: g.name, locationName: g.location.name }));
}

async function visibleChildIdsOfParent(em: EntityManager, parentId: number): Promise<number[]> {
  const links = await em.find(Guardianship, { parent: parentId });
  return links.map((l) => l.child.id);
}

/** The children the actor may see: own children (parent), children placed now in visible groups. */
export async function visibleChildIds(em: EntityManager, actor: Actor): Promise<Scope> {
  if (isAdmin(actor)) return 'all';
  if (actor.kind === 'parent') return await visibleChildIdsOfParent(em, actor.parentId);
  const groups = await visibleGroupIds(em, actor);
  if (groups === 'all') return 'all';
  const placements = await em.find(Placement, { group: { $in: groups }, ...currentPlacement(clockOf(em).today()) });
  return [...new Set(placements.map((p) => p.child.id))];
}

export async function assertCanSeeChild(em: EntityManager, actor: Actor, childId: number, label: string) {
  const scope = await visibleChildIds(em, actor);
  if (scope !== 'all' && !scope.includes(childId)) throw notFound(label);
}

/**
 * SQL: the groups in which one of a parent's children is placed on a day. Binds three values:
 * parentId, day, day. The one rule for "which groups' photos, messages and announcements a
 * parent sees", shared by every query that needs it.
 */
export const PARENT_GROUPS_SQL = `(
  select pl.group_id from placement pl
    join guardianship g on g.child_id = pl.child_id
   where g.parent_id = ? and pl.start_date <= ?::date and (pl.end_date is null or pl.end_date >= ?::date)
)`;

/** Filter for the placements in force on a day (today: the clock's): started, not yet ended. */
export function currentPlacement(on: string) {
  return { startDate: { $lte: on }, $or: [{ endDate: null }, { endDate: { $gte: on } }] };
}
