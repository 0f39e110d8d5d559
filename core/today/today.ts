import type { EntityManager } from '@mikro-orm/postgresql';
import { authorize, scopeFilter, scopeOf, staffIdOf } from '../access/index.ts';
import type { Actor } from '../actor.ts';
import { currentPlacement, idFilter, idsInScope } from '../authorization.ts';
import { clockOf } from '../clock.ts';
import { sql } from '../db/sql.ts';
import { Placement } from '../entities/child.ts';
import { DiaryEntry } from '../entities/diary.ts';
import { Group } from '../entities/group.ts';
import type { DayPart } from '../entities/schedule.ts';
import { notFound } from '../errors.ts';
import { fullName } from '../people.ts';
import { type PickupView, pickupsOn } from '../pickup/pickup.ts';
import { closedFor, contractedDays, groupHasContracts } from '../schedule/attendance.ts';
import { rulesFor } from '../schedule/rules.ts';
import { type SickReportView, sickOn } from '../schedule/sick.ts';
import { dayAttendance, type ExpectedChild, type PlacedChild } from './expected.ts';

/**
 * Vandaag: one group's day for the people who work in it (`group.today`: staff of the group,
 * the location's manager, an administrator). Who is expected (the schedule with afmeldingen,
 * ruildagen and ziekmeldingen), who is ill, who picks whom up and when, the parents' unread
 * messages in the group, and how far the schriftje is. "Today" is the portal clock's day in
 * Europe/Amsterdam.
 */

export interface TodayGroup {
  id: number;
  name: string;
  location: string;
}

export interface TodayChild extends ExpectedChild {
  pickup: PickupView | null;
  /** Today's schriftje entry by staff is written. */
  diaryWritten: boolean;
}

export interface GroupToday {
  group: TodayGroup;
  day: string;
  /** The name of the public holiday the location is closed for; null on an open day. */
  closed: string | null;
  expected: TodayChild[];
  sick: (ExpectedChild & { report: SickReportView })[];
  cancelled: PlacedChild[];
  /** Conversations in the group with a parent message nobody on this account has read since. */
  unreadThreads: number;
  /** Schriftje progress: staff entries written today for `written` of the `of` children expected. */
  diary: { written: number; of: number };
}

/** The groups (not archived) whose Vandaag the actor sees, by location and name: the group picker. */
export async function todayGroups(em: EntityManager, actor: Actor): Promise<TodayGroup[]> {
  const scope = await idsInScope(em, actor, 'group.today');
  if (scope !== 'all' && scope.length === 0) return [];
  const groups = await em.find(Group, { archivedAt: null, ...idFilter(scope) }, { populate: ['location'], orderBy: { location: { name: 'asc' }, name: 'asc' } });
  return groups.map((g) => ({ id: g.id, name: g.name, location: g.location.name }));
}

/** Approved swap days into a group on a day. */
async function swapsInto(em: EntityManager, groupId: number, day: string): Promise<{ childId: number; part: DayPart }[]> {
  const rows = await sql<{ child_id: number; part: DayPart }>(em, `select child_id, part from swap_request where group_id = ? and date = ?::date and status = 'approved'`, [
    groupId,
    day,
  ]);
  return rows.map((r) => ({ childId: r.child_id, part: r.part }));
}

/**
 * Threads of one group with a parent message this staff member has not opened since: the
 * navigation badge's staff count (core/messages/unread.ts), narrowed to the group, under the
 * same `thread.read` scope.
 */
async function unreadInGroup(em: EntityManager, actor: Actor, groupId: number): Promise<number> {
  const staffId = staffIdOf(actor);
  if (staffId === undefined) return 0;
  const threads = scopeFilter(scopeOf(em, actor, 'thread.read'), 't.id');
  const rows = await sql<{ n: string | number }>(
    em,
    `select count(*) as n from message_thread t
       left join message_read r on r.thread_id = t.id and r.staff_id = ?
      where t.group_id = ? and ${threads.sql}
        and t.last_parent_message_at > coalesce(r.read_at, '-infinity')`,
    [staffId, groupId, ...threads.params],
  );
  return Number(rows[0]?.n ?? 0);
}

/** Vandaag of one group; not found for a group the actor does not work in (or one archived). */
export async function groupToday(em: EntityManager, actor: Actor, groupId: number): Promise<GroupToday> {
  await authorize(em, actor, 'group.today', groupId, 'group');
  const group = await em.findOne(Group, { id: groupId, archivedAt: null }, { populate: ['location'] });
  if (!group) throw notFound('group');
  const day = clockOf(em).today();
  const base = { group: { id: group.id, name: group.name, location: group.location.name }, day, unreadThreads: await unreadInGroup(em, actor, group.id) };
  const closed = closedFor(await rulesFor(em, group.location.id), day) ?? null;
  if (closed) return { ...base, closed, expected: [], sick: [], cancelled: [], diary: { written: 0, of: 0 } };

  const placements = await em.find(Placement, { group: group.id, ...currentPlacement(day) }, { populate: ['child'] });
  const placed = [...new Map(placements.map((p) => [p.child.id, { id: p.child.id, name: fullName(p.child), firstName: p.child.firstName }])).values()];
  const ids = placed.map((c) => c.id);
  const sick = await sickOn(em, ids, day);
  const attendance = dayAttendance({
    placed,
    hasContracts: await groupHasContracts(em, group.id),
    contracted: await contractedDays(em, { groupId: group.id }, day, day),
    swapsIn: await swapsInto(em, group.id, day),
    sickIds: new Set(sick.keys()),
  });
  const expectedIds = attendance.expected.map((c) => c.id);
  const pickups = await pickupsOn(em, expectedIds, day);
  const written = new Set(
    expectedIds.length
      ? (await em.find(DiaryEntry, { child: { $in: expectedIds }, day, authorKind: 'staff' }, { fields: ['child'] })).map((e) => e.child.id)
      : [],
  );
  return {
    ...base,
    closed: null,
    expected: attendance.expected.map((c) => ({ ...c, pickup: pickups.get(c.id) ?? null, diaryWritten: written.has(c.id) })),
    sick: attendance.sick.map((c) => ({ ...c, report: sick.get(c.id)! })),
    cancelled: attendance.cancelled,
    diary: { written: written.size, of: expectedIds.length },
  };
}
