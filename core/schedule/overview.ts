import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor } from '../actor.ts';
import { currentPlacement, idsInScope } from '../authorization.ts';
import { addDays, dayOf } from '../dates.ts';
import { Placement } from '../entities/child.ts';
import { Guardianship } from '../entities/parent.ts';
import type { DayPart } from '../entities/schedule.ts';
import { notFound } from '../errors.ts';
import { sql } from '../db/sql.ts';
import { fullName } from '../people.ts';
import { parentIdOf, sideOf } from '../access/index.ts';
import { childToActFor } from './access.ts';
import { contractedDays } from './attendance.ts';
import { cancelRefusal } from './cancel.ts';
import { balance, type CreditView, creditsOf } from './credits.ts';
import { type Rules, rulesForLocations } from './rules.ts';
import { sickBetween } from './sick.ts';
import { requestsOfChild, type SwapRequestView } from './swaps.ts';
import { clockOf } from '../clock.ts';

/** How far ahead the parent's page lists contracted days. */
export const UPCOMING_DAYS = 28;

export interface UpcomingDay {
  date: string;
  part: DayPart;
  groupName: string;
  cancelled: boolean;
  /** The afmelding of a cancelled day (what the app undoes by id); absent otherwise. */
  cancellationId?: number;
  /** A cancelled day whose afmelding can still be undone (its credit was never asked for). */
  undoable?: boolean;
  /** An approved swap day (ruildag), not a contracted one: cancelling it frees its credit, it earns no new one. */
  swap?: boolean;
  /** The swap request of a swap day (what cancelSwapDay takes). */
  swapRequestId?: number;
  /** Why it cannot be cancelled now (a holiday, past the deadline); absent when it can. */
  refusal?: { code: 'holiday' | 'past' | 'after_deadline'; params: Record<string, string> };
  /**
   * The day is covered by a ziekmelding. It is still a contracted (or swap) day: whether it can
   * be cancelled is decided as for any day, above (core/schedule/sick.ts says why).
   */
  sick?: boolean;
  /** The ziekmelding covering the day (what the parent changes or withdraws); absent when not sick. */
  sickReportId?: number;
}

export interface ChildSchedule {
  child: { id: number; name: string; firstName: string };
  location: { id: number; name: string; phone: string | null } | null;
  groupName: string | null;
  rules: Rules | null;
  days: UpcomingDay[];
  credits: CreditView[];
  balance: { available: number; nextExpiry: string | null };
  requests: SwapRequestView[];
}

export interface ParentChild {
  id: number;
  name: string;
  locationId: number | null;
}

/** The parent's children that are placed today (the child switcher), by name. */
export async function parentChildren(em: EntityManager, actor: Actor, on: string = clockOf(em).today()): Promise<ParentChild[]> {
  // The children the parent acts for (`schedule.act`: their own, while their account is active).
  if (parentIdOf(actor) === undefined) return [];
  const own = await idsInScope(em, actor, 'schedule.act');
  if (own === 'all' || own.length === 0) return [];
  const links = await em.find(Guardianship, { parent: parentIdOf(actor), child: { $in: own } }, { populate: ['child'] });
  const placements = await em.find(
    Placement,
    { child: { $in: links.map((l) => l.child.id) }, ...currentPlacement(on) },
    { populate: ['group'] },
  );
  return links
    .filter((l) => placements.some((p) => p.child.id === l.child.id))
    .map((l) => ({ id: l.child.id, name: fullName(l.child), locationId: placements.find((p) => p.child.id === l.child.id)!.group.location.id }))
    .sort((a, b) => a.name.localeCompare(b.name, 'nl') || a.id - b.id);
}

