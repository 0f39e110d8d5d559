import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor } from '../actor.ts';
import { createHash } from 'node:crypto';
import { filterOf, parentIdOf, SHAREABLE } from '../access/index.ts';
import { queryPrepared } from '../db/prepared.ts';
import { notFound } from '../errors.ts';
import { formatPageCursor, pageLimit, parsePageCursor } from '../paging.ts';

/**
 * Who sees which photo (privacy invariants 1 and 2 of DESIGN.md), decided in SQL so that a list
 * can never contain a photo the rule would refuse, and re-evaluated on every request: a
 * withdrawn consent hides a photo at once, a new grant shows it again. Nothing about sharing is
 * stored on the photo itself.
 */

// The photo rules (privacy invariants 1 and 2) are the catalogue's: `photo.view` and
// `photo.download` in core/access/. Re-exported for the queries that share their words.
export { everyTaggedChildConsents, SHAREABLE } from '../access/index.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface AlbumPhoto {
  id: string;
  groupId: number;
  takenAt: string;
  caption: string | null;
  width: number | null;
  height: number | null;
  /** Whether this parent may download it (one of their own children is tagged). */
  downloadable: boolean;
}

interface Row {
  id: string;
  group_id: number;
  taken_at: string | Date;
  caption: string | null;
  width: number | null;
  height: number | null;
  own_child: boolean;
}

const toView = (r: Row): AlbumPhoto => ({
  id: r.id,
  groupId: r.group_id,
  takenAt: new Date(r.taken_at).toISOString(),
  caption: r.caption,
  width: r.width,
  height: r.height,
  downloadable: r.own_child,
});

/**
 * The album's cursor: the last photo's takenAt and id ("2026-11-24T09:12:00.000Z_<uuid>"), so
 * photos taken in the same second are neither skipped nor repeated. The page puts it in its
 * "more" link, the app API wraps it in an opaque cursor.
 */
export type AlbumCursor = { takenAt: string; id: string };
export const albumCursor = (photo: Pick<AlbumPhoto, 'takenAt' | 'id'>): string => formatPageCursor({ at: photo.takenAt, id: photo.id });
export function parseAlbumCursor(raw: string | undefined): AlbumCursor | undefined {
  const cursor = raw ? parsePageCursor(raw) : undefined;
  return cursor && { takenAt: cursor.at, id: cursor.id };
}

/** The most photos one album page shows when asked up to a cursor (ten pages of "meer laden"). */
export const UNTIL_MAX = 300;

/**
 * The album a parent sees: shareable photos of the groups their children are in today, newest
 * first, `limit` at a time after the cursor `before` (the previous page's last photo: its takenAt
 * and id, so photos taken in the same second are neither skipped nor repeated). Staff and admins
 * use the staff views (which also show held photos); for them this returns nothing.
 */
export async function parentAlbum(
  em: EntityManager,
  actor: Actor,
  options: { before?: AlbumCursor; until?: AlbumCursor; limit?: number; groupId?: number; groupIds?: number[] } = {},
): Promise<AlbumPhoto[]> {
  if (parentIdOf(actor) === undefined) return [];
  // Up to a cursor (`until`, the page's "?tot=" after "meer laden") may be several pages at once.
  const limit = pageLimit(options.limit, 30, options.until ? UNTIL_MAX : 100);
  const view = filterOf(em, actor, 'photo.view');
  const download = filterOf(em, actor, 'photo.download');
  const params: unknown[] = [...download.params, ...view.params];
  let extra = '';
  if (options.before) {
    extra += ' and (p.taken_at, p.id) < (?, ?::uuid)';
    params.push(new Date(options.before.takenAt), options.before.id);
  }
  if (options.until) {
    extra += ' and (p.taken_at, p.id) >= (?, ?::uuid)';
    params.push(new Date(options.until.takenAt), options.until.id);
  }
  if (options.groupId !== undefined) {
    extra += ' and p.group_id = ?';
    params.push(options.groupId);
  }
  if (options.groupIds !== undefined) {
    extra += ' and p.group_id = any(?::int[])';
    params.push(`{${options.groupIds.filter(Number.isSafeInteger).join(',')}}`);
  }
  params.push(limit);
  const rows = (await em.getConnection().execute(
    `select p.id, p.group_id, p.taken_at, p.caption, p.width, p.height, (${download.sql}) as own_child
       from photo p
      where (${view.sql})${extra}
      order by p.taken_at desc, p.id desc
      limit ?`,
    params,
  )) as Row[];
  return rows.map(toView);
}

/**
 * One photo for one actor, or not found: for a parent only when it is in their album right now;
 * for staff and admins when it belongs to a group they work in (held photos included).
 */
export async function photoForActor(em: EntityManager, actor: Actor, photoId: string): Promise<AlbumPhoto> {
  const missing = notFound('photo');
  if (!UUID.test(photoId)) throw missing;
  const view = filterOf(em, actor, 'photo.view');
  const download = filterOf(em, actor, 'photo.download');
  const rows = (await em.getConnection().execute(
    `select p.id, p.group_id, p.taken_at, p.caption, p.width, p.height, (${download.sql}) as own_child
       from photo p
      where p.id = ? and (${view.sql})`,
    [...download.params, photoId, ...view.params],
  )) as Row[];
  if (!rows[0]) throw missing;
  return toView(rows[0]);
}

