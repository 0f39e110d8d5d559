import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ScheduleWorld, seedScheduleWorld } from '../test/schedule.ts';
import { createTestPortal, TEST_NOW, type TestPortal } from '../test/portal.ts';
import { addDays } from './dates.ts';
import { cancelDay } from './schedule/cancel.ts';
import { publicHoliday } from './schedule/holidays.ts';
import { childSchedule } from './schedule/overview.ts';
import { isRefusal } from './schedule/refusal.ts';

/**
 * What the portal does on the days that have broken portals before (the instants of
 * test/calendar.ts, where the date-sensitive suites also run): each rule that changes meaning
 * there, said once, with the clock set to that instant. Evi comes every weekday (the schedule
 * world); the location keeps the default rules (cancel today before 09:00, credits valid 8
 * weeks, closed on public holidays).
 */

let portal: TestPortal;
let w: ScheduleWorld;

beforeAll(async () => {
  portal = await createTestPortal();
  w = await seedScheduleWorld(portal);
});
afterAll(() => portal?.destroy());
afterEach(() => {
  portal.clock.set(TEST_NOW);
});

/** Cancels Evi's day as her mother, at the clock's instant: 'ok:<credit expiry>' or the refusal's reason. */
async function cancelEvi(date: string): Promise<string> {
  try {
    const done = await cancelDay(portal.em(), w.actors.anna, { childId: w.children.evi, date });
    return `ok:${done.credit?.expiresOn}`;
  } catch (err) {
    if (isRefusal(err)) return `${err.reason}${err.reason === 'holiday' ? `:${err.message.replace(/^.* on /, '')}` : ''}`;
    throw err;
  }
}

describe('the calendar', () => {
  it('knows the Dutch holidays, Koningsdag moving to the 26th when the 27th is a Sunday', () => {
    expect(publicHoliday('2028-12-25')?.name).toBe('Eerste kerstdag');
    expect(publicHoliday('2028-12-26')?.name).toBe('Tweede kerstdag');
    expect(publicHoliday('2028-04-27')?.name).toBe('Koningsdag');
    expect(publicHoliday('2031-04-26')?.name).toBe('Koningsdag');
    expect(publicHoliday('2031-04-27')).toBeUndefined();
    expect(publicHoliday('2027-01-01')?.name).toBe('Nieuwjaarsdag');
    expect(publicHoliday('2028-02-29')).toBeUndefined();
  });
});

describe('afmelden on the days that break portals', () => {
  it('on Eerste and Tweede Kerstdag the location is closed: nothing to cancel, and the schedule says why', async () => {
    portal.clock.set('2028-12-25T08:00:00+01:00');
    expect(await cancelEvi('2028-12-25')).toBe('holiday:Eerste kerstdag');
    expect(await cancelEvi('2028-12-26')).toBe('holiday:Tweede kerstdag');
    const days = (await childSchedule(portal.em(), w.actors.anna, w.children.evi)).days;
    expect(days.find((d) => d.date === '2028-12-26')?.refusal).toEqual({ code: 'holiday', params: { name: 'Tweede kerstdag' } });
    // The Wednesday after is an ordinary day, cancelled into a credit of 8 weeks.
    expect(await cancelEvi('2028-12-27')).toBe('ok:2029-02-21');
  });

  it('on Koningsdag the location is closed that day, also when it falls on the 26th', async () => {
    portal.clock.set('2028-04-27T08:30:00+02:00');
    // Before the 09:00 deadline, but there is no day to cancel: closed.
    expect(await cancelEvi('2028-04-27')).toBe('holiday:Koningsdag');
    expect(await cancelEvi('2028-04-28')).toBe('ok:2028-06-23');
    portal.clock.set('2031-04-25T12:00:00+02:00');
    // The 26th is a Saturday: no contracted day either way; the Monday after is ordinary.
    expect(await cancelEvi('2031-04-26')).toBe('not_contracted');
    expect(await cancelEvi('2031-04-28')).toBe('ok:2031-06-23');
  });

  it('on a Saturday the next Monday can still be cancelled; the weekend itself has nothing to cancel', async () => {
    portal.clock.set('2026-06-13T10:00:00+02:00');
    expect(await cancelEvi('2026-06-13')).toBe('not_contracted');
    expect(await cancelEvi('2026-06-15')).toBe('ok:2026-08-10');
  });

  it('the 09:00 deadline is Amsterdam time in the days after summer time starts, and after it ends', async () => {
    // 28 March 2027 (Eerste Paasdag), 01:30: an hour later it is 03:30, not 02:30.
    portal.clock.set('2027-03-28T01:30:00+01:00');
    portal.clock.advance({ hours: 1 });
    expect(portal.clock.timeOfDay()).toBe('03:30');
    // The Monday after is Tweede Paasdag: closed.
    portal.clock.set('2027-03-29T08:00:00+02:00');
    expect(await cancelEvi('2027-03-29')).toBe('holiday:Tweede paasdag');
    portal.clock.set('2027-03-30T08:59:00+02:00');
    expect(await cancelEvi('2027-03-30')).toBe('ok:2027-05-25');
    portal.clock.set('2027-03-31T09:00:00+02:00');
    expect(await cancelEvi('2027-03-31')).toBe('after_deadline');
    // 25 October 2026 at the second 02:30; the Monday after, 09:00 is 08:00 UTC.
    portal.clock.set('2026-10-25T02:30:00+01:00');
    expect(portal.clock.today()).toBe('2026-10-25');
    portal.clock.set('2026-10-26T07:59:00Z');
    expect(await cancelEvi('2026-10-26')).toBe('ok:2026-12-21');
    portal.clock.set('2026-10-27T08:00:00Z');
    expect(await cancelEvi('2026-10-27')).toBe('after_deadline');
  });

  it("at 23:30 on New Year's Eve it is still the old year: today is past its deadline, tomorrow is Nieuwjaarsdag", async () => {
    portal.clock.set('2026-12-31T23:30:00+01:00');
    expect(portal.clock.today()).toBe('2026-12-31');
    expect(await cancelEvi('2026-12-31')).toBe('after_deadline');
    expect(await cancelEvi('2027-01-01')).toBe('holiday:Nieuwjaarsdag');
    // An hour later the year has turned (22:30 UTC was still the old one, 23:30 UTC is not).
    portal.clock.advance({ hours: 1 });
    expect(portal.clock.today()).toBe('2027-01-01');
    expect(await cancelEvi('2026-12-31')).toBe('past');
    expect(await cancelEvi('2027-01-04')).toBe('ok:2027-03-01');
  });

  it('on 29 February and on the first of a month, credits count whole weeks from the cancelled day', async () => {
    portal.clock.set('2028-02-29T07:00:00+01:00');
    expect(await cancelEvi('2028-02-29')).toBe(`ok:${addDays('2028-02-29', 56)}`);
    expect(addDays('2028-02-29', 56)).toBe('2028-04-25');
    portal.clock.set('2027-02-01T08:45:00+01:00');
    expect(await cancelEvi('2027-02-01')).toBe('ok:2027-03-29');
  });
});
