import { createRoute, z } from '@hono/zod-openapi';
import { parseDate } from '../../../core/dates.ts';
import { DAY_PARTS, SWAP_STATUSES } from '../../../core/entities/schedule.ts';
import { takenFor } from '../../../core/schedule/attendance.ts';
import { cancelDay, undoCancellation } from '../../../core/schedule/cancel.ts';
import { childSchedule } from '../../../core/schedule/overview.ts';
import { cancelSwapDay, decideSwap, requestSwap, requestsOfChild, type SwapRequestView, swapRequestsInScope, withdrawSwap } from '../../../core/schedule/swaps.ts';
import type { ApiModule } from '../deps.ts';
import { ChildParam, errors, json, page } from '../schemas.ts';

/**
 * Afmelden en ruilen for the app: the parent's schedule of a child (what /ruilen shows),
 * cancelling a contracted day and undoing it, asking for a swap day with a credit and
 * withdrawing it; the location manager's list of requests with the day's occupancy, and the
 * decision. Every rule and every "may this actor" is core's (core/schedule), as for the pages.
 * A refusal by the rules answers with its own stable code (http/api/errors.ts): 422 when the
 * rules say no whatever happens meanwhile (deadline, expiry, notice), 409 when the state of the
 * day or the request stands in the way (full, credit in use, already decided).
 */

const Part = z.enum(DAY_PARTS).openapi({ description: 'day: the whole day; morning/afternoon: a half day' });
const IsoDate = z
  .string()
  .refine((s) => parseDate(s) === s, 'expected a date (YYYY-MM-DD)')
  .openapi({ example: '2026-12-07', format: 'date' });
const NumericId = z.object({ id: z.coerce.number().int().positive().openapi({ param: { name: 'id', in: 'path' }, example: 42 }) });

const REFUSAL = { 409: 'Refused by the state of the day or the request; code says why (full, credit_in_use, not_pending)', 422: 'Validation failed, or refused by the rules; code says why (after_deadline, credit_expired, …)' };
/** errors() with the refusal statuses described for these operations. */
const refusals = (...statuses: (403 | 404)[]) => {
  const base = errors(...statuses, 409, 422);
  return { ...base, 409: { ...base[409]!, description: REFUSAL[409] }, 422: { ...base[422]!, description: REFUSAL[422] } };
};

const Refusal = z
  .object({
    code: z.enum(['holiday', 'past', 'after_deadline']),
    params: z.record(z.string(), z.string()),
  })
  .openapi('CancelRefusal', { description: 'Why the day cannot be cancelled now' });

const ScheduleDay = z
  .object({
    date: z.string(),
    part: Part,
    groupName: z.string(),
    cancelled: z.boolean(),
    cancellationId: z.number().int().nullable().openapi({ description: 'The afmelding, for DELETE /cancellations/{id}; null when not cancelled' }),
    undoable: z.boolean().openapi({ description: 'A cancelled day whose afmelding can still be undone' }),
    swap: z.boolean().openapi({ description: 'An approved swap day, not a contracted one (cancelling it frees its credit; it earns no new one)' }),
    swapRequestId: z.number().int().nullable().openapi({ description: 'A swap day’s request, for POST /swap-requests/{id}/cancel-day; null otherwise' }),
    refusal: Refusal.nullable().openapi({ description: 'Why it cannot be cancelled (now); null when it can' }),
    sick: z.boolean().openapi({
      description: 'Covered by a ziekmelding. Still a contracted or swap day: cancelling follows the same rules (refusal says whether it can now)',
    }),
    sickReportId: z
      .number()
      .int()
      .nullable()
      .openapi({ description: 'The ziekmelding covering the day, as GET /children/{child}/sick lists it (POST there changes it, DELETE ends it: weer beter); null when not sick' }),
  })
  .openapi('ScheduleDay');

