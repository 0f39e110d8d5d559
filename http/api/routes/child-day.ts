import { createRoute, z } from '@hono/zod-openapi';
import { clearPickup, pickupForm, setPickup } from '../../../core/pickup/pickup.ts';
import { endSick, reportSick, sickForm } from '../../../core/schedule/sick.ts';
import type { ApiModule } from '../deps.ts';
import { ChildParam, errors, json } from '../schemas.ts';

/**
 * Ziek melden and Ophalen for the app: the same use cases as the child card's forms
 * (core/schedule/sick.ts, core/pickup/pickup.ts), the same rules: guardians only (another
 * family's child is 404), no past days, a report at most 14 days ahead, a pickup note for today
 * or tomorrow.
 */

const Day = z.string().openapi({ format: 'date', example: '2026-12-07' });

const SickReport = z
  .object({
    id: z.number().int(),
    fromDate: Day,
    untilDate: Day.openapi({ description: 'The last day ill (inclusive)' }),
    note: z.string().nullable(),
  })
  .openapi('SickReport');

const SickState = z
  .object({
    today: Day,
    lastDay: Day.openapi({ description: 'The last day a report may reach' }),
    open: z.array(SickReport).openapi({ description: 'Reports that run today or later' }),
  })
  .openapi('SickState');

const SickInput = z
  .object({
    from: z.string().optional().openapi({ description: 'First day ill (YYYY-MM-DD); default today', example: '2026-12-07' }),
    until: z.string().optional().openapi({ description: 'Last day ill (inclusive); default the first day' }),
    note: z.string().max(300).optional(),
  })
  .openapi('SickInput');

const Pickup = z
  .object({
    date: Day,
    name: z.string(),
    relation: z.string().nullable(),
    time: z.string().openapi({ example: '16:30' }),
    note: z.string().nullable(),
  })
  .openapi('PickupNote');

const PickupInput = z
  .object({
    date: z.string().optional().openapi({ description: 'Today or tomorrow (YYYY-MM-DD); default today' }),
    name: z.string().openapi({ example: 'Ria de Vries' }),
    relation: z.string().optional().openapi({ example: 'oma' }),
    time: z.string().openapi({ example: '16:30' }),
    note: z.string().optional(),
  })
  .openapi('PickupInput');

const DateQuery = z.object({ date: z.string().optional().openapi({ param: { name: 'date', in: 'query' }, description: 'Today or tomorrow; default today' }) });

const tags = ['Ziek melden en ophalen'];

const getSick = createRoute({
  method: 'get',
  path: '/children/{child}/sick',
  operationId: 'getSickReports',
  tags,
  summary: "My child's sick reports that run today or later (guardians)",
  request: { params: ChildParam },
  responses: { 200: json(SickState, 'The open reports'), ...errors(404, 422) },
});

const postSick = createRoute({
  method: 'post',
  path: '/children/{child}/sick',
  operationId: 'reportSick',
  tags,
  summary: 'Report my child ill (from today by default); an overlapping report is changed, not doubled. Earns no swap credit',
  request: { params: ChildParam, body: { content: { 'application/json': { schema: SickInput } }, required: true } },
  responses: { 201: json(SickReport, 'The report'), ...errors(404, 422) },
});

const deleteSick = createRoute({
  method: 'delete',
  path: '/children/{child}/sick',
  operationId: 'endSick',
  tags,
  summary: 'Better again ("weer beter"): a report ends yesterday, or is withdrawn when it begins today or later',
  request: { params: ChildParam },
  responses: { 204: { description: 'Ended' }, ...errors(404, 422) },
});

const getPickup = createRoute({
  method: 'get',
  path: '/children/{child}/pickup',
  operationId: 'getPickupNotes',
  tags,
  summary: "Who picks my child up today and tomorrow (guardians)",
  request: { params: ChildParam },
  responses: { 200: json(z.object({ days: z.array(Day), notes: z.array(Pickup) }).openapi('PickupState'), 'The notes'), ...errors(404, 422) },
});

const putPickup = createRoute({
  method: 'put',
  path: '/children/{child}/pickup',
  operationId: 'setPickup',
  tags,
  summary: 'Set or change who picks my child up today or tomorrow, and when',
  request: { params: ChildParam, body: { content: { 'application/json': { schema: PickupInput } }, required: true } },
  responses: { 200: json(Pickup, 'The note'), ...errors(404, 422) },
});

const deletePickup = createRoute({
  method: 'delete',
  path: '/children/{child}/pickup',
  operationId: 'clearPickup',
  tags,
  summary: 'Clear the pickup note of today (or ?date= tomorrow)',
  request: { params: ChildParam, query: DateQuery },
  responses: { 204: { description: 'Cleared' }, ...errors(404, 422) },
});

const pickupOut = (n: { date: string; name: string; relation: string | null; time: string; note: string | null }) => ({
  date: n.date,
  name: n.name,
  relation: n.relation,
  time: n.time,
  note: n.note,
});

export const childDayRoutes: ApiModule = (api) => {
  api.openapi(getSick, async (c) => {
    const form = await sickForm(c.var.em, c.var.api.actor, c.req.valid('param').child);
    return c.json({ today: form.today, lastDay: form.lastDay, open: form.open.map((r) => ({ id: r.id, fromDate: r.fromDate, untilDate: r.untilDate, note: r.note })) }, 200);
  });
  api.openapi(postSick, async (c) => {
    const body = c.req.valid('json');
    const r = await reportSick(c.var.em, c.var.api.actor, { childId: c.req.valid('param').child, from: body.from, until: body.until, note: body.note });
    return c.json({ id: r.id, fromDate: r.fromDate, untilDate: r.untilDate, note: r.note }, 201);
  });
  api.openapi(deleteSick, async (c) => {
    await endSick(c.var.em, c.var.api.actor, c.req.valid('param').child);
    return c.body(null, 204);
  });
  api.openapi(getPickup, async (c) => {
    const form = await pickupForm(c.var.em, c.var.api.actor, c.req.valid('param').child);
    return c.json({ days: form.days, notes: form.notes.map(pickupOut) }, 200);
  });
  api.openapi(putPickup, async (c) => {
    const body = c.req.valid('json');
    const n = await setPickup(c.var.em, c.var.api.actor, { childId: c.req.valid('param').child, ...body });
    return c.json(pickupOut(n), 200);
  });
  api.openapi(deletePickup, async (c) => {
    await clearPickup(c.var.em, c.var.api.actor, c.req.valid('param').child, c.req.valid('query').date);
    return c.body(null, 204);
  });
};
