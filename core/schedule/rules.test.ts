import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test/cli.ts';
import { createTestDatabase } from '../../test/portal.ts';
import { publicHoliday, publicHolidays } from './holidays.ts';

/** The rules for afmelden and ruilen: organisation-wide, overridden per location, from the terminal. */

let dbUrl: string;
beforeAll(async () => {
  dbUrl = await createTestDatabase();
});
const portal = (args: string[]) => runCli(args, { PORTAL_DATABASE_URL: dbUrl, PORTAL_DATABASE_POOL_MAX: '2' });
const rules = async (...args: string[]) => {
  const r = await portal(['--json', 'schedule', 'rules', ...args]);
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout);
};

describe('portal schedule rules', () => {
  it('starts from the defaults, lets the organisation and a location override, and "inherit" undoes an override', async () => {
    expect((await portal(['locations', 'add', '--name', 'Centrum'])).code).toBe(0);
    expect((await portal(['locations', 'add', '--name', 'Noord'])).code).toBe(0);

    const start = await rules('Centrum');
    expect(start).toMatchObject({ cancelBefore: '09:00', swapNoticeDays: 1, creditValidWeeks: 8, halfDaysSwappable: true });
    expect(start.source.creditValidWeeks).toBe('default');

    await rules('--credit-valid-weeks', '12', '--cancel-before', '8:30');
    await rules('Noord', '--credit-valid-weeks', '4', '--half-days', 'nee');
    expect(await rules('Centrum')).toMatchObject({ creditValidWeeks: 12, cancelBefore: '08:30', halfDaysSwappable: true });
    const noord = await rules('Noord');
    expect(noord).toMatchObject({ creditValidWeeks: 4, cancelBefore: '08:30', halfDaysSwappable: false });
    expect(noord.source).toMatchObject({ creditValidWeeks: 'location', cancelBefore: 'organisation', swapNoticeDays: 'default' });

    await rules('Noord', '--credit-valid-weeks', 'inherit');
    expect((await rules('Noord')).creditValidWeeks).toBe(12);

    const human = await portal(['schedule', 'rules', 'Noord']);
    expect(human.stdout).toMatch(/Credit valid \(weeks\):\s+12 \(organisation\)/);
    expect(human.stdout).toMatch(/Half days swappable:\s+no\n/);
  });

  it('refuses values that are not rules, with the reason, and changes nothing', async () => {
    const bad = await portal(['schedule', 'rules', '--credit-valid-weeks', '0']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/creditValidWeeks.*whole number from 1 to 104/);
    const late = await portal(['schedule', 'rules', '--cancel-before', '25:00']);
    expect(late.code).toBe(1);
    expect(late.stderr).toMatch(/expected a time like 09:00/);
    expect((await portal(['schedule', 'rules', 'Nergens', '--swap-notice-days', '2'])).stderr).toMatch(/location.*not found/i);
    expect((await rules()).swapNoticeDays).toBe(1);
  });
});

describe('public holidays', () => {
  it('knows the moving feasts and Koningsdag on a Sunday', () => {
    expect(publicHoliday('2026-04-06')?.name).toBe('Tweede paasdag');
    expect(publicHoliday('2026-05-14')?.name).toBe('Hemelvaartsdag');
    expect(publicHoliday('2026-05-25')?.name).toBe('Tweede pinksterdag');
    expect(publicHoliday('2025-04-26')?.name).toBe('Koningsdag'); // 27 April 2025 was a Sunday
    expect(publicHoliday('2025-05-05')?.name).toBe('Bevrijdingsdag');
    expect(publicHoliday('2026-05-05')).toBeUndefined();
    expect(publicHoliday('2026-11-25')).toBeUndefined();
    expect(publicHolidays(2027).map((h) => h.date)).toContain('2027-03-29'); // Easter Monday 2027
  });
});
