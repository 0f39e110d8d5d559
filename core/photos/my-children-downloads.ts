import type { EntityManager } from '@mikro-orm/postgresql';
import { parentIdOf } from '../access/index.ts';
import type { Actor } from '../actor.ts';
import { clockOf } from '../clock.ts';
import { forbidden } from '../errors.ts';

/**
 * "Who downloaded photos of my child?" (Mijn gegevens). Every download is traced (photo_download);
 * a parent sees the downloads of photos in which their own child is tagged, told by role: they
 * themselves, the child's other parent or carer, or another parent of the group. Never a name:
 * the parent of another child has the same right to privacy, and misuse is for the organisation
 * to follow up (`portal photos trace`), which sees everything.
 */

export type DownloaderRole = 'you' | 'co-guardian' | 'group-parent';

export interface ChildDownload {
  at: Date;
  childFirstName: string;
  photoId: string;
  photoTakenAt: Date;
  by: DownloaderRole;
}

/** How far back the list goes: long enough to notice a pattern, short enough to stay readable. */
export const DOWNLOAD_HISTORY_DAYS = 365;

export async function downloadsOfMyChildren(em: EntityManager, actor: Actor, limit = 100): Promise<ChildDownload[]> {
  const parentId = parentIdOf(actor);
  if (parentId === undefined) throw forbidden('only parents have children whose photos are downloaded');
  const rows = await em.getConnection().execute<
    { at: Date; first_name: string; photo_id: string; taken_at: Date; by: DownloaderRole }[]
  >(
    `select d.at, c.first_name, d.photo_id, ph.taken_at,
            case when d.parent_id = ? then 'you'
                 when exists (select 1 from guardianship g2 where g2.child_id = t.child_id and g2.parent_id = d.parent_id) then 'co-guardian'
                 else 'group-parent' end as by
       from guardianship g
       join photo_tag t on t.child_id = g.child_id
       join photo_download d on d.photo_id = t.photo_id
       join photo ph on ph.id = d.photo_id
       join child c on c.id = t.child_id
      where g.parent_id = ? and d.at > ?::timestamptz - make_interval(days => ?)
      order by d.at desc, d.id desc
      limit ?`,
    [parentId, parentId, clockOf(em).now(), DOWNLOAD_HISTORY_DAYS, limit],
  );
  return rows.map((r) => ({
    at: new Date(r.at),
    childFirstName: r.first_name,
    photoId: r.photo_id,
    photoTakenAt: new Date(r.taken_at),
    by: r.by,
  }));
}
