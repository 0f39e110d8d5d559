import type { Hono } from 'hono';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { addDays } from '../../core/dates.ts';
import { DayCancellation, SwapRequest } from '../../core/entities/schedule.ts';
import { SICK_MAX_DAYS } from '../../core/schedule/sick.ts';
import { PASSWORD, PEOPLE } from '../../test/messages.ts';
import { createTestPortal, TEST_NOW, type TestPortal } from '../../test/portal.ts';
import { type ScheduleWorld, seedScheduleWorld } from '../../test/schedule.ts';
import { type AppEnv, createApp } from '../app.ts';
import { API_BASE } from './app.ts';

/**
 * Afmelden en ruilen through the app API (the access matrix is in api.test.ts): a refusal by
 * the rules keeps its own code, the manager's decision reaches the parent's schedule, a
 * rejection needs a reason, another family's child or request is not found.
 *   Boomhut (capacity 2): Evi (anna, bart) every weekday, Sam (cor) ma/di/wo, Pim (pia) ma.
 */

const LOOSE = { throttle: { accountIp: { points: 10_000, seconds: 60 }, ip: { points: 10_000, seconds: 60 } } };

let portal: TestPortal;
let app: Hono<AppEnv>;
let w: ScheduleWorld;
const token: Record<'anna' | 'cor' | 'pia' | 'eva' | 'mia' | 'hanna', string> = { anna: '', cor: '', pia: '', eva: '', mia: '', hanna: '' };

interface ErrorBody {
  error: { code: string; message: string; details?: { path: string; message: string }[]; params?: Record<string, string> };
}
interface RequestBody {
  id: number;
  status: string;
  reason: string | null;
  date: string;
  occupancy: { taken: number; capacity: number | null; full: boolean } | null;
}
interface ScheduleBody {
  days: { date: string; cancelled: boolean; cancellationId: number | null; swap: boolean }[];
  credits: { id: number; sourceDate: string; state: string }[];
  requests: RequestBody[];
}

async function call(method: string, path: string, as: keyof typeof token, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = { 'X-Forwarded-For': '203.0.113.9', Authorization: `Bearer ${token[as]}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  return await app.request(`http://localhost${API_BASE}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
}

async function json<T>(res: Response, status: number): Promise<T> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  return JSON.parse(text) as T;
}

/** Cancels a contracted day through the API and returns the credit it earned. */
async function creditFor(as: keyof typeof token, childId: number, date: string): Promise<number> {
  const done = await json<{ credit: { id: number } | null }>(await call('POST', `/children/${childId}/cancellations`, as, { date }), 201);
  return done.credit!.id;
}

beforeAll(async () => {
  portal = await createTestPortal({ 'server.trustProxy': true });
  w = await seedScheduleWorld(portal);
  app = createApp(portal, LOOSE);
  const emails = { ...PEOPLE, pia: 'pia@example.nl' };
  for (const who of Object.keys(token) as (keyof typeof token)[]) {
    const res = await app.request(`http://localhost${API_BASE}/session`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Forwarded-For': '203.0.113.9' },
      body: JSON.stringify({ username: emails[who], password: PASSWORD, deviceName: 'Test' }),
    });
    token[who] = (await json<{ token: string }>(res, 201)).token;
  }
});
afterAll(() => portal?.destroy());
afterEach(() => {
  portal.clock.set(TEST_NOW);
});

