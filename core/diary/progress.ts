import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor } from '../actor.ts';
import { clockOf } from '../clock.ts';
import { parseDate } from '../dates.ts';
import { invalid, notFound } from '../errors.ts';
import { diaryGroups, presentChildren } from './day-sheet.ts';

/**
 * "Written for n of m children": of the children expected in a group on a day (schedule with
 * cancellations and swaps, see presentChildren), those whose staff entry says something: a note,
 * a photo, an old line or at least one quick pick. An entry left empty after its picks were taken
 * back does not count. For the group's schriftje screen and the staff "Vandaag" page alike.
 */

export interface DiaryProgress {
  groupId: number;
  day: string;
  /** m: children expected that day. */
  expected: number;
  /** n: of those, children with something written. */
  written: number;
  /** The expected children with nothing written yet, by name (what to do next). */
  missing: { id: number; firstName: string }[];
}

/** Progress of a group's schriftje on a day (default: today); not found for a group the actor does not work in. */
export async function diaryProgress(em: EntityManager, actor: Actor, groupId: number, date?: string): Promise<DiaryProgress> {
  const day = date === undefined ? clockOf(em).today() : parseDate(date);
  if (!day) throw invalid('date', 'not a date');
  if (!(await diaryGroups(em, actor)).some((g) => g.id === groupId)) throw notFound('group');
  const children = await presentChildren(em, groupId, day);
  if (children.length === 0) return { groupId, day, expected: 0, written: 0, missing: [] };
  const rows = (await em.getConnection().execute(
    `select e.child_id from diary_entry e
      where e.child_id = any(?::int[]) and e.day = ?::date and e.author_kind = 'staff'
        and (e.text <> '' or jsonb_array_length(e.photo_ids) > 0 or jsonb_array_length(e.lines) > 0
             or exists (select 1 from diary_item i where i.entry_id = e.id))`,
    [`{${children.map((c) => c.id).join(',')}}`, day],
  )) as { child_id: number }[];
  const written = new Set(rows.map((r) => Number(r.child_id)));
  return {
    groupId,
    day,
    expected: children.length,
    written: children.filter((c) => written.has(c.id)).length,
    missing: children.filter((c) => !written.has(c.id)).map((c) => ({ id: c.id, firstName: c.firstName })),
  };
}
