import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor } from '../actor.ts';
import { audit } from '../audit.ts';
import { authorize, parentIdOf, scopeFilter, scopeOf } from '../access/index.ts';
import { dayOf } from '../dates.ts';
import { inTransaction } from '../db/errors.ts';
import { Group } from '../entities/group.ts';
import { type DayPart, SwapCredit, SwapRequest, type SwapStatus } from '../entities/schedule.ts';
import { invalid, notFound } from '../errors.ts';
import { sql } from '../db/sql.ts';
import { fullName } from '../people.ts';
import { assertCanDecide, childToActFor } from './access.ts';
import { alreadyThere, closedFor, hasRoom, isoWeekday, type Occupancy, occupancy } from './attendance.ts';
import { cancelRefusal } from './cancel.ts';
import { type DecisionMailContext, enqueueDecisionMail } from './decision-mail.ts';
import { refuse } from './refusal.ts';
import { earliestSwapDate, rulesFor } from './rules.ts';
import { clockOf } from '../clock.ts';

/**
 * Ruilen: a parent asks to use a credit on another day in the same group; the location manager
 * approves or rejects it. Every rule is checked here (core), with the location's rules as data:
 * the same values the FAQ quotes.
 */

export interface SwapRequestInput {
  childId: number;
  creditId: number;
  date: string;
}

const isDate = (s: string) => /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(Date.parse(`${s}T00:00:00Z`));

export async function requestSwap(em: EntityManager, actor: Actor, input: SwapRequestInput, now: Date = clockOf(em).now()): Promise<{ requestId: number }> {
  const child = await childToActFor(em, actor, input.childId);
  const credit = Number.isSafeInteger(input.creditId) ? await em.findOne(SwapCredit, { id: input.creditId, child: child.id }) : null;
  if (!credit) throw notFound('credit');
  await authorize(em, actor, 'credit.use', credit.id, 'credit');
  const date = input.date.trim();
  if (!isDate(date)) throw invalid('date', 'expected a date (YYYY-MM-DD)');
  const group = await em.findOneOrFail(Group, { id: credit.group.id });
  const rules = await rulesFor(em, group.location.id);
  const t = dayOf(now);
  const part: DayPart = credit.part;
  if (part !== 'day' && !rules.halfDaysSwappable) throw refuse('whole_days_only');
  if (credit.expiresOn < t) throw refuse('credit_expired', { date: credit.expiresOn });
  if (isoWeekday(date) > 5) throw refuse('weekend');
  const holiday = closedFor(rules, date);
  if (holiday) throw refuse('holiday', { name: holiday });
  const earliest = earliestSwapDate(rules, t);
  if (date < earliest) throw refuse('notice', { days: String(rules.swapNoticeDays), date: earliest });
  if (date > credit.expiresOn) throw refuse('after_expiry', { date: credit.expiresOn });
  const placed = await sql(
    em,
    'select 1 from placement where child_id = ? and group_id = ? and start_date <= ?::date and (end_date is null or end_date >= ?::date)',
    [child.id, group.id, date, date],
  );
  if (placed.length === 0) throw refuse('not_placed');
  if (await alreadyThere(em, child.id, date, part)) throw refuse('already_there');
  if ((await em.count(SwapRequest, { credit: credit.id, status: { $in: ['pending', 'approved'] } })) > 0) throw refuse('credit_in_use');
  if (!hasRoom(await occupancy(em, group.id, date), part)) throw refuse('full');

  try {
    return await em.transactional(async (tx) => {
      const request = tx.create(SwapRequest, {
        child: child.id,
        group: group.id,
        credit: credit.id,
        date,
        part,
        status: 'pending',
        requestedBy: actor.label,
        requestedByParent: parentIdOf(actor) ?? null,
      });
      await tx.flush();
      audit(tx, { type: 'swap.requested', actor, subject: child.childNumber, details: { requestId: request.id, date, part, groupId: group.id, creditId: credit.id } });
      await tx.flush();
      return { requestId: request.id };
    });
  } catch (err) {
    // The partial unique index: the same credit asked for twice at the same moment.
    if (err instanceof UniqueConstraintViolationException) throw refuse('credit_in_use');
    throw err;
  }
}

