/**
 * Calendar dates are 'YYYY-MM-DD' strings throughout core (PostgreSQL `date`), never Date
 * objects, so a child's birthday cannot shift by a time zone.
 */

// One formatter for the process: each Intl.DateTimeFormat holds native memory that the garbage
// collector does not see, so making one per call grows the RSS of a large import by hundreds of MB.
const amsterdamDay = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Amsterdam' });

/** Today's date in the portal's time zone (Europe/Amsterdam: the organisation's day). */
export function today(now: Date = new Date()): string {
  return amsterdamDay.format(now);
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