const Credit = z
  .object({
    id: z.number().int(),
    sourceDate: z.string().openapi({ description: 'The cancelled day it came from' }),
    part: Part,
    expiresOn: z.string().openapi({ description: 'The last day it can be used for' }),
    state: z.enum(['available', 'requested', 'used', 'expired']),
  })
  .openapi('SwapCredit');

const Occupancy = z
  .object({
    morning: z.number().int(),
    afternoon: z.number().int(),
    taken: z.number().int().openapi({ description: 'Places taken for the part asked for' }),
    capacity: z.number().int().nullable().openapi({ description: 'null: the group has no maximum' }),
    full: z.boolean(),
  })
  .openapi('Occupancy');

const SwapRequest = z
  .object({
    id: z.number().int(),
    childId: z.number().int(),
    childName: z.string(),
    groupId: z.number().int(),
    groupName: z.string(),
    locationName: z.string(),
    date: z.string(),
    part: Part,
    status: z.enum(SWAP_STATUSES),
    reason: z.string().nullable().openapi({ description: 'The manager’s reason (always given with a rejection)' }),
    creditId: z.number().int(),
    requestedBy: z.string(),
    decidedBy: z.string().nullable(),
    decidedAt: z.string().nullable(),
    createdAt: z.string(),
    occupancy: Occupancy.nullable().openapi({ description: 'Pending requests in the manager’s list: the group on that day; null otherwise' }),
  })
  .openapi('SwapRequest');

const Schedule = z
  .object({
    child: z.object({ id: z.number().int(), name: z.string(), firstName: z.string() }),
    location: z.object({ id: z.number().int(), name: z.string(), phone: z.string().nullable() }).nullable(),
    groupName: z.string().nullable(),
    rules: z
      .object({
        cancelBefore: z.string().openapi({ description: 'On the day itself a day can be cancelled only before this time (HH:MM, Europe/Amsterdam)' }),
        swapNoticeDays: z.number().int(),
        creditValidWeeks: z.number().int(),
        halfDaysSwappable: z.boolean(),
      })
      .nullable(),
    days: z.array(ScheduleDay).openapi({ description: 'Contracted days and approved swap days of the next 4 weeks' }),
    credits: z.array(Credit).openapi({ description: 'Soonest expiry first' }),
    balance: z.object({ available: z.number().int(), nextExpiry: z.string().nullable() }),
    requests: z.array(SwapRequest).openapi({ description: 'Open ones first, then the newest 50 decisions' }),
  })
  .openapi('ChildSchedule');

const CancelInput = z.object({ date: IsoDate }).openapi('CancellationInput', {
  description: 'The contracted day to cancel; the part (whole day or half) is the contract’s',
});
const Cancellation = z
  .object({
    id: z.number().int(),
    childId: z.number().int(),
    date: z.string(),
    part: Part,
    credit: z.object({ id: z.number().int(), expiresOn: z.string() }).nullable().openapi({ description: 'The credit earned; null where half days give none' }),
  })
  .openapi('Cancellation');

const SwapInput = z.object({ creditId: z.number().int().positive(), date: IsoDate.openapi({ description: 'The day asked for' }) }).openapi('SwapRequestInput');
const RejectInput = z.object({ reason: z.string().trim().min(1).max(500).openapi({ description: 'Shown to the parent and mailed' }) }).openapi('SwapRejection');
const Decided = z.object({ id: z.number().int(), status: z.enum(['approved', 'rejected']) }).openapi('SwapDecision');
const StatusQuery = z.object({ status: z.enum(SWAP_STATUSES).optional().openapi({ description: 'Only requests with this status' }) });

