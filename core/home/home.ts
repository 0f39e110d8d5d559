import type { EntityManager } from '@mikro-orm/postgresql';
import { parentIdOf } from '../access/index.ts';
import type { Actor } from '../actor.ts';
import { settledThreadFilter } from '../access/index.ts';
import { parentAnnouncementFilter } from '../messages/access.ts';
import { dayOf } from '../dates.ts';
import { queryPrepared } from '../db/prepared.ts';
import type { Sql } from '../access/rules.ts';
import { parentUnreadSql, statementName } from '../messages/unread.ts';
import { SHAREABLE } from '../photos/visibility.ts';
import { clockOf } from '../clock.ts';
import { shownMentorSql } from '../directory/mentor.ts';

/**
 * The parent's home page: per child today's schriftje, the newest photos of the child's group,
 * unread messages about the child; and the newest announcements for the parent's groups and
 * locations. Built in ONE statement (json aggregated per child), because this is the page every
 * parent opens first, at the same times of day: each extra round trip would be paid by
 * thousands of parents at 17:30. The rules are the same as on the pages behind it: photos by
 * the album's SHAREABLE rule, announcements by the groups the parent's children are in today.
 */

/** Thumbnails per child on the home page. */
export const HOME_PHOTOS = 6;
/** Announcements on the home page. */
export const HOME_ANNOUNCEMENTS = 3;

export interface HomeDiaryEntry {
  authorKind: 'staff' | 'parent';
  authorLabel: string;
  text: string;
  lines: { label: string; text: string }[];
}

export interface HomePhoto {
  id: string;
  width: number | null;
  height: number | null;
  caption: string | null;
}

export interface HomeChild {
  id: number;
  firstName: string;
  name: string;
  groupName: string;
  locationName: string;
  diary: HomeDiaryEntry[];
  photos: HomePhoto[];
  unreadThreads: number;
  /** The child's mentor (core/directory/mentor.ts), while active staff of the child's group; else null. */
  mentor: { name: string } | null;
}

export interface HomeAnnouncement {
  id: string;
  subject: string;
  createdAt: string;
  read: boolean;
  /** It asks for a read confirmation and this parent has not given it yet ("bevestigen gevraagd"). */
  confirm: boolean;
  where: string;
}

export interface ParentHome {
  children: HomeChild[];
  announcements: HomeAnnouncement[];
  /** The number beside "Berichten" (core/messages/unread.ts), from the same statement. */
  unread: number;
}

/** The home page's statement for one parent and day (exported so bench/home.ts can EXPLAIN it). */
export function parentHomeQuery(parentId: number, day: string, unread: Sql = { sql: '0', params: [] }): Sql {
  const reaches = parentAnnouncementFilter(parentId, day);
  const hidden = settledThreadFilter(parentId, 't');
  return {
    sql: `with active as (
       select 1 as ok where not exists (select 1 from account a where a.parent_id = ? and a.suspended_at is not null)
     ), kids as (
       select distinct on (c.id) c.id, c.first_name, c.infix, c.last_name, c.birth_date, c.mentor_id, pl.group_id,
              cg.name as group_name, l.name as location_name,
              -- All of today's groups (a child in two groups has one card): the mentor may work in the other.
              (select array_agg(p2.group_id) from placement p2
                where p2.child_id = c.id and p2.start_date <= ?::date and (p2.end_date is null or p2.end_date >= ?::date)) as group_ids
         from guardianship g
         join child c on c.id = g.child_id
         join placement pl on pl.child_id = c.id and pl.start_date <= ?::date and (pl.end_date is null or pl.end_date >= ?::date)
         join care_group cg on cg.id = pl.group_id
         join location l on l.id = cg.location_id
        where g.parent_id = ? and exists (select 1 from active)
        order by c.id, pl.start_date desc
     )
     select json_build_object(
       'children', coalesce((select json_agg(json_build_object(
           'id', k.id, 'firstName', k.first_name,
           'name', concat_ws(' ', k.first_name, k.infix, k.last_name),
           'groupName', k.group_name, 'locationName', k.location_name,
           'mentor', ${shownMentorSql('k', 'k.group_ids')},
           'diary', coalesce((select json_agg(json_build_object('authorKind', d.author_kind, 'authorLabel', d.author_label,
                                 'text', d.text, 'lines', d.lines) order by d.author_kind desc, d.created_at, d.id)
                               from diary_entry d where d.child_id = k.id and d.day = ?::date), '[]'::json),
           'photos', coalesce((select json_agg(json_build_object('id', x.id, 'width', x.width, 'height', x.height, 'caption', x.caption))
                                from (select p.id, p.width, p.height, p.caption from photo p
                                       where p.group_id = k.group_id and ${SHAREABLE}
                                       order by p.taken_at desc, p.id desc limit ${HOME_PHOTOS}) x), '[]'::json),
           'unreadThreads', (select count(*) from message_thread t
                              where t.child_id = k.id and t.last_staff_message_at is not null and ${hidden.sql}
                                and not exists (select 1 from message_read r where r.thread_id = t.id and r.parent_id = ?
                                                  and r.read_at >= t.last_staff_message_at))
         ) order by k.birth_date, k.first_name) from kids k), '[]'::json),
       'announcements', coalesce((select json_agg(json_build_object('id', x.id, 'subject', x.subject, 'createdAt', x.created_at,
                                   'read', x.read, 'confirm', x.confirm, 'where', x.place) order by x.created_at desc, x.id desc)
         from (select a.id, a.subject, a.created_at, coalesce(g.name, l.name) as place,
                      exists (select 1 from announcement_read r where r.announcement_id = a.id and r.parent_id = ?) as read,
                      a.confirmation_requested and not exists (select 1 from announcement_confirmation ac
                                                                where ac.announcement_id = a.id and ac.parent_id = ?) as confirm
                 from announcement a
                 join location l on l.id = a.location_id
                 left join care_group g on g.id = a.group_id
                where exists (select 1 from active) and ${reaches.sql}
                order by a.created_at desc, a.id desc limit ${HOME_ANNOUNCEMENTS}) x), '[]'::json),
       'unread', ${unread.sql}
     ) as home`,
    params: [parentId, day, day, day, day, parentId, day, ...hidden.params, parentId, parentId, parentId, ...reaches.params, ...unread.params],
  };
}

export async function parentHome(em: EntityManager, actor: Actor, now = clockOf(em).now()): Promise<ParentHome> {
  const parentId = parentIdOf(actor);
  if (parentId === undefined) return { children: [], announcements: [], unread: 0 };
  // The navigation's unread count rides along: the page needs it, and a round trip is most of
  // what a cheap statement costs (bench/home.ts).
  const { sql, params } = parentHomeQuery(parentId, dayOf(now), parentUnreadSql(em, actor));
  const rows = await queryPrepared<{ home: ParentHome }>(em, statementName('parent_home', sql), sql, params);
  return rows[0]!.home;
}
