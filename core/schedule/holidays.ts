/**
 * The Dutch public holidays on which a location is closed (when its rules say so). Computed,
 * not configured: a list someone has to update every year is a list that is wrong in January.
 * Bevrijdingsdag (5 May) is a day off only in lustrum years for most collective agreements,
 * so it counts only then (2025, 2030, …).
 */

/** Easter Sunday by the anonymous Gregorian algorithm (Meeus/Jones/Butcher). */
function easter(year: number): string {
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

const shift = (date: string, days: number) => {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
};

export interface PublicHoliday {
  date: string;
  /** Dutch name, as on a calendar. */
  name: string;
}

const cache = new Map<number, PublicHoliday[]>();

/** The public holidays of a year, in date order. */
export function publicHolidays(year: number): PublicHoliday[] {
  const known = cache.get(year);
  if (known) return known;
  const e = easter(year);
  // Koningsdag moves to the 26th when the 27th is a Sunday.
  const kingsDay = new Date(Date.UTC(year, 3, 27)).getUTCDay() === 0 ? `${year}-04-26` : `${year}-04-27`;
  const list: PublicHoliday[] = [
    { date: `${year}-01-01`, name: 'Nieuwjaarsdag' },
    { date: e, name: 'Eerste paasdag' },
    { date: shift(e, 1), name: 'Tweede paasdag' },
    { date: kingsDay, name: 'Koningsdag' },
    ...(year % 5 === 0 ? [{ date: `${year}-05-05`, name: 'Bevrijdingsdag' }] : []),
    { date: shift(e, 39), name: 'Hemelvaartsdag' },
    { date: shift(e, 49), name: 'Eerste pinksterdag' },
    { date: shift(e, 50), name: 'Tweede pinksterdag' },
    { date: `${year}-12-25`, name: 'Eerste kerstdag' },
    { date: `${year}-12-26`, name: 'Tweede kerstdag' },
  ].sort((x, y) => x.date.localeCompare(y.date));
  cache.set(year, list);
  return list;
}

/** The holiday on this date ('YYYY-MM-DD'), if it is one. */
export function publicHoliday(date: string): PublicHoliday | undefined {
  return publicHolidays(Number(date.slice(0, 4))).find((h) => h.date === date);
}