/** A parent takes back a pending request; its credit is free again. */
export async function withdrawSwap(em: EntityManager, actor: Actor, requestId: number): Promise<void> {
  const request = Number.isSafeInteger(requestId) ? await em.findOne(SwapRequest, { id: requestId }, { populate: ['child'] }) : null;
  if (!request) throw notFound('swap request');
  await authorize(em, actor, 'swapRequest.withdraw', request.id, 'swap request');
  await inTransaction(em, async (tx) => {
    const [row] = await sql<{ status: SwapStatus }>(tx, 'select status from swap_request where id = ? for update', [requestId]);
    if (row?.status !== 'pending') throw refuse('not_pending');
    await sql(tx, `update swap_request set status = 'withdrawn', decided_by = ?, decided_at = ? where id = ?`, [actor.label, clockOf(tx).now(), requestId]);
    audit(tx, { type: 'swap.withdrawn', actor, subject: request.child.childNumber, details: { requestId } });
    await tx.flush();
  });
}

/**
 * A parent calls off an approved swap day (the child is ill after all): under the same deadline
 * as afmelden, so the group knows in time. The place is free again for others, and the credit
 * is free again for another request until it expires (its expiry never moves, so a credit
 * cannot be carried forward by swapping and calling off). The manager sees it under recent decisions.
 */
export async function cancelSwapDay(em: EntityManager, actor: Actor, requestId: number, now: Date = clockOf(em).now()): Promise<void> {
  const request = Number.isSafeInteger(requestId) ? await em.findOne(SwapRequest, { id: requestId }, { populate: ['child', 'group'] }) : null;
  if (!request) throw notFound('swap request');
  await authorize(em, actor, 'swapRequest.withdraw', request.id, 'swap request');
  const rules = await rulesFor(em, request.group.location.id);
  await inTransaction(em, async (tx) => {
    const [row] = await sql<{ status: SwapStatus; date: string; part: DayPart }>(
      tx,
      `select status, to_char(date, 'YYYY-MM-DD') as date, part from swap_request where id = ? for update`,
      [requestId],
    );
    if (row?.status !== 'approved') throw refuse('not_approved');
    const refusal = cancelRefusal(rules, row.date, now);
    if (refusal) throw refuse(refusal.code, refusal.params);
    await sql(tx, `update swap_request set status = 'cancelled' where id = ?`, [requestId]);
    audit(tx, { type: 'swap.day_cancelled', actor, subject: request.child.childNumber, details: { requestId, date: row.date, part: row.part } });
    await tx.flush();
  });
}

export interface Decision {
  approve: boolean;
  /** Required for a rejection: the parent reads it on the page and in the mail. */
  reason?: string;
}

/**
 * The manager's decision. Approval re-checks capacity inside a transaction that holds the
 * group's row lock (`select … for update`), so two approvals for the same day wait for each
 * other and cannot overfill it. The parent hears of the decision by e-mail (queued in the same
 * transaction).
 */
export async function decideSwap(
  em: EntityManager,
  ctx: DecisionMailContext,
  actor: Actor,
  requestId: number,
  decision: Decision,
): Promise<{ status: 'approved' | 'rejected' }> {
  const request = Number.isSafeInteger(requestId) ? await em.findOne(SwapRequest, { id: requestId }, { populate: ['child'] }) : null;
  if (!request) throw notFound('swap request');
  await assertCanDecide(em, actor, request.id, request.group.id);
  const reason = decision.reason?.trim() ?? '';
  if (!decision.approve && reason === '') throw refuse('reason_required');
  if (reason.length > 500) throw invalid('reason', 'at most 500 characters');
  const status = decision.approve ? 'approved' : 'rejected';
  return await inTransaction(em, async (tx) => {
    await sql(tx, 'select id from care_group where id = ? for update', [request.group.id]);
    const [row] = await sql<{ status: SwapStatus; date: string; part: DayPart }>(
      tx,
      `select status, to_char(date, 'YYYY-MM-DD') as date, part from swap_request where id = ? for update`,
      [requestId],
    );
    if (row?.status !== 'pending') throw refuse('not_pending');
    if (decision.approve && !hasRoom(await occupancy(tx, request.group.id, row.date), row.part)) throw refuse('full');
    await sql(tx, 'update swap_request set status = ?, reason = ?, decided_by = ?, decided_at = ? where id = ?', [
      status,
      decision.approve ? reason || null : reason,
      actor.label,
      clockOf(tx).now(),
      requestId,
    ]);
    audit(tx, { type: decision.approve ? 'swap.approved' : 'swap.rejected', actor, subject: request.child.childNumber, details: { requestId, date: row.date, part: row.part, reason: reason || null } });
    await tx.flush();
    await enqueueDecisionMail(ctx, tx, { requestId });
    return { status };
  });
}

