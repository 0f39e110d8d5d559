import type { EntityManager } from '@mikro-orm/postgresql';
import { type Actor, isAdmin } from '../actor.ts';
import { assertCanSeeChild, visibleGroupIds } from '../authorization.ts';
import { Child, type IChild } from '../entities/child.ts';
import { Guardianship } from '../entities/parent.ts';
import { forbidden, notFound } from '../errors.ts';
import { parentIsActive } from '../photos/visibility.ts';

/**
 * Who may do what with contracted days and swaps. A parent acts for the children they are a
 * guardian of; the location manager for the groups of their location; an admin for everyone.
 * Group staff see the requests of their groups (they plan the day) but only a manager or an
 * admin decides. Anything outside the actor's reach is "not found", never "forbidden".
 */

/** Parents for their own children; managers and admins for children of groups in their scope. */
export async function childToActFor(em: EntityManager, actor: Actor, childId: number): Promise<IChild> {
  const missing = notFound('child');
  if (!Number.isSafeInteger(childId) || childId <= 0) throw missing;
  if (actor.kind === 'parent') {
    if (!(await parentIsActive(em, actor.parentId))) throw missing;
    if (!(await em.count(Guardianship, { parent: actor.parentId, child: childId }))) throw missing;
  } else if (actor.kind === 'staff') {
    throw missing;
  } else {
    await assertCanSeeChild(em, actor, childId, 'child');
  }
  const child = await em.findOne(Child, { id: childId });
  if (!child) throw missing;
  return child;
}

/** For an act on a record of a group (a cancellation, a request): is the group in the actor's reach? */
export async function assertGroupInReach(em: EntityManager, actor: Actor, groupId: number, what: string): Promise<void> {
  if (isAdmin(actor) || actor.kind === 'parent') return;
  const scope = await visibleGroupIds(em, actor);
  if (scope !== 'all' && !scope.includes(groupId)) throw notFound(what);
}

/** Who decides on swap requests at all: location managers (for their location) and admins. */
export function decidesSwaps(actor: Actor): boolean {
  return isAdmin(actor) || actor.kind === 'manager';
}

/** Deciding a request: managers of the group's location and admins; staff who can see it are told no. */
export async function assertCanDecide(em: EntityManager, actor: Actor, groupId: number): Promise<void> {
  if (isAdmin(actor)) return;
  if (actor.kind === 'parent') throw notFound('swap request');
  await assertGroupInReach(em, actor, groupId, 'swap request');
  if (!decidesSwaps(actor)) throw forbidden('only the location manager decides on swap requests');
}
