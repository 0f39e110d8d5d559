/**
 * The kinds of object an action is about, and how each reaches the relations the rules speak
 * of: its table, the alias the conditions use, the shape of its id, and the SQL expression (on
 * that alias) of its child, group, (child, group) placement, location, parent and account. A relation a
 * kind does not have is simply absent: a rule on it can then never grant that kind (the
 * catalogue's own test checks every declared rule reaches its target).
 */

export interface Target {
  table: string;
  alias: string;
  id: 'int' | 'uuid' | 'none';
  child?: string;
  group?: string;
  location?: string;
  placement?: string;
  parent?: string;
  account?: string;
}

const groupLocation = (alias: string) => `(select cg.location_id from care_group cg where cg.id = ${alias}.group_id)`;

export const targets = {
  /** Things an administrator does with no object of its own (the directory, the audit log). */
  organisation: { table: 'organisation', alias: 'o', id: 'none' },
  location: { table: 'location', alias: 'l', id: 'int', location: 'l.id' },
  group: { table: 'care_group', alias: 'cg', id: 'int', group: 'cg.id', location: 'cg.location_id' },
  child: { table: 'child', alias: 'c', id: 'int', child: 'c.id' },
  parent: { table: 'parent', alias: 'pa', id: 'int', parent: 'pa.id' },
  photo: { table: 'photo', alias: 'p', id: 'uuid', group: 'p.group_id', location: groupLocation('p') },
  thread: {
    table: 'message_thread',
    alias: 'mt',
    id: 'uuid',
    child: 'mt.child_id',
    group: 'mt.group_id',
    placement: '(mt.child_id, mt.group_id)',
    location: groupLocation('mt'),
  },
  announcement: { table: 'announcement', alias: 'a', id: 'uuid', group: 'a.group_id', location: 'a.location_id' },
  diaryEntry: { table: 'diary_entry', alias: 'de', id: 'uuid', child: 'de.child_id' },
  cancellation: { table: 'day_cancellation', alias: 'dc', id: 'int', child: 'dc.child_id', group: 'dc.group_id' },
  credit: { table: 'swap_credit', alias: 'sc', id: 'int', child: 'sc.child_id', group: 'sc.group_id' },
  swapRequest: { table: 'swap_request', alias: 'sr', id: 'int', child: 'sr.child_id', group: 'sr.group_id' },
  /** A login of a parent or a staff member: what is about the person's own account (push). */
  account: { table: 'account', alias: 'acc', id: 'int', account: 'acc.id' },
  /** One browser subscribed to an account's push notifications. */
  pushSubscription: { table: 'push_subscription', alias: 'psub', id: 'int', account: 'psub.account_id' },
} as const satisfies Record<string, Target>;

export type TargetKind = keyof typeof targets;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `id` can name an object of this kind at all (a malformed id is simply not found). */
export function wellFormedId(target: Target, id: unknown): boolean {
  if (target.id === 'none') return true;
  if (target.id === 'int') return typeof id === 'number' && Number.isSafeInteger(id) && id > 0 && id <= 2_147_483_647;
  return typeof id === 'string' && UUID.test(id);
}
