import type { EntityManager } from '@mikro-orm/postgresql';
import { parentIdOf } from '../access/index.ts';
import type { Actor } from '../actor.ts';
import { idsInScope } from '../authorization.ts';
import { clockOf } from '../clock.ts';
import { addDays, dayOf } from '../dates.ts';
import { sql } from '../db/sql.ts';
import type { Language } from '../entities/organisation.ts';
import type { DayPart } from '../entities/schedule.ts';
import { closedFor, contractedDays, isoWeekday } from '../schedule/attendance.ts';
import { publicHolidays } from '../schedule/holidays.ts';
import { rulesForLocations } from '../schedule/rules.ts';

/**
 * What a parent's calendar feed lists: per child the days at the opvang (contracted, and the
 * approved swap days), the days cancelled (afgemeld), swap days asked for and not yet decided,
 * and the days the child's location is closed. Only the parent's own children: those the
 * catalogue lets them read the schedule of (`schedule.read`, an active parent's account)
 * AND of whom they are a guardian, so a feed can never carry another family's child.
 *
 * Decisions:
 * - The window is FEED_DAYS_BACK days back to FEED_DAYS_AHEAD days ahead of today (Dutch time):
 *   enough for "when was she last there" and a school term ahead, small enough to answer fast
 *   on every poll of a calendar app.
 * - Childcare days are all-day events (DATE values): the portal knows day parts, not the hours
 *   of a location (its opening hours are free text). A day part is named in the title.
 * - A cancelled day keeps the UID of the day it cancels, so a calendar app updates the event in
 *   place ("afgemeld") instead of showing both. It stays visible (no STATUS:CANCELLED, which some
 *   apps hide): the parent wants to see that the day was called off.
 * - A contracted day on which the location is closed is not listed as a day at the opvang; the
 *   closing day is. Closing days on weekends are left out (the opvang is closed then anyway).
 * - Sick reports are left out: health information does not belong in a third-party calendar.
 * - Booked talks (oudergesprekken) come from core/talks/feed.ts, passed in as a TalkSource (below).
 */

/** How far back the feed reaches, in days from today. */
export const FEED_DAYS_BACK = 60;
/** How far ahead the feed reaches, in days from today. */
export const FEED_DAYS_AHEAD = 180;

export type FeedEventKind = 'day' | 'cancelled' | 'swap' | 'swapRequested' | 'closed' | 'talk';

/** An all-day event on a date, or a timed one (wall-clock times in Europe/Amsterdam). */
export type FeedWhen = { date: string } | { date: string; from: string; until: string };

export interface FeedEvent {
  /** Stable across polls and renewals of the URL: the calendar app updates rather than duplicates. */
  uid: string;
  kind: FeedEventKind;
  when: FeedWhen;
  summary: string;
  location?: string;
  /** Not decided yet (a swap day asked for). */
  tentative?: boolean;
}

export interface FeedWindow {
  from: string;
  until: string;
}

/**
 * The extension point for booked talks (oudergesprekken) and other timed appointments: given the
 * parent's actor, their own children (already checked) and the window, a source returns its
 * events with `when` as a date and wall-clock times. Its UIDs must be stable (e.g. `talk-<id>`).
 */
export type TalkSource = (
  em: EntityManager,
  input: { actor: Actor; childIds: readonly number[]; window: FeedWindow; language: Language },
) => Promise<FeedEvent[]>;

export interface FeedOptions {
  now?: Date;
  language?: Language;
  /** Where booked talks come from (the feed route passes core/talks/feed.ts); none when not given. */
  talkSources?: readonly TalkSource[];
}

const TEXT = {
  nl: {
    day: (child: string) => `${child} naar de opvang`,
    cancelled: (child: string) => `${child} afgemeld`,
    swap: (child: string) => `${child} ruildag`,
    swapRequested: (child: string) => `${child} ruildag aangevraagd`,
    closed: (location: string, holiday: string) => `${location} gesloten: ${holiday}`,
    part: { day: '', morning: 'ochtend', afternoon: 'middag' },
  },
  en: {
    day: (child: string) => `${child} at childcare`,
    cancelled: (child: string) => `${child} cancelled`,
    swap: (child: string) => `${child} swap day`,
    swapRequested: (child: string) => `${child} swap day requested`,
    closed: (location: string, holiday: string) => `${location} closed: ${holiday}`,
    part: { day: '', morning: 'morning', afternoon: 'afternoon' },
  },
} as const;

/** The window of the feed on a day. */
export function feedWindow(today: string): FeedWindow {
  return { from: addDays(today, -FEED_DAYS_BACK), until: addDays(today, FEED_DAYS_AHEAD) };
}