/**
 * The store key of one image of a photo, for serving it: the same rule as `photoForActor` in a
 * single statement for parents (the suspension check included), because this runs for every
 * thumbnail on every page. Not found when refused.
 */
export async function imageKeyForActor(
  em: EntityManager,
  actor: Actor,
  photoId: string,
  variant: 'thumb' | 'display',
): Promise<string> {
  const missing = notFound('photo');
  if (!UUID.test(photoId)) throw missing;
  const column = variant === 'thumb' ? 'thumb_key' : 'display_key';
  const view = filterOf(em, actor, 'photo.view');
  const sql = `select p.${column} as key from photo p where p.id = ? and (${view.sql})`;
  // Prepared (planned once per connection): the consent rule makes a plan that takes longer
  // to build than to run, and this runs for every thumbnail of every album page. The filter's
  // text differs by kind of actor, so the statement is named after its text.
  const name = `image_key_${createHash('sha1').update(sql).digest('hex').slice(0, 12)}`;
  const rows = await queryPrepared<{ key: string | null }>(em, name, sql, [photoId, ...view.params]);
  if (!rows[0]?.key) throw missing;
  return rows[0].key;
}

/** A photo as the schriftje shows it: a thumbnail with its size. */
export interface DiaryPhoto {
  id: string;
  takenAt: string;
  caption: string | null;
  width: number | null;
  height: number | null;
}

interface DiaryPhotoRow {
  id: string;
  taken_at: string | Date;
  caption: string | null;
  width: number | null;
  height: number | null;
}

const toDiaryPhoto = (r: DiaryPhotoRow): DiaryPhoto => ({
  id: r.id,
  takenAt: new Date(r.taken_at).toISOString(),
  caption: r.caption,
  width: r.width,
  height: r.height,
});

/**
 * The photos staff may attach to a child's schriftje for `day`: photos of the given groups taken
 * that day (Europe/Amsterdam) in which the child is tagged and which are shareable with the
 * group's parents right now (the album's rule, SHAREABLE above). The caller has decided that the
 * actor may see the child and the groups.
 */
export async function taggedShareablePhotos(
  em: EntityManager,
  groupIds: number[],
  childId: number,
  day: string,
): Promise<DiaryPhoto[]> {
  if (groupIds.length === 0) return [];
  const rows = (await em.getConnection().execute(
    `select p.id, p.taken_at, p.caption, p.width, p.height from photo p
      where p.group_id = any(?::int[]) and (p.taken_at at time zone 'Europe/Amsterdam')::date = ?::date
        and exists (select 1 from photo_tag t where t.photo_id = p.id and t.child_id = ?)
        and ${SHAREABLE}
      order by p.taken_at, p.id`,
    [`{${groupIds.join(',')}}`, day, childId],
  )) as DiaryPhotoRow[];
  return rows.map(toDiaryPhoto);
}

/**
 * Of the photos attached to schriftje entries, those this actor may see right now, shareable
 * with parents: for a parent the album's rule (a group one of their children is in today, and
 * every tagged child consents), for staff the groups they work in. A withdrawn consent takes a
 * photo out of every entry at once, as it does out of the album.
 */
export async function shareablePhotos(em: EntityManager, actor: Actor, ids: string[]): Promise<Map<string, DiaryPhoto>> {
  const wanted = [...new Set(ids.filter((id) => /^[0-9a-f-]{36}$/i.test(id)))];
  if (wanted.length === 0) return new Map();
  // One array parameter (ids checked above), however many photos.
  const idArray = `{${wanted.join(',')}}`;
  // Shown in a schriftje means shareable with the group's parents, whoever reads it.
  const view = filterOf(em, actor, 'photo.view');
  const rows = (await em.getConnection().execute(
    `select p.id, p.taken_at, p.caption, p.width, p.height from photo p
      where p.id = any(?::uuid[]) and (${view.sql}) and ${SHAREABLE}`,
    [idArray, ...view.params],
  )) as DiaryPhotoRow[];
  return new Map(rows.map((r) => [r.id, toDiaryPhoto(r)]));
}

/**
 * The photos before and after `photo` in album order (newest first) among those this actor may
 * see right now, narrowed to `groupIds` when given (a child's groups, or the photo's own group
 * for staff, who browse one group at a time): the photo page's previous and next links. Asked
 * with the same rule as the album (`photo.view`), so a link never leads to a photo the viewer
 * may not see.
 */
export async function albumNeighbours(
  em: EntityManager,
  actor: Actor,
  photo: Pick<AlbumPhoto, 'id' | 'takenAt'>,
  options: { groupIds?: number[] } = {},
): Promise<{ newer?: string; older?: string }> {
  const view = filterOf(em, actor, 'photo.view');
  let extra = '';
  const extraParams: unknown[] = [];
  if (options.groupIds !== undefined) {
    extra = ' and p.group_id = any(?::int[])';
    extraParams.push(`{${options.groupIds.filter(Number.isSafeInteger).join(',')}}`);
  }
  const one = async (direction: '<' | '>', order: 'desc' | 'asc') =>
    (
      (await em.getConnection().execute(
        `select p.id from photo p
          where (${view.sql})${extra} and (p.taken_at, p.id) ${direction} (?, ?::uuid)
          order by p.taken_at ${order}, p.id ${order}
          limit 1`,
        [...view.params, ...extraParams, new Date(photo.takenAt), photo.id],
      )) as { id: string }[]
    )[0]?.id;
  return { newer: await one('>', 'asc'), older: await one('<', 'desc') };
}
