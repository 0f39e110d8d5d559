/**
 * A small iCalendar reader for the tests (RFC 5545 §3.1): unfolds lines and returns each VEVENT
 * as its properties (name with parameters, e.g. `DTSTART;VALUE=DATE`, to the unescaped value),
 * plus the calendar's own lines. Enough to assert what a feed says; not a general parser.
 */
export interface ParsedIcs {
  lines: string[];
  events: Record<string, string>[];
  /** The text between BEGIN:VTIMEZONE and END:VTIMEZONE, per TZID. */
  timezones: Map<string, string>;
}

const unescapeText = (v: string) => v.replace(/\\n/gi, '\n').replace(/\\([,;\\])/g, '$1');

export function parseIcs(text: string): ParsedIcs {
  if (!text.startsWith('BEGIN:VCALENDAR\r\n') || !text.trimEnd().endsWith('END:VCALENDAR')) throw new Error('not an iCalendar text');
  const lines = text.replace(/\r\n[ \t]/g, '').split('\r\n').filter(Boolean);
  const events: Record<string, string>[] = [];
  const timezones = new Map<string, string>();
  let event: Record<string, string> | null = null;
  let zone: string[] | null = null;
  for (const line of lines) {
    if (line === 'BEGIN:VEVENT') event = {};
    else if (line === 'END:VEVENT') {
      events.push(event!);
      event = null;
    } else if (line === 'BEGIN:VTIMEZONE') zone = [];
    else if (line === 'END:VTIMEZONE') {
      const id = zone!.find((l) => l.startsWith('TZID:'))?.slice(5) ?? '';
      timezones.set(id, zone!.join('\n'));
      zone = null;
    } else if (zone) zone.push(line);
    else if (event) {
      const colon = line.indexOf(':');
      event[line.slice(0, colon)] = unescapeText(line.slice(colon + 1));
    }
  }
  return { lines, events, timezones };
}

/** An event's start date (YYYY-MM-DD) whether it is a DATE or a DATE-TIME value. */
export function startDate(event: Record<string, string>): string {
  const key = Object.keys(event).find((k) => k === 'DTSTART' || k.startsWith('DTSTART;'))!;
  const v = event[key]!;
  return `${v.slice(0, 4)}-${v.slice(4, 6)}-${v.slice(6, 8)}`;
}