function requestView(r: SwapRequestView): z.infer<typeof SwapRequest> {
  const o = r.occupancy;
  return {
    id: r.id,
    childId: r.childId,
    childName: r.childName,
    groupId: r.groupId,
    groupName: r.groupName,
    locationName: r.locationName,
    date: r.date,
    part: r.part,
    status: r.status,
    reason: r.reason,
    creditId: r.creditId,
    requestedBy: r.requestedBy,
    decidedBy: r.decidedBy,
    decidedAt: r.decidedAt,
    createdAt: r.createdAt,
    occupancy: o ? { ...o, taken: takenFor(o, r.part), full: o.capacity !== null && takenFor(o, r.part) >= o.capacity } : null,
  };
}

const schedule = createRoute({
  method: 'get',
  path: '/children/{child}/schedule',
  operationId: 'getChildSchedule',
  tags: ['Afmelden en ruilen'],
  summary: "My child's next 4 weeks: contracted days (and whether they can be cancelled), credits, swap requests (parents)",
  request: { params: ChildParam },
  responses: { 200: json(Schedule, 'What the Afmelden en ruilen page shows'), ...errors(404, 422) },
});

const cancel = createRoute({
  method: 'post',
  path: '/children/{child}/cancellations',
  operationId: 'cancelDay',
  tags: ['Afmelden en ruilen'],
  summary: 'Cancel a contracted day (afmelden): a future day, or today before the deadline; it earns a credit',
  request: { params: ChildParam, body: { content: { 'application/json': { schema: CancelInput } }, required: true } },
  responses: { 201: json(Cancellation, 'The afmelding and the credit it earned'), ...refusals(404) },
});

const undo = createRoute({
  method: 'delete',
  path: '/cancellations/{id}',
  operationId: 'undoCancellation',
  tags: ['Afmelden en ruilen'],
  summary: 'Undo an afmelding: under the same deadline, while its credit was never asked for',
  request: { params: NumericId },
  responses: { 204: { description: 'The day is contracted again; its credit is gone' }, ...refusals(404) },
});

const ask = createRoute({
  method: 'post',
  path: '/children/{child}/swap-requests',
  operationId: 'requestSwap',
  tags: ['Afmelden en ruilen'],
  summary: 'Ask for a swap day with a credit; the location manager decides',
  request: { params: ChildParam, body: { content: { 'application/json': { schema: SwapInput } }, required: true } },
  responses: { 201: json(SwapRequest, 'The pending request'), ...refusals(404) },
});

const withdraw = createRoute({
  method: 'delete',
  path: '/swap-requests/{id}',
  operationId: 'withdrawSwap',
  tags: ['Afmelden en ruilen'],
  summary: 'Withdraw a pending request; its credit is free again',
  request: { params: NumericId },
  responses: { 204: { description: 'Withdrawn' }, ...refusals(404) },
});

const cancelDayOfSwap = createRoute({
  method: 'post',
  path: '/swap-requests/{id}/cancel-day',
  operationId: 'cancelSwapDay',
  tags: ['Afmelden en ruilen'],
  summary: 'Call off an approved swap day (same deadline as cancelling a day); its place and its credit are free again',
  request: { params: NumericId },
  responses: { 204: { description: 'Called off; the request is now cancelled' }, ...refusals(404) },
});

const list = createRoute({
  method: 'get',
  path: '/swap-requests',
  operationId: 'listSwapRequests',
  tags: ['Ruilverzoeken'],
  summary:
    'Swap requests of the groups I see (managers: their location; admins: all; staff: their groups, to plan; parents: none, see the schedule): pending first with the day’s occupancy, at most 200, one page',
  request: { query: StatusQuery },
  responses: { 200: json(page(SwapRequest, 'SwapRequestPage'), 'The requests; nextCursor is always null'), ...errors(422) },
});

const approve = createRoute({
  method: 'post',
  path: '/swap-requests/{id}/approve',
  operationId: 'approveSwap',
  tags: ['Ruilverzoeken'],
  summary: 'Approve a pending request (the location manager, an admin); the parent is mailed',
  request: { params: NumericId },
  responses: { 200: json(Decided, 'Approved'), ...refusals(403, 404) },
});