describe('afmelden through the API', () => {
  it('refuses a day after the deadline with its own code and the deadline, and writes nothing', async () => {
    // Half past noon in Amsterdam on a day Evi comes: past the 09:00 deadline.
    portal.clock.set(`${w.monday}T10:30:00Z`);
    const body = await json<ErrorBody>(await call('POST', `/children/${w.children.evi}/cancellations`, 'anna', { date: w.monday }), 422);
    expect(body.error.code).toBe('after_deadline');
    expect(body.error.params).toEqual({ time: '09:00' });
    expect(body.error.message).toMatch(/before 09:00/);
    expect(body.error.details?.[0]?.path).toBe('date');
    expect(await portal.em().fork().count(DayCancellation, { child: w.children.evi, date: w.monday })).toBe(0);
  });

  it('cancels into a credit the schedule shows, and undoes it by the id the schedule names', async () => {
    const day = addDays(w.monday, 4);
    const done = await json<{ id: number; part: string; credit: { expiresOn: string } }>(
      await call('POST', `/children/${w.children.evi}/cancellations`, 'anna', { date: day }),
      201,
    );
    expect(done.part).toBe('day');
    expect(done.credit.expiresOn).toBe(addDays(day, 8 * 7));
    const schedule = await json<ScheduleBody>(await call('GET', `/children/${w.children.evi}/schedule`, 'anna'), 200);
    expect(schedule.days.find((d) => d.date === day)).toMatchObject({ cancelled: true, cancellationId: done.id });
    expect(schedule.credits.find((c) => c.sourceDate === day)?.state).toBe('available');
    expect((await call('DELETE', `/cancellations/${done.id}`, 'anna')).status).toBe(204);
    const after = await json<ScheduleBody>(await call('GET', `/children/${w.children.evi}/schedule`, 'anna'), 200);
    expect(after.days.find((d) => d.date === day)).toMatchObject({ cancelled: false, cancellationId: null });
  });

  it('validates the date: 422 validation on the field', async () => {
    const body = await json<ErrorBody>(await call('POST', `/children/${w.children.evi}/cancellations`, 'anna', { date: '31-02-2026' }), 422);
    expect(body.error.code).toBe('validation');
    expect(body.error.details?.map((d) => d.path)).toEqual(['date']);
  });
});

describe('ruilen through the API', () => {
  it('refuses a swap into a full day: 409 full, and no request is made', async () => {
    // Pim gives up his Monday and asks for Tuesday, when Evi and Sam fill Boomhut (capacity 2).
    const credit = await creditFor('pia', w.children.pim, w.monday);
    const body = await json<ErrorBody>(await call('POST', `/children/${w.children.pim}/swap-requests`, 'pia', { creditId: credit, date: addDays(w.monday, 1) }), 409);
    expect(body.error.code).toBe('full');
    expect(await portal.em().fork().count(SwapRequest, { child: w.children.pim })).toBe(0);
  });

  it('the manager sees the request with the occupancy, approves it, and the parent sees it approved', async () => {
    const thursday = addDays(w.monday, 3);
    const credit = await creditFor('cor', w.children.sam, addDays(w.monday, 2));
    const asked = await json<RequestBody>(await call('POST', `/children/${w.children.sam}/swap-requests`, 'cor', { creditId: credit, date: thursday }), 201);
    expect(asked).toMatchObject({ status: 'pending', date: thursday });

    const list = await json<{ items: RequestBody[]; nextCursor: null }>(await call('GET', '/swap-requests?status=pending', 'hanna'), 200);
    // Thursday: Evi only, of 2 places.
    expect(list.items.find((r) => r.id === asked.id)?.occupancy).toEqual({ morning: 1, afternoon: 1, taken: 1, capacity: 2, full: false });
    expect(list.items.every((r) => r.status === 'pending')).toBe(true);

    expect(await json(await call('POST', `/swap-requests/${asked.id}/approve`, 'hanna'), 200)).toEqual({ id: asked.id, status: 'approved' });
    const schedule = await json<ScheduleBody>(await call('GET', `/children/${w.children.sam}/schedule`, 'cor'), 200);
    expect(schedule.requests.find((r) => r.id === asked.id)?.status).toBe('approved');
    expect(schedule.days.find((d) => d.date === thursday)).toMatchObject({ swap: true, cancelled: false });
    expect(schedule.credits.find((c) => c.id === credit)?.state).toBe('used');

    // Deciding twice: the state stands in the way.
    expect((await json<ErrorBody>(await call('POST', `/swap-requests/${asked.id}/approve`, 'hanna'), 409)).error.code).toBe('not_pending');
  });

  it('a rejection needs a reason (422), group staff may not decide (403), and the parent reads the reason', async () => {
    const credit = await creditFor('cor', w.children.sam, addDays(w.monday, 7));
    const asked = await json<RequestBody>(await call('POST', `/children/${w.children.sam}/swap-requests`, 'cor', { creditId: credit, date: addDays(w.monday, 10) }), 201);
    for (const body of [{}, { reason: '   ' }]) {
      const refused = await json<ErrorBody>(await call('POST', `/swap-requests/${asked.id}/reject`, 'hanna', body), 422);
      expect(refused.error.details?.map((d) => d.path)).toEqual(['reason']);
    }
    expect((await json<ErrorBody>(await call('POST', `/swap-requests/${asked.id}/reject`, 'mia', { reason: 'Vol' }), 403)).error.code).toBe('forbidden');
    expect((await portal.em().fork().findOneOrFail(SwapRequest, { id: asked.id })).status).toBe('pending');

    expect(await json(await call('POST', `/swap-requests/${asked.id}/reject`, 'hanna', { reason: 'Uitje met de groep' }), 200)).toEqual({ id: asked.id, status: 'rejected' });
    const schedule = await json<ScheduleBody>(await call('GET', `/children/${w.children.sam}/schedule`, 'cor'), 200);
    expect(schedule.requests.find((r) => r.id === asked.id)).toMatchObject({ status: 'rejected', reason: 'Uitje met de groep' });
  });

  it("a parent cannot see or act on another family's child or request: 404, and nothing changes", async () => {
    const cancelled = addDays(w.monday, 8);
    const credit = await creditFor('cor', w.children.sam, cancelled);
    const asked = await json<RequestBody>(await call('POST', `/children/${w.children.sam}/swap-requests`, 'cor', { creditId: credit, date: addDays(w.monday, 11) }), 201);
    const cancellation = await portal.em().fork().findOneOrFail(DayCancellation, { child: w.children.sam, date: cancelled });

    for (const [method, path, body] of [
      ['GET', `/children/${w.children.sam}/schedule`, undefined],
      ['POST', `/children/${w.children.sam}/cancellations`, { date: addDays(w.monday, 9) }],
      ['POST', `/children/${w.children.sam}/swap-requests`, { creditId: credit, date: addDays(w.monday, 11) }],
      ['DELETE', `/swap-requests/${asked.id}`, undefined],
      ['DELETE', `/cancellations/${cancellation.id}`, undefined],
    ] as const) {
      // anna has a child in the same group; eva is at another location.
      for (const who of ['anna', 'eva'] as const) {
        expect((await json<ErrorBody>(await call(method, path, who, body), 404)).error.code, `${who} ${method} ${path}`).toBe('not_found');
      }
    }
    expect((await portal.em().fork().findOneOrFail(SwapRequest, { id: asked.id })).status).toBe('pending');
    expect(await portal.em().fork().count(DayCancellation, { child: w.children.sam })).toBe(3);
    // The own parent can withdraw it; withdrawing twice is the state's conflict.
    expect((await call('DELETE', `/swap-requests/${asked.id}`, 'cor')).status).toBe(204);
    expect((await json<ErrorBody>(await call('DELETE', `/swap-requests/${asked.id}`, 'cor'), 409)).error.code).toBe('not_pending');
  });
});

