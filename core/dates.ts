/**
 * Calendar dates are 'YYYY-MM-DD' strings throughout core (PostgreSQL `date`), never Date
 * objects, so a child's birthday cannot shift by a time zone.
 */

// The date of an instant in the organisation's time zone; today's date comes from the portal's
// clock (core/clock.ts), never from the system.
export { dayOf } from './clock.ts';

/**
 * The same day `months` calendar months later (earlier when negative), held to the month's last
 * day: 31 March minus one month is 28 (or 29) February, 29 February minus a year is 28 February.
 */
export function addMonths(date: string, months: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const index = y * 12 + (m - 1) + months;
  const year = Math.floor(index / 12);
  const month = index - year * 12;
  const last = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  return `${String(year).padStart(4, '0')}-${String(month + 1).padStart(2, '0')}-${String(Math.min(d, last)).padStart(2, '0')}`;
}

export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/**
 * Accepts ISO dates (2025-01-21) and the Dutch spreadsheet form (21-01-2025, 21/1/2025).
 * Returns the ISO form, or undefined when it is not a real calendar date (31-02-2025).
 */
export function parseDate(input: string): string | undefined {
  const s = input.trim();
  let y: number;
  let m: number;
  let d: number;
  let match = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(s);
  if (match) {
    [y, m, d] = [Number(match[1]), Number(match[2]), Number(match[3])];
  } else {
    match = /^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$/.exec(s);
    if (!match) return undefined;
    [d, m, y] = [Number(match[1]), Number(match[2]), Number(match[3])];
  }
  const date = new Date(Date.UTC(y, m - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) return undefined;
  return date.toISOString().slice(0, 10);
}
