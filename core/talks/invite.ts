import { AMSTERDAM_VTIMEZONE, FEED_TIMEZONE } from '../calendar-feed/ics.ts';

/**
 * The `.ics` attached to a talk's confirmation (iTIP, RFC 5546): METHOD:REQUEST when booked or
 * moved, METHOD:CANCEL when cancelled. The UID is the booking's (talk-<booking>@<host>), the same
 * as in the parent's calendar feed, so a calendar app that has the invitation updates it in place;
 * SEQUENCE rises with every move and the cancellation, which is what tells an app that this
 * version replaces the one it has.
 *
 * Written out rather than with ical-generator: one event with a fixed shape, and the times are
 * Europe/Amsterdam wall-clock values from the database (TZID with the zone's VTIMEZONE), so the
 * server's own time zone never enters.
 */

export interface TalkInvite {
  method: 'REQUEST' | 'CANCEL';
  uid: string;
  sequence: number;
  /** DTSTAMP: when this version was made (the portal's clock). */
  now: Date;
  /** Wall-clock, Europe/Amsterdam: YYYY-MM-DD, HH:MM. */
  date: string;
  from: string;
  until: string;
  summary: string;
  place: string | null;
  videoUrl: string | null;
  organiser: { name: string; email: string };
  attendee: { name: string; email: string };
}

/** RFC 5545 TEXT: backslash, semicolon, comma and newlines escaped. */
export function icsText(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/;/g, '\\;').replace(/,/g, '\\,').replace(/\r?\n/g, '\\n');
}

/** A parameter value (CN=…): quoted, without the characters a quoted value cannot hold. */
const param = (value: string) => `"${value.replace(/["\r\n]/g, '')}"`;

/** Lines of at most 75 octets, continued with a space (RFC 5545 3.1), never splitting a character. */
export function fold(line: string): string {
  const out: string[] = [];
  let current = '';
  let octets = 0;
  for (const ch of line) {
    const size = Buffer.byteLength(ch);
    const limit = out.length === 0 ? 75 : 74;
    if (octets + size > limit) {
      out.push(current);
      current = '';
      octets = 0;
    }
    current += ch;
    octets += size;
  }
  out.push(current);
  return out.join('\r\n ');
}

const local = (date: string, time: string) => `${date.replace(/-/g, '')}T${time.replace(':', '')}00`;
const utc = (instant: Date) => `${instant.toISOString().replace(/[-:]/g, '').slice(0, 15)}Z`;

export function renderInvite(i: TalkInvite): string {
  const where = [i.place, i.videoUrl].filter((v): v is string => Boolean(v)).join(', ');
  const lines = [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//Ouderportaal//oudergesprekken//NL',
    'CALSCALE:GREGORIAN',
    `METHOD:${i.method}`,
    AMSTERDAM_VTIMEZONE,
    'BEGIN:VEVENT',
    `UID:${i.uid}`,
    `SEQUENCE:${i.sequence}`,
    `DTSTAMP:${utc(i.now)}`,
    `DTSTART;TZID=${FEED_TIMEZONE}:${local(i.date, i.from)}`,
    `DTEND;TZID=${FEED_TIMEZONE}:${local(i.date, i.until)}`,
    `SUMMARY:${icsText(i.summary)}`,
    ...(where ? [`LOCATION:${icsText(where)}`] : []),
    ...(i.videoUrl ? [`URL:${i.videoUrl}`] : []),
    `STATUS:${i.method === 'CANCEL' ? 'CANCELLED' : 'CONFIRMED'}`,
    'TRANSP:OPAQUE',
    `ORGANIZER;CN=${param(i.organiser.name)}:mailto:${i.organiser.email}`,
    `ATTENDEE;CN=${param(i.attendee.name)};ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED:mailto:${i.attendee.email}`,
    'END:VEVENT',
    'END:VCALENDAR',
  ];
  // The VTIMEZONE block is already lines of its own; everything else is folded.
  return `${lines.flatMap((l) => l.split('\r\n')).map(fold).join('\r\n')}\r\n`;
}