describe('sick days in the schedule through the API', () => {
  interface SickDay {
    date: string;
    cancelled: boolean;
    swap: boolean;
    refusal: unknown;
    sick: boolean;
    sickReportId: number | null;
  }
  const days = async (as: keyof typeof token, child: number) => (await json<{ days: SickDay[] }>(await call('GET', `/children/${child}/schedule`, as), 200)).days;

  it('marks the days a ziekmelding covers with its id, which the sick endpoint lists; weer beter clears them', async () => {
    const before = await days('anna', w.children.evi);
    // Every day says whether it is sick: false and null, not absent.
    expect(before.every((d) => d.sick === false && d.sickReportId === null)).toBe(true);
    const sickDay = before.find((d) => d.refusal === null && !d.cancelled && !d.swap && d.date <= addDays(portal.clock.today(), SICK_MAX_DAYS))!.date;

    const report = await json<{ id: number; fromDate: string; untilDate: string }>(await call('POST', `/children/${w.children.evi}/sick`, 'anna', { from: sickDay }), 201);
    const after = await days('anna', w.children.evi);
    expect(after.find((d) => d.date === sickDay)).toMatchObject({ sick: true, sickReportId: report.id, cancelled: false, refusal: null });
    expect(after.filter((d) => d.sick).map((d) => d.date)).toEqual([sickDay]);
    const listed = await json<{ open: { id: number }[] }>(await call('GET', `/children/${w.children.evi}/sick`, 'anna'), 200);
    expect(listed.open.map((r) => r.id)).toContain(report.id);
    // Another family's schedule knows nothing of it.
    expect((await days('cor', w.children.sam)).some((d) => d.sick)).toBe(false);

    expect((await call('DELETE', `/children/${w.children.evi}/sick`, 'anna')).status).toBe(204);
    expect((await days('anna', w.children.evi)).some((d) => d.sick || d.sickReportId !== null)).toBe(false);
  });
});