/** The parent's own children the feed may list: in their `schedule.read` scope and theirs by guardianship. */
async function ownChildren(em: EntityManager, actor: Actor): Promise<{ id: number; firstName: string }[]> {
  const parentId = parentIdOf(actor);
  if (parentId === undefined) return [];
  const scope = await idsInScope(em, actor, 'schedule.read');
  if (scope === 'all' || scope.length === 0) return [];
  return await sql<{ id: number; firstName: string }>(
    em,
    `select c.id, c.first_name as "firstName" from child c join guardianship g on g.child_id = c.id
      where g.parent_id = ? and c.id in (select json_array_elements_text(?::json)::int) order by c.first_name, c.id`,
    [parentId, JSON.stringify(scope)],
  );
}

const iso = (value: string | Date): string => (typeof value === 'string' ? value.slice(0, 10) : dayOf(value));

/** The events of the parent's feed, in date order. The actor must be the parent (see links.ts feedOwner). */
export async function feedEvents(em: EntityManager, actor: Actor, options: FeedOptions = {}): Promise<FeedEvent[]> {
  const now = options.now ?? clockOf(em).now();
  const language = options.language ?? 'nl';
  const text = TEXT[language];
  const window = feedWindow(dayOf(now));
  const children = await ownChildren(em, actor);
  if (children.length === 0) return [];
  const childIds = children.map((c) => c.id);
  const nameOf = new Map(children.map((c) => [c.id, c.firstName]));
  const json = JSON.stringify(childIds);

  // Every group and location a child is placed in during the window (also ones they left or go to).
  const groups = await sql<{ id: number; name: string; location_id: number; location_name: string }>(
    em,
    `select distinct cg.id, cg.name, cg.location_id, l.name as location_name
       from placement pl join care_group cg on cg.id = pl.group_id join location l on l.id = cg.location_id
      where pl.child_id in (select json_array_elements_text(?::json)::int)
        and pl.start_date <= ?::date and (pl.end_date is null or pl.end_date >= ?::date)`,
    [json, window.until, window.from],
  );
  const groupOf = new Map(groups.map((g) => [g.id, g]));
  const rules = await rulesForLocations(em, [...new Set(groups.map((g) => g.location_id))]);
  const closedAt = (groupId: number, date: string) => {
    const g = groupOf.get(groupId);
    const r = g && rules.get(g.location_id);
    return r ? closedFor(r, date) : undefined;
  };
  const titled = (base: string, part: DayPart, groupId: number) => {
    const partText = text.part[part];
    const groupName = groupOf.get(groupId)?.name;
    return `${base}${partText ? `, ${partText}` : ''}${groupName ? ` (${groupName})` : ''}`;
  };
  const locationOf = (groupId: number) => {
    const name = groupOf.get(groupId)?.location_name;
    return name ? { location: name } : {};
  };

  const events: FeedEvent[] = [];
  for (const d of await contractedDays(em, { childIds }, window.from, window.until)) {
    if (closedAt(d.groupId, d.date)) continue;
    const child = nameOf.get(d.childId)!;
    const cancelled = d.cancellationId !== null;
    events.push({
      uid: `day-${d.childId}-${d.date}-${d.part}`,
      kind: cancelled ? 'cancelled' : 'day',
      when: { date: d.date },
      summary: titled(cancelled ? text.cancelled(child) : text.day(child), d.part, d.groupId),
      ...locationOf(d.groupId),
    });
  }

  const swaps = await sql<{ id: number; child_id: number; group_id: number; date: string | Date; part: DayPart; status: string }>(
    em,
    `select id, child_id, group_id, to_char(date, 'YYYY-MM-DD') as date, part, status from swap_request
      where child_id in (select json_array_elements_text(?::json)::int) and status in ('approved', 'pending')
        and date between ?::date and ?::date`,
    [json, window.from, window.until],
  );
  for (const s of swaps) {
    const child = nameOf.get(s.child_id)!;
    const approved = s.status === 'approved';
    events.push({
      uid: `swap-${s.id}`,
      kind: approved ? 'swap' : 'swapRequested',
      when: { date: iso(s.date) },
      summary: titled(approved ? text.swap(child) : text.swapRequested(child), s.part, s.group_id),
      ...locationOf(s.group_id),
      ...(!approved && { tentative: true }),
    });
  }

  const locations = new Map(groups.map((g) => [g.location_id, g.location_name]));
  const years = new Set([Number(window.from.slice(0, 4)), Number(window.until.slice(0, 4))]);
  for (const [locationId, locationName] of locations) {
    const r = rules.get(locationId);
    if (!r) continue;
    for (const year of years) {
      for (const h of publicHolidays(year)) {
        if (h.date < window.from || h.date > window.until || isoWeekday(h.date) > 5) continue;
        const name = closedFor(r, h.date);
        if (name) events.push({ uid: `closed-${locationId}-${h.date}`, kind: 'closed', when: { date: h.date }, summary: text.closed(locationName, name) });
      }
    }
  }

  for (const source of options.talkSources ?? []) {
    events.push(...(await source(em, { actor, childIds, window, language })));
  }
  return events.sort((a, b) => a.when.date.localeCompare(b.when.date) || a.uid.localeCompare(b.uid));
}
