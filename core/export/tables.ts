/**
 * What `portal export` writes, table by table. An export is a file that admins copy around (to a
 * backup disk, a laptop, a ticket), so it holds the organisation's data and never a credential:
 * password hashes, second-factor secrets, session ids, reset and confirmation tokens and the
 * server's signing keys stay in the database.
 *
 * Adding a table to the portal means adding one line here, to EXPORTED or to EXCLUDED with the
 * reason; `tables.test.ts` fails while a table of the migrated database is in neither list.
 * Columns are exported by default (a new column of an exported table lands in the next export);
 * that test also fails when a column whose name says hash, secret or token is not excluded.
 */

export interface ExportTable {
  /** The table's name in PostgreSQL. */
  name: string;
  /**
   * The column `--since` filters on: a timestamp that is set whenever a row is written
   * (updated_at) or, for rows never changed after they were written, their creation time. Null:
   * the table has rows that change without such a column, so `--since` exports it in full.
   */
  since: string | null;
  /** Columns never exported (secrets). A restore leaves them at their default (null). */
  excludeColumns?: readonly string[];
  /** The table belongs to a plugin: exported when the plugin's migrations created it, else skipped. */
  plugin?: string;
}

/** Every exported table, parents before children (foreign keys): the order of the files and of a restore. */
export const EXPORTED: readonly ExportTable[] = [
  { name: 'organisation', since: 'updated_at' },
  { name: 'staff', since: 'updated_at' },
  { name: 'location', since: 'updated_at' },
  { name: 'care_group', since: 'updated_at' },
  { name: 'child', since: 'updated_at' },
  // The end date of a placement is set later, without an updated_at: exported in full.
  { name: 'placement', since: null },
  { name: 'consent_record', since: 'recorded_at' },
  { name: 'parent', since: 'updated_at' },
  { name: 'guardianship', since: 'created_at' },
  { name: 'staff_assignment', since: 'created_at' },
  { name: 'account', since: 'updated_at', excludeColumns: ['password_hash', 'totp_secret'] },
  // State, caption and hidden_at change without an updated_at: exported in full.
  { name: 'photo', since: null },
  { name: 'photo_tag', since: 'created_at' },
  { name: 'photo_download', since: 'at' },
  // Every write of a view row (a view sent, an AVG export, a new traced copy) sets last_at.
  { name: 'photo_view', since: 'last_at' },
  { name: 'diary_entry', since: 'updated_at' },
  { name: 'diary_entry_revision', since: 'edited_at' },
  { name: 'diary_entry_seen', since: 'seen_at' },
  // Picks are added and taken back, never changed.
  { name: 'diary_item', since: 'created_at' },
  { name: 'message_thread', since: 'last_message_at' },
  { name: 'message', since: 'created_at' },
  { name: 'message_read', since: 'read_at' },
  { name: 'announcement', since: 'created_at' },
  { name: 'announcement_read', since: 'read_at' },
  { name: 'announcement_confirmation', since: 'confirmed_at' },
  { name: 'announcement_reminder', since: 'sent_at' },
  { name: 'message_attachment', since: 'created_at' },
  { name: 'schedule_rules', since: 'updated_at' },
  { name: 'contract_day', since: 'created_at' },
  { name: 'day_cancellation', since: 'created_at' },
  { name: 'swap_credit', since: 'created_at' },
  // "Weer beter" moves the last day of a report without an updated_at: exported in full.
  { name: 'sick_report', since: null },
  { name: 'pickup_note', since: 'updated_at' },
  // Status, reason and decision change later without an updated_at: exported in full.
  { name: 'swap_request', since: null },
  { name: 'talk_slot', since: 'updated_at' },
  { name: 'audit_event', since: 'at' },
  // Status and closed_at change later without an updated_at: exported in full.
  { name: 'helpdesk_request', since: null, plugin: 'helpdesk' },
  { name: 'faq_entry', since: 'updated_at', plugin: 'faq' },
];

/** Tables of the database that are never exported, and why. */
export const EXCLUDED: Readonly<Record<string, string>> = {
  session: 'login sessions: their ids are credentials, and a restored portal starts with everyone logged out',
  password_reset_token: 'reset links are credentials and expire within the hour',
  recovery_code: 'second-factor recovery codes are credentials',
  photo_variant: "kept image variants of the photo page (a cache of derived files); made again on the first request",
  email_change: 'pending address changes carry a confirmation token; the confirmed address is in account',
  server_secret: 'signing keys of the unsubscribe links and the Web Push (VAPID) key; a restored portal makes new ones',
  rate_limit: 'login throttling counters that expire by themselves',
  mikro_orm_migrations: 'the schema state, recorded in the manifest as the schema version',
  api_token: 'app logins: their hashes are credentials, and a restored portal has every app log in again',
  data_export: "pending 'download mijn gegevens' links (token hashes) and files that live 48 hours",
  push_subscription: 'browser push endpoints and their keys, bound to the VAPID key in server_secret: devices subscribe again on a restored portal',
  push_setting: 'push choices per account that go with the subscriptions; chosen again when a device subscribes',
  calendar_feed: "parents' private calendar links: their hashes are credentials; a parent makes a new link on a restored portal",
  year_book: 'when a parent was offered and last made a year book (herinneringenboek): a once-only mail mark and a rate limit, not data about the child',
  periodic_run: 'when each background task last ran (core/jobs/periodic.ts): state of the running servers, not data',
  deleted_row: 'not a table of its own in an export: a --since export writes its rows as deleted_row (the keys deleted since then)',
};

/** How long deleted_row keeps a deletion: a `--since` export older than this misses deletions (README). */
export const DELETED_ROW_DAYS = 90;

/** A column name that says it holds a credential: must be excluded (checked by tables.test.ts). */
export const SECRET_COLUMN = /hash|secret|token|password(?!_(must_change|expires_at|changed_at))/;

export function findExportTable(name: string): ExportTable | undefined {
  return EXPORTED.find((t) => t.name === name);
}
