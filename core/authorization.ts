import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor } from './actor.ts';
import { type ActionName, authorize, scopeIds } from './access/index.ts';
import { Group } from './entities/group.ts';

/**
 * List helpers over the access catalogue (core/access/): a list query takes its filter from an
 * action's scope, so a forgotten check returns nothing rather than everything, and a record
 * outside the scope is reported as not found (never "forbidden", which would confirm that it
 * exists).
 */

export type Scope = 'all' | number[];

/** The ids of an action's objects the actor may act on, for ORM filters. */
export const idsInScope = (em: EntityManager, actor: Actor, action: ActionName): Promise<Scope> => scopeIds(em, actor, action);

export const inScope = (scope: Scope, id: number) => scope === 'all' || scope.includes(id);

/** An ORM filter on `id` for a scope. */
export const idFilter = (scope: Scope) => (scope === 'all' ? {} : { id: { $in: scope } });

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
  const scope = await idsInScope(em, actor, 'group.work');
  if (scope !== 'all' && scope.length === 0) return [];
  const groups = await em.find(
    Group,
    { archivedAt: null, ...idFilter(scope) },
    { populate: ['location'], orderBy: { location: { name: 'asc' }, name: 'asc' } },
  );
  return groups.map((g) => ({ id: g.id, name: g.name, locationName: g.location.name }));
}

/** The child if the actor may see it: `child.read`, not found otherwise. */
export async function assertCanSeeChild(em: EntityManager, actor: Actor, childId: number, label: string) {
  await authorize(em, actor, 'child.read', childId, label);
}

/** Filter for the placements in force on a day (today: the clock's): started, not yet ended. */
export function currentPlacement(on: string) {
  return { startDate: { $lte: on }, $or: [{ endDate: null }, { endDate: { $gte: on } }] };
}
