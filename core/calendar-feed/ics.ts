import ical, { ICalCalendarMethod, ICalEventStatus, ICalEventTransparency } from 'ical-generator';
import type { FeedEvent } from './events.ts';

/**
 * The feed as iCalendar (RFC 5545), with ical-generator. Every date is a wall-clock value in
 * Europe/Amsterdam: all-day events as DATE, timed ones with TZID=Europe/Amsterdam and the zone's
 * VTIMEZONE, so a calendar app shows 09:00 as 09:00 on both sides of a clock change.
 *
 * ical-generator formats a plain JS Date in the server process's own zone; we hand it values
 * shaped like Temporal's PlainDate and PlainDateTime instead (which it formats field by field),
 * so the output never depends on the TZ of the machine. Checked in calendar-feed.test.ts.
 */

export const FEED_TIMEZONE = 'Europe/Amsterdam';

/**
 * Europe/Amsterdam since 1996 (the EU rule): CEST from the last Sunday of March 02:00, CET from
 * the last Sunday of October 03:00. Written out rather than generated: it is one fixed rule, and
 * generating it would need a time zone library for these lines.
 */
export const AMSTERDAM_VTIMEZONE = [
  'BEGIN:VTIMEZONE',
  'TZID:Europe/Amsterdam',
  'X-LIC-LOCATION:Europe/Amsterdam',
  'BEGIN:DAYLIGHT',
  'TZOFFSETFROM:+0100',
  'TZOFFSETTO:+0200',
  'TZNAME:CEST',
  'DTSTART:19700329T020000',
  'RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU',
  'END:DAYLIGHT',
  'BEGIN:STANDARD',
  'TZOFFSETFROM:+0200',
  'TZOFFSETTO:+0100',
  'TZNAME:CET',
  'DTSTART:19701025T030000',
  'RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU',
  'END:STANDARD',
  'END:VTIMEZONE',
].join('\r\n');

interface PlainDateTimeLike {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  toPlainDate(): unknown;
  toZonedDateTime(zone: string): unknown;
}

const parts = (date: string) => date.split('-').map(Number) as [number, number, number];

/** 'YYYY-MM-DD' as a Temporal.PlainDate look-alike: written as DATE, whatever the server's zone. */
function plainDate(date: string) {
  const [year, month, day] = parts(date);
  return { year, month, day, toPlainDateTime: () => plainDateTime(date, '00:00') };
}

/**
 * A wall-clock time in Europe/Amsterdam. ical-generator asks it for a zoned value in the event's
 * zone and writes that value's own fields back, so the look-alike zoned value is the same time.
 */
function plainDateTime(date: string, time: string): PlainDateTimeLike {
  const [year, month, day] = parts(date);
  const [hour = 0, minute = 0] = time.split(':').map(Number);
  const fields = { year, month, day, hour, minute, second: 0 };
  const self: PlainDateTimeLike = {
    ...fields,
    toPlainDate: () => plainDate(date),
    toZonedDateTime: (zone: string) => {
      const zoned = {
        timeZoneId: zone,
        ...fields,
        toPlainDateTime: () => self,
        withTimeZone: () => zoned,
      };
      return zoned;
    },
  };
  return self;
}

const nextDay = (date: string) => {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
};

export interface RenderOptions {
  /** The calendar's name in the app. */
  name: string;
  /** DTSTAMP of every event: when this version of the feed was made (the portal's clock). */
  now: Date;
  /** The UID's domain part (the portal's host), so UIDs are unique beyond this portal. */
  uidDomain: string;
  /** How often an app should fetch again. */
  refreshSeconds?: number;
}

/** The feed as an .ics text. */
export function renderIcs(events: readonly FeedEvent[], options: RenderOptions): string {
  const calendar = ical({
    name: options.name,
    prodId: { company: 'Ouderportaal', product: 'agenda-koppeling', language: 'NL' },
    method: ICalCalendarMethod.PUBLISH,
    ttl: options.refreshSeconds ?? 60 * 60,
    // No zone for the calendar itself, only for timed events: with one, ical-generator would write
    // DTSTAMP in the server's local time. The generator adds the VTIMEZONE for the events' zone.
    timezone: { name: '', generator: (zone: string) => (zone === FEED_TIMEZONE ? AMSTERDAM_VTIMEZONE : null) },
    x: { 'X-WR-TIMEZONE': FEED_TIMEZONE },
  });
  for (const e of events) {
    const timed = 'from' in e.when;
    const event = calendar.createEvent({
      id: `${e.uid}@${options.uidDomain}`,
      stamp: options.now,
      summary: e.summary,
      ...(e.location && { location: e.location }),
      ...(e.tentative && { status: ICalEventStatus.TENTATIVE }),
      // Days at the opvang do not make the parent busy; a talk does.
      transparency: timed ? ICalEventTransparency.OPAQUE : ICalEventTransparency.TRANSPARENT,
      // ical-generator's types name Date/string/libraries; the look-alikes are what it formats best.
      start: ('from' in e.when ? plainDateTime(e.when.date, e.when.from) : plainDate(e.when.date)) as never,
      end: ('from' in e.when ? plainDateTime(e.when.date, e.when.until) : plainDate(nextDay(e.when.date))) as never,
      allDay: !timed,
      ...(timed && { timezone: FEED_TIMEZONE }),
    });
    void event;
  }
  return calendar.toString();
}
