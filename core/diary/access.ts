import type { EntityManager } from '@mikro-orm/postgresql';
import { type ActionName, authorize, parentIdOf, staffIdOf } from '../access/index.ts';
import type { Actor } from '../actor.ts';
import { currentPlacement, idsInScope } from '../authorization.ts';
import { Child, type IChild, Placement } from '../entities/child.ts';
import { DiaryEntry, type IDiaryEntry } from '../entities/diary.ts';
import { Parent } from '../entities/parent.ts';
import { Staff } from '../entities/staff.ts';
import { notFound } from '../errors.ts';
import { fullName } from '../people.ts';

/**
 * Who may open which schriftje (privacy invariant 3), as the catalogue says (`diary.read`): a
 * parent only their own children's, staff the children placed now in the groups they work in
 * (the location manager: the location's groups; admins: all). Everything else is "not found",
 * whether it exists or not.
 */

type ChildAction = Extract<ActionName, 'diary.read' | 'diary.write.parent' | 'diary.write.staff' | 'child.photos.read' | 'child.read'>;

/** The child if the actor may take the action on it (default: read its schriftje); not found otherwise. */
export async function childForActor(em: EntityManager, actor: Actor, childId: number, action: ChildAction = 'diary.read'): Promise<IChild> {
  await authorize(em, actor, action, childId, 'child');
  const child = await em.findOne(Child, { id: childId });
  if (!child) throw notFound('child');
  return child;
}

/** The entry if the actor may see the schriftje it belongs to (`diaryEntry.read`); not found otherwise. */
export async function entryForActor(em: EntityManager, actor: Actor, entryId: string): Promise<IDiaryEntry> {
  await authorize(em, actor, 'diaryEntry.read', entryId, 'diary entry');
  const entry = await em.findOne(DiaryEntry, { id: entryId });
  if (!entry) throw notFound('diary entry');
  return entry;
}

/** The groups the child is placed in today among those the actor sees (`group.read`). */
export async function childGroupsForActor(em: EntityManager, actor: Actor, childId: number, day: string): Promise<number[]> {
  const scope = await idsInScope(em, actor, 'group.read');
  const placements = await em.find(Placement, { child: childId, ...currentPlacement(day) });
  return [...new Set(placements.map((p) => p.group.id))].filter((g) => scope === 'all' || scope.includes(g));
}

/** The name shown beside what the actor writes ("Mia Jansen"); the actor's label for a CLI admin. */
export async function authorName(em: EntityManager, actor: Actor): Promise<string> {
  const parentId = parentIdOf(actor);
  if (parentId !== undefined) {
    const parent = await em.findOne(Parent, { id: parentId });
    return parent ? fullName(parent) : actor.label;
  }
  const staffId = staffIdOf(actor);
  if (staffId !== undefined) {
    const staff = await em.findOne(Staff, { id: staffId });
    return staff ? fullName(staff) : actor.label;
  }
  return actor.label;
}
