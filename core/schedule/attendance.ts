import type { EntityManager } from '@mikro-orm/postgresql';
import type { DayPart } from '../entities/schedule.ts';
import { sql } from '../db/sql.ts';
import { publicHoliday } from './holidays.ts';
import type { Rules } from './rules.ts';

/**
 * Who comes when: contracted days (from the planning system) minus cancellations, plus approved
 * swaps into the group. The one place that answers "is this child there on this day" and "how
 * full is this group", for the parent's page, the manager's decision and the schriftje's list.
 */

/** ISO weekday of a 'YYYY-MM-DD' date: 1 = Monday … 7 = Sunday. */
export function isoWeekday(date: string): number {
  const d = new Date(`${date}T00:00:00Z`).getUTCDay();
  return d === 0 ? 7 : d;
}

/** The halves a part covers: a whole day counts in the morning and in the afternoon. */
export function halves(part: DayPart): ('morning' | 'afternoon')[] {
  return part === 'day' ? ['morning', 'afternoon'] : [part];
}

export const overlaps = (a: DayPart, b: DayPart) => a === 'day' || b === 'day' || a === b;

/** Closed that day by the location's rules (a Dutch public holiday): its name, else undefined. */
export function closedFor(rules: Pick<Rules, 'closedOnPublicHolidays'>, date: string): string | undefined {
  return rules.closedOnPublicHolidays ? publicHoliday(date)?.name : undefined;
}

export interface ContractedDay {
  childId: number;
  groupId: number;
  date: string;
  part: DayPart;
  /** The afmelding of this day, if any. */
  cancellationId: number | null;
}

/**
 * The contracted days of some children (or of one group) from `from` to `to` inclusive, while
 * the child is placed in that group. Holidays are not filtered here (that is a rule of the
 * location: see closedFor).
 */
export async function contractedDays(
  em: EntityManager,
  filter: { childIds: number[] } | { groupId: number },
  from: string,
  to: string,
): Promise<ContractedDay[]> {
  const byChild = 'childIds' in filter;
  if (byChild && filter.childIds.length === 0) return [];
  const rows = await sql<{ child_id: number; group_id: number; date: string; part: DayPart; cancellation_id: number | null }>(
    em,
    // Plain timestamps (not timestamptz), so the days do not depend on the session's time zone.
    `select cd.child_id, cd.group_id, to_char(d.day, 'YYYY-MM-DD') as date, cd.part, dc.id as cancellation_id
       from (select g::date as day from generate_series(?::timestamp, ?::timestamp, interval '1 day') as g) as d
       join contract_day cd on cd.weekday = extract(isodow from d.day)
        and cd.valid_from <= d.day and (cd.valid_until is null or cd.valid_until >= d.day)
       join placement pl on pl.child_id = cd.child_id and pl.group_id = cd.group_id
        and pl.start_date <= d.day and (pl.end_date is null or pl.end_date >= d.day)
       left join day_cancellation dc on dc.child_id = cd.child_id and dc.date = d.day and dc.part = cd.part
      where ${byChild ? 'cd.child_id in (select json_array_elements_text(?::json)::int)' : 'cd.group_id = ?'}
      order by d.day, cd.child_id`,
    [from, to, byChild ? JSON.stringify(filter.childIds) : filter.groupId],
  );
  const seen = new Set<string>();
  return rows
    .filter((r) => {
      // Two placements overlapping on a move day would list a day twice.
      const key = `${r.child_id}/${r.date}/${r.part}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .map((r) => ({ childId: r.child_id, groupId: r.group_id, date: r.date, part: r.part, cancellationId: r.cancellation_id }));
}

export interface Occupancy {
  morning: number;
  afternoon: number;
  /** care_group.capacity; null: no maximum set. */
  capacity: number | null;
}

/** Places taken in a group on a date, per half day: contracted and not cancelled, plus approved swaps in. */
export async function occupancy(em: EntityManager, groupId: number, date: string): Promise<Occupancy> {
  const days = await contractedDays(em, { groupId }, date, date);
  const swaps = await sql<{ child_id: number; part: DayPart }>(
    em,
    `select child_id, part from swap_request where group_id = ? and date = ?::date and status = 'approved'`,
    [groupId, date],
  );
  const [group] = await sql<{ capacity: number | null }>(em, 'select capacity from care_group where id = ?', [groupId]);
  const taken = { morning: new Set<number>(), afternoon: new Set<number>() };
  for (const d of days) if (d.cancellationId === null) for (const h of halves(d.part)) taken[h].add(d.childId);
  for (const s of swaps) for (const h of halves(s.part)) taken[h].add(s.child_id);
  return { morning: taken.morning.size, afternoon: taken.afternoon.size, capacity: group?.capacity ?? null };
}

/** Places taken for a part: the fuller of the halves it covers. */
export function takenFor(o: Occupancy, part: DayPart): number {
  return Math.max(...halves(part).map((h) => o[h]));
}

/** Whether one more child fits for that part (always, without a capacity). */
export function hasRoom(o: Occupancy, part: DayPart): boolean {
  return o.capacity === null || takenFor(o, part) < o.capacity;
}

/** The children in a group on a day: contracted and not cancelled (any part), plus approved swaps in. */
export async function attendingChildIds(em: EntityManager, groupId: number, date: string): Promise<number[]> {
  const days = await contractedDays(em, { groupId }, date, date);
  const swaps = await sql<{ child_id: number }>(
    em,
    `select child_id from swap_request where group_id = ? and date = ?::date and status = 'approved'`,
    [groupId, date],
  );
  return [...new Set([...days.filter((d) => d.cancellationId === null).map((d) => d.childId), ...swaps.map((s) => s.child_id)])];
}

/** Whether the group has any contract data (a group without it lists every placed child). */
export async function groupHasContracts(em: EntityManager, groupId: number): Promise<boolean> {
  const rows = await sql(em, 'select 1 from contract_day where group_id = ? limit 1', [groupId]);
  return rows.length > 0;
}

/** Whether the child already comes that day for (part of) that part: contracted and not cancelled, or an approved swap. */
export async function alreadyThere(em: EntityManager, childId: number, date: string, part: DayPart): Promise<boolean> {
  const days = await contractedDays(em, { childIds: [childId] }, date, date);
  if (days.some((d) => d.cancellationId === null && overlaps(d.part, part))) return true;
  const swaps = await sql<{ part: DayPart }>(
    em,
    `select part from swap_request where child_id = ? and date = ?::date and status in ('pending', 'approved')`,
    [childId, date],
  );
  return swaps.some((s) => overlaps(s.part, part));
}

