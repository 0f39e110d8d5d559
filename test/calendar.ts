/**
 * The calendar matrix: instants that have broken portals before. The date-sensitive suites run
 * once at the ordinary default (TEST_NOW in test/portal.ts) and once at each of these, as vitest
 * projects that set PORTAL_TEST_NOW (vitest.config.ts). A rule that changes meaning on one of
 * these days has a test that says what the portal does there.
 *
 * Plain data, no imports: vitest.config.ts reads it.
 */
export interface CalendarInstant {
  /** Project name: "at a Saturday" appears before every test name of that run. */
  name: string;
  /** With its Amsterdam offset. */
  at: string;
}

export const CALENDAR: readonly CalendarInstant[] = [
  { name: 'a Saturday', at: '2026-06-13T10:00:00+02:00' },
  // 2028: both Christmas days fall on weekdays, so they are the holiday and not the weekend.
  { name: 'Eerste Kerstdag', at: '2028-12-25T08:00:00+01:00' },
  { name: 'Tweede Kerstdag', at: '2028-12-26T13:00:00+01:00' },
  // 2028: Koningsdag on a Thursday, before the 09:00 deadline for cancelling that day.
  { name: 'Koningsdag', at: '2028-04-27T08:30:00+02:00' },
  // 27 April 2031 is a Sunday: Koningsdag is Saturday the 26th.
  { name: 'Koningsdag on the 26th', at: '2031-04-26T10:00:00+02:00' },
  // Summer time starts on 28 March 2027 at 02:00: this is 01:30, half an hour before the jump.
  { name: 'the night summer time starts', at: '2027-03-28T01:30:00+01:00' },
  // Winter time returns on 25 October 2026: 02:30 happens twice; this is the second one.
  { name: 'the night winter time returns', at: '2026-10-25T02:30:00+01:00' },
  { name: 'New Year’s Eve 23:30', at: '2026-12-31T23:30:00+01:00' },
  { name: '29 February', at: '2028-02-29T10:00:00+01:00' },
  { name: 'the first of a month', at: '2027-02-01T08:45:00+01:00' },
];

/** The suites whose rules read the date: schedule, credits, sessions and tokens, retention, home, exports. */
export const DATE_SENSITIVE_SUITES: readonly string[] = [
  'core/schedule/*.test.ts',
  'http/swaps.test.ts',
  'http/api/swaps.test.ts',
  'cli/schedule.test.ts',
  'core/auth/*.test.ts',
  'core/retention/*.test.ts',
  'core/photos/retention.test.ts',
  'http/home.test.ts',
  'core/export/export.test.ts',
  'plugins/faq/faq.test.ts',
  'core/diary/diary.test.ts',
  'core/notifications/notify.test.ts',
];
