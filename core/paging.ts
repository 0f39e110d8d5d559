/**
 * Keyset paging for lists ordered newest first by a timestamp and then by id: the cursor is the
 * last item's (time, id), and the next page is what sorts strictly after it. Unlike OFFSET it
 * neither repeats nor skips an item when new ones arrive at the top while an app pages down.
 *
 * The time travels as text with PostgreSQL's microseconds (`pageTimeSql`): a JavaScript Date
 * keeps only milliseconds, and two messages in the same millisecond would otherwise be skipped.
 * The album (taken_at set from a JavaScript Date, so milliseconds) uses the same cursor form.
 */

export interface PageCursor {
  /** ISO 8601 in UTC with up to microseconds, as pageTimeSql prints it. */
  at: string;
  id: string;
}

export interface Page<T> {
  items: T[];
  /** Pass as `before` for the next page; undefined on the last page. */
  next?: PageCursor;
}

const CURSOR = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?Z)_([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;

/** A column's time as the cursor carries it. */
export const pageTimeSql = (column: string) => `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

export const formatPageCursor = (cursor: PageCursor): string => `${cursor.at}_${cursor.id}`;

export function parsePageCursor(raw: string): PageCursor | undefined {
  const m = CURSOR.exec(raw);
  return m && !Number.isNaN(Date.parse(m[1]!)) ? { at: m[1]!, id: m[2]!.toLowerCase() } : undefined;
}

/** The SQL condition "after the cursor" for `order by <column> desc, <id> desc`, and its bindings. */
export function afterCursor(column: string, idColumn: string, before: PageCursor | undefined): { sql: string; params: unknown[] } {
  return before ? { sql: ` and (${column}, ${idColumn}) < (?::timestamptz, ?::uuid)`, params: [before.at, before.id] } : { sql: '', params: [] };
}

export const pageLimit = (limit: number | undefined, fallback: number, max: number) => Math.min(Math.max(Math.trunc(limit ?? fallback), 1), max);

/**
 * Turns `limit + 1` fetched rows into a page: the extra row only says there is more, and the
 * cursor is the last row shown.
 */
export function toPage<R extends { cursor_at: string; id: string }, T>(rows: R[], limit: number, map: (row: R) => T): Page<T> {
  const shown = rows.slice(0, limit);
  const last = shown[shown.length - 1];
  return { items: shown.map(map), next: rows.length > limit && last ? { at: last.cursor_at, id: last.id } : undefined };
}
