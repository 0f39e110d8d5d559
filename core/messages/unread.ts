import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor } from '../actor.ts';
import { queryPrepared } from '../db/prepared.ts';
import { parentAnnouncementFilter, staffIdOf } from './access.ts';
import { clockOf } from '../clock.ts';

/**
 * The number beside "Berichten" in the navigation, in one statement, because it runs for every
 * page: for a parent, threads with a staff message they have not opened since plus
 * announcements they have not opened; for staff, threads in their groups with a parent message
 * they have not opened since. Announcements are not counted for staff (they send them).
 * The parents' statement is prepared (planned once per connection): it runs on every page.
 */
export async function unreadCount(em: EntityManager, actor: Actor): Promise<number> {
  if (actor.kind === 'parent') {
    const f = parentAnnouncementFilter(actor.parentId, clockOf(em).today());
    const rows = await queryPrepared<{ n: string | number }>(
      em,
      'unread_parent',
      `select
         (select count(*) from message_thread t
            left join message_read r on r.thread_id = t.id and r.parent_id = ?
           where t.child_id in (select child_id from guardianship where parent_id = ?)
             and t.last_staff_message_at > coalesce(r.read_at, '-infinity'))
       + (select count(*) from announcement a
           where ${f.sql}
             and not exists (select 1 from announcement_read ar where ar.announcement_id = a.id and ar.parent_id = ?)) as n`,
      [actor.parentId, actor.parentId, ...f.params, actor.parentId],
    );
    return Number(rows[0]?.n ?? 0);
  }
  const staffId = staffIdOf(actor);
  if (staffId === null) return 0;
  const groups =
    actor.kind === 'admin'
      ? '(select id from care_group)'
      : `(select sa.group_id from staff_assignment sa where sa.staff_id = ? and sa.group_id is not null
          union select cg.id from care_group cg join staff_assignment sa on sa.location_id = cg.location_id where sa.staff_id = ?)`;
  const rows = (await em.getConnection().execute(
    `select count(*) as n from message_thread t
       left join message_read r on r.thread_id = t.id and r.staff_id = ?
      where t.group_id in ${groups}
        and t.last_parent_message_at > coalesce(r.read_at, '-infinity')`,
    actor.kind === 'admin' ? [staffId] : [staffId, staffId, staffId],
  )) as { n: string | number }[];
  return Number(rows[0]?.n ?? 0);
}
