import type { EntityManager } from '@mikro-orm/postgresql';
import { createHash } from 'node:crypto';
import { boundOf, filterOf, parentIdOf, scopeFilter, scopeOf, staffIdOf } from '../access/index.ts';
import type { Sql } from '../access/rules.ts';
import type { Actor } from '../actor.ts';
import { queryPrepared } from '../db/prepared.ts';

/**
 * The number beside "Berichten" in the navigation, in one statement, because it runs for every
 * page: for a parent, threads with a staff message they have not opened since plus
 * announcements they have not opened; for staff, threads in their groups with a parent message
 * they have not opened since. Announcements are not counted for staff (they send them).
 * The parents' statement is prepared (planned once per connection): it runs on every page.
 */
export async function unreadCount(em: EntityManager, actor: Actor): Promise<number> {
  // The threads the actor may read (`thread.read`) and, for a parent, the announcements
  // (`announcement.read`): the catalogue's words, so the badge never counts what a page would
  // refuse to show. Named after their text: the filters differ by kind of actor.
  const count = parentUnreadSql(em, actor);
  if (count) {
    const sql = `select ${count.sql} as n`;
    const rows = await queryPrepared<{ n: string | number }>(em, statementName('unread_parent', sql), sql, count.params);
    return Number(rows[0]?.n ?? 0);
  }
  const staffId = staffIdOf(actor);
  if (staffId === undefined) return 0;
  const threads = scopeFilter(scopeOf(em, actor, 'thread.read'), 't.id');
  const rows = (await em.getConnection().execute(
    `select count(*) as n from message_thread t
       left join message_read r on r.thread_id = t.id and r.staff_id = ?
      where ${threads.sql}
        and t.last_parent_message_at > coalesce(r.read_at, '-infinity')`,
    [staffId, ...threads.params],
  )) as { n: string | number }[];
  return Number(rows[0]?.n ?? 0);
}

/**
 * A parent's count as one SQL expression, for a statement that answers a page anyway (the home
 * page adds it to its own, so the page costs one round trip less). Undefined for staff.
 */
export function parentUnreadSql(em: EntityManager, actor: Actor): Sql | undefined {
  const parentId = parentIdOf(actor);
  if (parentId === undefined) return undefined;
  const threads = scopeFilter(scopeOf(em, actor, 'thread.read'), 't.id');
  const announcements = filterOf(em, actor, 'announcement.read');
  // The catalogue's own bound first, so the announcements are found by index (boundOf).
  const bound = boundOf(em, actor, 'announcement.read') ?? { sql: 'true', params: [] };
  return {
    sql: `((select count(*) from message_thread t
               left join message_read r on r.thread_id = t.id and r.parent_id = ?
              where ${threads.sql}
                and t.last_staff_message_at > coalesce(r.read_at, '-infinity'))
          + (select count(*) from announcement a
              where ${bound.sql} and ${announcements.sql}
                and not exists (select 1 from announcement_read ar where ar.announcement_id = a.id and ar.parent_id = ?)))`,
    params: [parentId, ...threads.params, ...bound.params, ...announcements.params, parentId],
  };
}

/** A prepared statement's name from its text: one plan per shape of filter. */
export const statementName = (prefix: string, sql: string) => `${prefix}_${createHash('sha1').update(sql).digest('hex').slice(0, 12)}`;
