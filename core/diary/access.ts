import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor } from '../actor.ts';
import { assertCanSeeChild, currentPlacement, visibleGroupIds } from '../authorization.ts';
import { Child, type IChild, Placement } from '../entities/child.ts';
import { DiaryEntry, type IDiaryEntry } from '../entities/diary.ts';
import { Parent } from '../entities/parent.ts';
import { Staff } from '../entities/staff.ts';
import { notFound } from '../errors.ts';
import { fullName } from '../people.ts';
import { parentIsActive } from '../photos/visibility.ts';

/**
 * Who may open which schriftje (privacy invariant 3): a parent only their own children's, staff
 * the children placed now in the groups they work in (the location manager: the location's
 * groups; admins: all). Everything else is "not found", whether it exists or not.
 */

/** The child if the actor may see its schriftje; not found otherwise. */
export async function childForActor(em: EntityManager, actor: Actor, childId: number): Promise<IChild> {
  const missing = notFound('child');
  if (!Number.isSafeInteger(childId) || childId <= 0) throw missing;
  if (actor.kind === 'parent' && !(await parentIsActive(em, actor.parentId))) throw missing;
  await assertCanSeeChild(em, actor, childId, 'child');
  const child = await em.findOne(Child, { id: childId });
  if (!child) throw missing;
  return child;
}

/** The entry if the actor may see the schriftje it belongs to; not found otherwise. */
export async function entryForActor(em: EntityManager, actor: Actor, entryId: string): Promise<IDiaryEntry> {
  const missing = notFound('diary entry');
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(entryId)) throw missing;
  const entry = await em.findOne(DiaryEntry, { id: entryId });
  if (!entry) throw missing;
  await childForActor(em, actor, entry.child.id).catch(() => {
    throw missing;
  });
  return entry;
}

/** The groups the child is placed in today among those the actor works in. */
export async function childGroupsForActor(em: EntityManager, actor: Actor, childId: number, day: string): Promise<number[]> {
  const scope = await visibleGroupIds(em, actor);
  const placements = await em.find(Placement, { child: childId, ...currentPlacement(day) });
  return [...new Set(placements.map((p) => p.group.id))].filter((g) => scope === 'all' || scope.includes(g));
}

/** The name shown beside what the actor writes ("Mia Jansen"); the actor's label for a CLI admin. */
export async function authorName(em: EntityManager, actor: Actor): Promise<string> {
  if (actor.kind === 'parent') {
    const parent = await em.findOne(Parent, { id: actor.parentId });
    return parent ? fullName(parent) : actor.label;
  }
  if ((actor.kind === 'staff' || actor.kind === 'manager' || actor.kind === 'admin') && actor.staffId !== undefined) {
    const staff = await em.findOne(Staff, { id: actor.staffId });
    return staff ? fullName(staff) : actor.label;
  }
  return actor.label;
}