/** Everything the parent's Afmelden en ruilen page shows for one child. */
export async function childSchedule(em: EntityManager, actor: Actor, childId: number, now: Date = clockOf(em).now()): Promise<ChildSchedule> {
  const child = await childToActFor(em, actor, childId);
  const t = dayOf(now);
  const placement = await em.findOne(Placement, { child: child.id, ...currentPlacement(t) }, { populate: ['group', 'group.location'] });
  // A parent's page is for a child placed now; the manager may still look at one who left.
  if (!placement && sideOf(actor) === 'parent') throw notFound('child');
  const location = placement?.group.location ?? null;
  const rules = location ? (await rulesForLocations(em, [location.id])).get(location.id)! : null;
  const raw = await contractedDays(em, { childIds: [child.id] }, t, addDays(t, UPCOMING_DAYS - 1));
  const groupNames = new Map<number, string>(placement ? [[placement.group.id, placement.group.name]] : []);
  const days: UpcomingDay[] = raw.map((d) => {
    const refusal = rules ? cancelRefusal(rules, d.date, now) : undefined;
    return {
      date: d.date,
      part: d.part,
      groupName: groupNames.get(d.groupId) ?? '',
      cancelled: d.cancellationId !== null,
      ...(d.cancellationId !== null && { cancellationId: d.cancellationId }),
      ...(refusal && { refusal }),
    };
  });
  const requests = await requestsOfChild(em, actor, child.id);
  const last = addDays(t, UPCOMING_DAYS - 1);
  for (const r of requests) {
    if (r.status === 'approved' && r.date >= t && r.date <= last) {
      const refusal = rules ? cancelRefusal(rules, r.date, now) : undefined;
      days.push({ date: r.date, part: r.part, groupName: r.groupName, cancelled: false, swap: true, swapRequestId: r.id, ...(refusal && { refusal }) });
    }
  }
  days.sort((a, b) => a.date.localeCompare(b.date));
  // Reports do not overlap (reportSick merges them); the first covering a day is its report.
  const reports = await sickBetween(em, child.id, t, last);
  for (const d of days) {
    const report = reports.find((r) => r.fromDate <= d.date && d.date <= r.untilDate);
    if (report) Object.assign(d, { sick: true, sickReportId: report.id });
  }
  const credits = (await creditsOf(em, [child.id], now)).get(child.id) ?? [];
  for (const d of days) {
    if (!d.cancelled || d.refusal) continue;
    const credit = credits.find((cr) => cr.sourceDate === d.date);
    d.undoable = !credit || !requests.some((r) => r.creditId === credit.id);
  }
  return {
    child: { id: child.id, name: fullName(child), firstName: child.firstName },
    location: location ? { id: location.id, name: location.name, phone: location.phone ?? null } : null,
    groupName: placement?.group.name ?? null,
    rules,
    days,
    credits,
    balance: balance(credits),
    requests,
  };
}

export interface LocationSwapSummary {
  childId: number;
  name: string;
  available: number;
  nextExpiry: string | null;
  openRequests: number;
}

/** Mijn vestiging: per child of the parent at that location, the credit balance and open requests. */
export async function swapSummaryAt(em: EntityManager, actor: Actor, locationId: number, now: Date = clockOf(em).now()): Promise<LocationSwapSummary[]> {
  const children = (await parentChildren(em, actor, dayOf(now))).filter((c) => c.locationId === locationId);
  if (children.length === 0) return [];
  // An organisation that does not import contracted days has nothing to show here.
  const contracted = await sql(
    em,
    `select 1 from contract_day where child_id in (select json_array_elements_text(?::json)::int)
     union all select 1 from swap_credit where child_id in (select json_array_elements_text(?::json)::int) limit 1`,
    [JSON.stringify(children.map((c) => c.id)), JSON.stringify(children.map((c) => c.id))],
  );
  if (contracted.length === 0) return [];
  const credits = await creditsOf(em, children.map((c) => c.id), now);
  const summaries: LocationSwapSummary[] = [];
  for (const c of children) {
    const list = credits.get(c.id) ?? [];
    const b = balance(list);
    summaries.push({
      childId: c.id,
      name: c.name,
      available: b.available,
      nextExpiry: b.nextExpiry,
      openRequests: list.filter((x) => x.state === 'requested').length,
    });
  }
  return summaries;
}