const reject = createRoute({
  method: 'post',
  path: '/swap-requests/{id}/reject',
  operationId: 'rejectSwap',
  tags: ['Ruilverzoeken'],
  summary: 'Reject a pending request with a reason (the location manager, an admin); the parent is mailed',
  request: { params: NumericId, body: { content: { 'application/json': { schema: RejectInput } }, required: true } },
  responses: { 200: json(Decided, 'Rejected'), ...refusals(403, 404) },
});

export const swapRoutes: ApiModule = (api, { portal }) => {
  api.openapi(schedule, async (c) => {
    const s = await childSchedule(c.var.em, c.var.api.actor, c.req.valid('param').child);
    const rules = s.rules && {
      cancelBefore: s.rules.cancelBefore,
      swapNoticeDays: s.rules.swapNoticeDays,
      creditValidWeeks: s.rules.creditValidWeeks,
      halfDaysSwappable: s.rules.halfDaysSwappable,
    };
    return c.json(
      {
        child: s.child,
        location: s.location,
        groupName: s.groupName,
        rules,
        days: s.days.map((d) => ({
          date: d.date,
          part: d.part,
          groupName: d.groupName,
          cancelled: d.cancelled,
          cancellationId: d.cancellationId ?? null,
          undoable: d.undoable ?? false,
          swap: d.swap ?? false,
          swapRequestId: d.swapRequestId ?? null,
          refusal: d.refusal ?? null,
          sick: d.sick ?? false,
          sickReportId: d.sickReportId ?? null,
        })),
        credits: s.credits.map((cr) => ({ id: cr.id, sourceDate: cr.sourceDate, part: cr.part, expiresOn: cr.expiresOn, state: cr.state })),
        balance: s.balance,
        requests: s.requests.map(requestView),
      },
      200,
    );
  });

  api.openapi(cancel, async (c) => {
    const childId = c.req.valid('param').child;
    const done = await cancelDay(c.var.em, c.var.api.actor, { childId, date: c.req.valid('json').date });
    return c.json({ id: done.cancellationId, childId, date: done.date, part: done.part, credit: done.credit }, 201);
  });

  api.openapi(undo, async (c) => {
    await undoCancellation(c.var.em, c.var.api.actor, c.req.valid('param').id);
    return c.body(null, 204);
  });

  api.openapi(ask, async (c) => {
    const childId = c.req.valid('param').child;
    const { requestId } = await requestSwap(c.var.em, c.var.api.actor, { childId, ...c.req.valid('json') });
    // The same view the schedule lists, so the app can put it in place without a reload.
    const created = (await requestsOfChild(c.var.em, c.var.api.actor, childId)).find((r) => r.id === requestId)!;
    return c.json(requestView(created), 201);
  });

  api.openapi(withdraw, async (c) => {
    await withdrawSwap(c.var.em, c.var.api.actor, c.req.valid('param').id);
    return c.body(null, 204);
  });

  api.openapi(cancelDayOfSwap, async (c) => {
    await cancelSwapDay(c.var.em, c.var.api.actor, c.req.valid('param').id);
    return c.body(null, 204);
  });

  api.openapi(list, async (c) => {
    const found = await swapRequestsInScope(c.var.em, c.var.api.actor, { status: c.req.valid('query').status });
    return c.json({ items: found.map(requestView), nextCursor: null }, 200);
  });

  api.openapi(approve, async (c) => {
    const id = c.req.valid('param').id;
    const { status } = await decideSwap(c.var.em, portal, c.var.api.actor, id, { approve: true });
    return c.json({ id, status }, 200);
  });

  api.openapi(reject, async (c) => {
    const id = c.req.valid('param').id;
    const { status } = await decideSwap(c.var.em, portal, c.var.api.actor, id, { approve: false, reason: c.req.valid('json').reason });
    return c.json({ id, status }, 200);
  });
};
