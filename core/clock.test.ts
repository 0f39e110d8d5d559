import { describe, expect, it } from 'vitest';
import { clockFromEnv, dayOf, deadlineAfter, FixedClock, ShiftedClock, startOfDay, systemClock, timeOfDayOf } from './clock.ts';
import { addMonths } from './dates.ts';

describe('the clock', () => {
  it('reads the date and time in Amsterdam, not in UTC or the machine zone', () => {
    // 23:30 UTC on 31 December is already New Year's Day in Amsterdam.
    const c = new FixedClock('2026-12-31T23:30:00Z');
    expect(c.today()).toBe('2027-01-01');
    expect(c.timeOfDay()).toBe('00:30');
    expect(new FixedClock('2026-12-31T23:30:00+01:00').today()).toBe('2026-12-31');
  });

  it('follows the clock changes of Europe/Amsterdam', () => {
    // Summer time starts 28 March 2027 at 02:00 (01:00 UTC): 01:59 is followed by 03:00.
    expect(timeOfDayOf(new Date('2027-03-28T00:59:00Z'))).toBe('01:59');
    expect(timeOfDayOf(new Date('2027-03-28T01:00:00Z'))).toBe('03:00');
    // Winter time returns 25 October 2026 at 03:00 (01:00 UTC): 02:30 happens twice.
    expect(timeOfDayOf(new Date('2026-10-25T00:30:00Z'))).toBe('02:30');
    expect(timeOfDayOf(new Date('2026-10-25T01:30:00Z'))).toBe('02:30');
    expect(dayOf(new Date('2026-10-24T22:30:00Z'))).toBe('2026-10-25');
  });

  it('stands still until a test moves it; a day is 24 hours, also across a clock change', () => {
    const c = new FixedClock('2026-10-24T12:00:00+02:00');
    expect(c.now().toISOString()).toBe(c.now().toISOString());
    c.advance({ days: 1 });
    // The 25th has 25 hours: 24 hours after noon on the 24th is 11:00 on the 25th.
    expect([c.today(), c.timeOfDay()]).toEqual(['2026-10-25', '11:00']);
    c.set('2028-02-29T08:00:00+01:00');
    expect(c.today()).toBe('2028-02-29');
    c.advance({ hours: 16, minutes: 30 });
    expect([c.today(), c.timeOfDay()]).toEqual(['2028-03-01', '00:30']);
  });

  it('refuses an instant without its offset: a local time is ambiguous', () => {
    expect(() => new FixedClock('2026-06-10T10:00:00')).toThrow(/offset/);
    expect(() => new FixedClock('gisteren')).toThrow(/not an instant/);
  });

  it('PORTAL_CLOCK starts a clock that runs on; unset is the system clock; nonsense is refused', () => {
    expect(clockFromEnv({})).toBe(systemClock);
    expect(clockFromEnv({ PORTAL_CLOCK: ' ' })).toBe(systemClock);
    const c = clockFromEnv({ PORTAL_CLOCK: '2026-12-25T08:00:00+01:00' });
    expect(c).toBeInstanceOf(ShiftedClock);
    expect(c.today()).toBe('2026-12-25');
    const ms = c.now().getTime() - Date.parse('2026-12-25T08:00:00+01:00');
    expect(ms).toBeGreaterThanOrEqual(0);
    expect(ms).toBeLessThan(5_000);
    expect(() => clockFromEnv({ PORTAL_CLOCK: '25-12-2026' })).toThrow(/PORTAL_CLOCK/);
  });

  it('measures waits on the monotonic clock', async () => {
    const d = deadlineAfter(30);
    expect(d.passed()).toBe(false);
    await new Promise((r) => setTimeout(r, 45));
    expect(d.passed()).toBe(true);
    expect(d.remainingMs()).toBe(0);
  });

  it('counts months on the calendar: held to the month end, never spilling into the next month', () => {
    expect(addMonths('2026-03-31', -1)).toBe('2026-02-28');
    expect(addMonths('2028-03-31', -1)).toBe('2028-02-29');
    expect(addMonths('2028-02-29', -12)).toBe('2027-02-28');
    expect(addMonths('2028-02-29', 48)).toBe('2032-02-29');
    expect(addMonths('2027-01-01', -1)).toBe('2026-12-01');
    expect(addMonths('2026-12-31', 2)).toBe('2027-02-28');
    expect(addMonths('2026-06-10', -24)).toBe('2024-06-10');
  });

  it('knows when a day starts in Amsterdam, in winter and in summer, also on the days the clocks change', () => {
    expect(startOfDay('2026-12-25').toISOString()).toBe('2026-12-24T23:00:00.000Z');
    expect(startOfDay('2026-06-10').toISOString()).toBe('2026-06-09T22:00:00.000Z');
    expect(startOfDay('2027-03-28').toISOString()).toBe('2027-03-27T23:00:00.000Z');
    expect(startOfDay('2026-10-25').toISOString()).toBe('2026-10-24T22:00:00.000Z');
    expect(() => startOfDay('2026-02-30')).toThrow();
  });
});