export interface SwapRequestView {
  id: number;
  childId: number;
  childName: string;
  childNumber: string;
  groupId: number;
  groupName: string;
  locationName: string;
  date: string;
  part: DayPart;
  status: SwapStatus;
  reason: string | null;
  requestedBy: string;
  decidedBy: string | null;
  decidedAt: string | null;
  createdAt: string;
  creditId: number;
  /** For pending requests: the group's occupancy that day (the manager's page shows it). */
  occupancy?: Occupancy;
}

interface RequestRow {
  id: number;
  child_id: number;
  first_name: string;
  infix: string | null;
  last_name: string;
  child_number: string;
  group_id: number;
  group_name: string;
  location_name: string;
  date: string;
  part: DayPart;
  status: SwapStatus;
  reason: string | null;
  requested_by: string;
  decided_by: string | null;
  decided_at: Date | null;
  created_at: Date;
  credit_id: number;
}

/**
 * Who decided, by name ("Anna de Vries"), not by the audit label stored with the request
 * ("web:anna@…", "cli:root"): the label names the login, which parents should not read. A login
 * that has since changed address, or the terminal, falls back to the label without its prefix.
 */
const DECIDER_NAME = `case when r.decided_by is null then null else coalesce(
    nullif(concat_ws(' ', ds.first_name, ds.infix, ds.last_name), ''), nullif(concat_ws(' ', dp.first_name, dp.infix, dp.last_name), ''),
    regexp_replace(r.decided_by, '^[a-z]+:', '')) end`;

async function requestRows(em: EntityManager, where: string, params: unknown[], limit = 200): Promise<SwapRequestView[]> {
  const rows = await sql<RequestRow>(
    em,
    `select r.id, r.child_id, c.first_name, c.infix, c.last_name, c.child_number, r.group_id, g.name as group_name,
            l.name as location_name, to_char(r.date, 'YYYY-MM-DD') as date, r.part, r.status, r.reason, r.requested_by,
            ${DECIDER_NAME} as decided_by, r.decided_at, r.created_at, r.credit_id
       from swap_request r join child c on c.id = r.child_id join care_group g on g.id = r.group_id join location l on l.id = g.location_id
            left join account da on r.decided_by = 'web:' || da.email
            left join staff ds on ds.id = da.staff_id left join parent dp on dp.id = da.parent_id
      where ${where}
      order by case when r.status = 'pending' then 0 else 1 end, case when r.status = 'pending' then r.date end, r.decided_at desc nulls last, r.id desc
      limit ${limit}`,
    params,
  );
  return rows.map((r) => ({
    id: r.id,
    childId: r.child_id,
    childName: fullName({ firstName: r.first_name, infix: r.infix, lastName: r.last_name }),
    childNumber: r.child_number,
    groupId: r.group_id,
    groupName: r.group_name,
    locationName: r.location_name,
    date: r.date,
    part: r.part,
    status: r.status,
    reason: r.reason,
    requestedBy: r.requested_by,
    decidedBy: r.decided_by,
    decidedAt: r.decided_at ? new Date(r.decided_at).toISOString() : null,
    createdAt: new Date(r.created_at).toISOString(),
    creditId: r.credit_id,
  }));
}

/** A child's requests, open ones first (the parent's page). */
export async function requestsOfChild(em: EntityManager, actor: Actor, childId: number): Promise<SwapRequestView[]> {
  const child = await childToActFor(em, actor, childId);
  return await requestRows(em, 'r.child_id = ?', [child.id], 50);
}

/**
 * Requests in the groups the actor sees (managers: their location's; staff: their groups;
 * admins: all), pending first with the day's occupancy, then recent decisions.
 */
export async function swapRequestsInScope(
  em: EntityManager,
  actor: Actor,
  filter: { status?: SwapStatus; location?: string } = {},
): Promise<SwapRequestView[]> {
  // The groups the actor works in (`group.work`): parents have none here, their own
  // requests are on their child's page.
  const scope = scopeOf(em, actor, 'group.work');
  if (scope.kind === 'none') return [];
  const inScope = scopeFilter(scope, 'r.group_id');
  const where: string[] = [inScope.sql];
  const params: unknown[] = [...inScope.params];
  if (filter.status) {
    where.push('r.status = ?');
    params.push(filter.status);
  }
  if (filter.location) {
    where.push('(lower(l.name) = lower(?) or l.id::text = ?)');
    params.push(filter.location, filter.location);
  }
  const views = await requestRows(em, where.length ? where.join(' and ') : 'true', params);
  const cache = new Map<string, Occupancy>();
  for (const v of views) {
    if (v.status !== 'pending') continue;
    const key = `${v.groupId}/${v.date}`;
    if (!cache.has(key)) cache.set(key, await occupancy(em, v.groupId, v.date));
    v.occupancy = cache.get(key);
  }
  return views;
}
