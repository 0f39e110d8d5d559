import type { EntityManager } from '@mikro-orm/postgresql';
import { authorize, can, scopeOf } from '../access/index.ts';
import type { Actor } from '../actor.ts';
import { Child, type IChild } from '../entities/child.ts';
import { forbidden, notFound } from '../errors.ts';

/**
 * Contracted days and swaps, as the catalogue says (core/access/): a parent acts for the
 * children they are a guardian of; the location manager for the groups of their location; an
 * admin for everyone. Group staff see the requests of their groups (they plan the day) but only
 * a manager or an admin decides. Anything outside the actor's reach is "not found".
 */

/** The child if the actor may cancel and swap its days (`schedule.act`); not found otherwise. */
export async function childToActFor(em: EntityManager, actor: Actor, childId: number): Promise<IChild> {
  await authorize(em, actor, 'schedule.act', childId, 'child');
  const child = await em.findOne(Child, { id: childId });
  if (!child) throw notFound('child');
  return child;
}

/** For an act on a contracted day of a group: is the group in the actor's reach (`group.days`)? */
export async function assertGroupInReach(em: EntityManager, actor: Actor, groupId: number, what: string): Promise<void> {
  await authorize(em, actor, 'group.days', groupId, what);
}

/** Whether the actor decides on swap requests anywhere (`swap.decide`): the requests page is theirs. */
export function decidesSwaps(em: EntityManager, actor: Actor): boolean {
  return scopeOf(em, actor, 'swap.decide').kind !== 'none';
}

/**
 * Deciding a request (`swapRequest.decide`): managers of the group's location and admins. Staff
 * of the group (`group.work`) are told no; anyone else that it does not exist.
 */
export async function assertCanDecide(em: EntityManager, actor: Actor, requestId: number, groupId: number): Promise<void> {
  if (await can(em, actor, 'swapRequest.decide', requestId)) return;
  if (await can(em, actor, 'group.work', groupId)) throw forbidden('only the location manager decides on swap requests');
  throw notFound('swap request');
}
