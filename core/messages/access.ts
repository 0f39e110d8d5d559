import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor } from '../actor.ts';
import { PARENT_GROUPS_SQL } from '../access/index.ts';
import { idsInScope, type Scope } from '../authorization.ts';

/**
 * Who reads and writes which messages (privacy invariant 3 of DESIGN.md), in one place:
 * a parent reads the threads about their own children and the announcements to a group or a
 * location where one of their children is placed today, and writes only to a group where one of
 * their children is placed today; staff and the location manager read and write in the groups
 * they work in; an admin everywhere. Everything else is "not found".
 */

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** SQL: the groups in which one of parent `?` 's children is placed on day `?` (bind parentId, day, day). */
export const PARENT_GROUPS = PARENT_GROUPS_SQL;

/**
 * SQL filter on announcement `a` for one parent, with its bindings. The group and location lists
 * are arrays computed once (`= any(array(...))`), so PostgreSQL can combine the two indexes
 * (by group, by location) instead of reading the whole announcement table: this runs in the
 * unread count of every page.
 */
export function parentAnnouncementFilter(parentId: number, day: string): { sql: string; params: unknown[] } {
  return {
    sql: `(a.group_id = any(array${PARENT_GROUPS})
      or (a.group_id is null and a.location_id = any(array(select cg.location_id from care_group cg where cg.id = any(array${PARENT_GROUPS})))))`,
    params: [parentId, day, day, parentId, day, day],
  };
}

/** The groups whose conversations a staff-side actor handles (`group.messages.read`); none for parents. */
export async function staffGroupScope(em: EntityManager, actor: Actor): Promise<Scope> {
  return await idsInScope(em, actor, 'group.messages.read');
}

/**
 * Moves a reader's mark on a thread forward to `at` (never back), inside the caller's
 * transaction when there is one. Parents and staff each have their own row.
 */
export async function markRead(em: EntityManager, threadId: string, reader: { parentId: number } | { staffId: number }, at: Date) {
  const column = 'parentId' in reader ? 'parent_id' : 'staff_id';
  const id = 'parentId' in reader ? reader.parentId : reader.staffId;
  await em.getConnection().execute(
    `insert into message_read (thread_id, ${column}, read_at) values (?, ?, ?)
     on conflict (thread_id, ${column}) do update set read_at = greatest(message_read.read_at, excluded.read_at)`,
    [threadId, id, at],
    'run',
    em.getTransactionContext(),
  );
}
