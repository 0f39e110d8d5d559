import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor } from '../actor.ts';
import { currentPlacement, workGroups } from '../authorization.ts';
import { addDays } from '../dates.ts';
import { Placement } from '../entities/child.ts';
import { DiaryEntry } from '../entities/diary.ts';
import { notFound } from '../errors.ts';
import { fullName } from '../people.ts';
import type { DiaryPhoto } from '../photos/visibility.ts';
import { attendingChildIds, groupHasContracts } from '../schedule/attendance.ts';
import { childForActor } from './access.ts';
import { type DiaryEntryView, type DiarySettings, diaryEntryViews, photoCandidates } from './entries.ts';
import { clockOf } from '../clock.ts';

/**
 * The staff side of the schriftje: one screen per group and day with a row per child (the
 * staff entry so far, the parents' entries of yesterday and today, and the photos of the day
 * that may be attached).
 */

export interface GroupChoice {
  id: number;
  name: string;
  location: string;
}

/** The groups (not archived) whose schriftje the actor writes, by location and name. */
export async function diaryGroups(em: EntityManager, actor: Actor): Promise<GroupChoice[]> {
  return (await workGroups(em, actor)).map((g) => ({ id: g.id, name: g.name, location: g.locationName }));
}

/**
 * The children expected in a group on a day. Where the group's contracted days are imported
 * (`portal schedule import`), those attending: contracted and not cancelled, plus approved
 * swaps in. A group without any contract rows (an organisation that does not import
 * schedules) lists every child placed in it that day.
 */
export async function presentChildren(
  em: EntityManager,
  groupId: number,
  day: string,
): Promise<{ id: number; name: string; firstName: string }[]> {
  const placements = await em.find(Placement, { group: groupId, ...currentPlacement(day) }, { populate: ['child'] });
  let children = new Map(placements.map((p) => [p.child.id, p.child]));
  if (await groupHasContracts(em, groupId)) {
    const attending = new Set(await attendingChildIds(em, groupId, day));
    children = new Map([...children].filter(([id]) => attending.has(id)));
  }
  return [...children.values()]
    .map((c) => ({ id: c.id, name: fullName(c), firstName: c.firstName }))
    .sort((a, b) => a.name.localeCompare(b.name, 'nl') || a.id - b.id);
}

export interface DaySheetRow {
  child: { id: number; name: string; firstName: string };
  /** Today's staff entry, when one was saved. */
  entry: DiaryEntryView | null;
  /** Parents' entries of yesterday and today, newest first, "nieuw" where this staff member has not seen them. */
  parentEntries: DiaryEntryView[];
  /** Photos of today in which the child is tagged and that may be shared. */
  photos: DiaryPhoto[];
}

export interface DaySheet {
  group: GroupChoice;
  day: string;
  lines: readonly string[];
  rows: DaySheetRow[];
}

async function rowsFor(
  em: EntityManager,
  actor: Actor,
  children: { id: number; name: string; firstName: string }[],
  day: string,
): Promise<DaySheetRow[]> {
  if (children.length === 0) return [];
  const entries = await em.find(
    DiaryEntry,
    { child: { $in: children.map((c) => c.id) }, day: { $gte: addDays(day, -1), $lte: day } },
    { orderBy: { createdAt: 'desc', id: 'asc' } },
  );
  const all = await diaryEntryViews(em, actor, entries);
  const rows: DaySheetRow[] = [];
  for (const child of children) {
    const own = all.filter((e) => e.childId === child.id);
    rows.push({
      child,
      entry: own.find((e) => e.authorKind === 'staff' && e.day === day) ?? null,
      parentEntries: own.filter((e) => e.authorKind === 'parent'),
      photos: await photoCandidates(em, actor, child.id),
    });
  }
  return rows;
}

/** The day sheet of a group for today; not found for a group the actor does not work in. */
export async function staffDaySheet(em: EntityManager, actor: Actor, settings: DiarySettings, groupId: number): Promise<DaySheet> {
  const group = (await diaryGroups(em, actor)).find((g) => g.id === groupId);
  if (!group) throw notFound('group');
  const day = clockOf(em).today();
  return { group, day, lines: settings.lines, rows: await rowsFor(em, actor, await presentChildren(em, group.id, day), day) };
}

/** One child's row of the day sheet (what htmx swaps in after saving that row). */
export async function staffDayRow(em: EntityManager, actor: Actor, childId: number): Promise<DaySheetRow> {
  const child = await childForActor(em, actor, childId, 'diary.write.staff');
  const [row] = await rowsFor(em, actor, [{ id: child.id, name: fullName(child), firstName: child.firstName }], clockOf(em).today());
  return row!;
}
