import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor } from '../actor.ts';
import { createHash } from 'node:crypto';
import { filterOf, groupsOf, parentIdOf, SHAREABLE } from '../access/index.ts';
import type { Sql } from '../access/rules.ts';
import { queryPrepared } from '../db/prepared.ts';
import { notFound } from '../errors.ts';
import { formatPageCursor, pageLimit, pageTimeSql, parsePageCursor } from '../paging.ts';

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

export interface AlbumRow {
  id: string;
  group_id: number;
  taken_at: string | Date;
  caption: string | null;
  width: number | null;
  height: number | null;
  own_child: boolean;
}

/** A photo row of the album's queries as the album shows it. */
export const albumPhotoOf = (r: AlbumRow): AlbumPhoto => ({
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
 *
 * Walked group by group, so that a page costs the same after five years as after five days:
 * per group the next candidates in album order come from the (group_id, taken_at) index, and the
 * `photo.view` rule (consents, tags, the parent's groups) is evaluated on those candidates only,
 * on every request (a withdrawn consent hides a photo on the next one). When the rule rejects
 * candidates, the groups that could still contribute are asked again from their last candidate
 * on, in growing batches, until the page is certain. The groups come from the same catalogue
 * (`groupsOf`): a bound the rule itself then checks, not a second rule.
 */
export async function parentAlbum(
  em: EntityManager,
  actor: Actor,
  options: { before?: AlbumCursor; until?: AlbumCursor; limit?: number; groupId?: number; groupIds?: number[] } = {},
): Promise<AlbumPhoto[]> {
  if (parentIdOf(actor) === undefined) return [];
  // Up to a cursor (`until`, the page's "?tot=" after "meer laden") may be several pages at once.
  const limit = pageLimit(options.limit, 30, options.until ? UNTIL_MAX : 100);
  const groups = groupsOf(em, actor, 'photo.view');
  // Every rule that lets a parent see a photo goes through its group (catalogue.ts).
  if (!groups) throw new Error('photo.view reaches a parent\'s photos other than through a group');
  const view = filterOf(em, actor, 'photo.view');
  const download = filterOf(em, actor, 'photo.download');
  const wanted: number[] | undefined =
    options.groupIds !== undefined || options.groupId !== undefined
      ? [...(options.groupIds ?? []), ...(options.groupId !== undefined ? [options.groupId] : [])].filter(Number.isSafeInteger)
      : undefined;
  const onlyWanted = (column: string): Sql => {
    if (options.groupIds !== undefined && options.groupId !== undefined) {
      return { sql: ` and ${column} = any(?::int[]) and ${column} = ?`, params: [intArray(options.groupIds), options.groupId] };
    }
    return wanted ? { sql: ` and ${column} = any(?::int[])`, params: [intArray(wanted)] } : { sql: '', params: [] };
  };
  const until: Sql = options.until
    ? { sql: ' and (p.taken_at, p.id) >= (?, ?::uuid)', params: [new Date(options.until.takenAt), options.until.id] }
    : { sql: '', params: [] };
  const start: Cursor = options.before
    ? { at: new Date(options.before.takenAt).toISOString(), id: options.before.id }
    : { at: 'infinity', id: 'ffffffff-ffff-ffff-ffff-ffffffffffff' };

  // One round: the next `k` photos in album order of each group after its cursor, with the rule's verdict.
  const round = async (from: Sql, k: number): Promise<Candidate[]> => {
    const sql = `select p.id, p.group_id, p.taken_at, p.caption, p.width, p.height, ${pageTimeSql('p.taken_at')} as at_text,
              (extract(epoch from p.taken_at) * 1000000)::bigint::text as at_us,
              (${view.sql}) as visible, (${download.sql}) as own_child
         from ${from.sql}
         cross join lateral (
           select * from photo p
            where p.group_id = g.gid and p.taken_at <= g.at and (p.taken_at, p.id) < (g.at, g.pid)${until.sql}
            order by p.taken_at desc, p.id desc
            limit ?) p`;
    const params = [...view.params, ...download.params, ...from.params, ...until.params, k];
    // Not prepared: a generic plan (any limit, any groups) measured slower than planning each time.
    return (await em.getConnection().execute(sql, params, 'all', em.getTransactionContext())) as Candidate[];
  };

  const first = onlyWanted('s.gid');
  let k = Math.ceil(limit * 1.25) + 1;
  let candidates = await round(
    {
      sql: `(select distinct s.gid, ?::timestamptz as at, ?::uuid as pid from (${groups.sql}) s(gid) where s.gid is not null${first.sql}) g`,
      params: [start.at, start.id, ...groups.params, ...first.params],
    },
    k,
  );
  const shown: Candidate[] = [];
  const frontier = new Map<number, Candidate>();
  const take = (batch: Candidate[], asked: Set<number> | undefined) => {
    const count = new Map<number, number>();
    const oldest = new Map<number, Candidate>();
    for (const c of batch) {
      if (c.visible) shown.push(c);
      const seen = oldest.get(c.group_id);
      if (!seen || albumOrder(c, seen) > 0) oldest.set(c.group_id, c);
      count.set(c.group_id, (count.get(c.group_id) ?? 0) + 1);
    }
    // Each group's oldest candidate is where its next batch starts.
    for (const [g, c] of oldest) frontier.set(g, c);
    // A group that gave fewer than asked has no more; so has one that was asked and gave none.
    for (const g of asked ?? count.keys()) if ((count.get(g) ?? 0) < k) frontier.delete(g);
  };
  take(candidates, undefined);
  for (;;) {
    shown.sort(albumOrder);
    const last = shown.length >= limit ? shown[limit - 1] : undefined;
    // Groups whose unseen photos could still belong on the page: those not past the page's last photo.
    const open = [...frontier.values()].filter((c) => !last || albumOrder(c, last) < 0);
    if (open.length === 0) break;
    for (const c of frontier.values()) if (!open.includes(c)) frontier.delete(c.group_id);
    // Fast growth: a group whose photos are mostly held costs few round trips.
    k = Math.min(k * 4, 5000);
    candidates = await round(
      {
        sql: 'unnest(?::int[], ?::timestamptz[], ?::uuid[]) g(gid, at, pid)',
        params: [intArray(open.map((c) => c.group_id)), textArray(open.map((c) => c.at_text)), textArray(open.map((c) => c.id))],
      },
      k,
    );
    take(candidates, new Set(open.map((c) => c.group_id)));
  }
  return shown.slice(0, limit).map(albumPhotoOf);
}

interface Candidate extends AlbumRow {
  visible: boolean;
  /** taken_at in UTC with its microseconds (pageTimeSql): the next round's cursor. */
  at_text: string;
  /** taken_at in microseconds since 1970, for ordering here exactly as PostgreSQL does. */
  at_us: string;
}

type Cursor = { at: string; id: string };

/** Album order, newest first: negative when `a` comes before `b`. UUIDs compare as their hex text. */
function albumOrder(a: Candidate, b: Candidate): number {
  const at = BigInt(b.at_us) - BigInt(a.at_us);
  if (at !== 0n) return at > 0n ? 1 : -1;
  return a.id === b.id ? 0 : a.id < b.id ? 1 : -1;
}

const intArray = (ids: number[]): string => `{${ids.filter(Number.isSafeInteger).join(',')}}`;
const textArray = (values: string[]): string => `{${values.map((v) => `"${v}"`).join(',')}}`;

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
  )) as AlbumRow[];
  if (!rows[0]) throw missing;
  return albumPhotoOf(rows[0]);
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
