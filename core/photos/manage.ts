import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor } from '../actor.ts';
import { audit } from '../audit.ts';
import { sql } from '../db/sql.ts';
import { authorize, can, filterOf } from '../access/index.ts';
import { Group } from '../entities/group.ts';
import { Photo } from '../entities/photo.ts';
import { forbidden, } from '../errors.ts';
import { referencedKeys } from './retention.ts';
import { photoForStaff } from './tagging.ts';
import { type PhotoContext, releaseSource } from './upload.ts';
import { SHAREABLE } from './visibility.ts';
import { pageLimit } from '../paging.ts';
import { systemClock } from '../clock.ts';
import { clockOf } from '../clock.ts';

/**
 * The staff side of photos: the groups one may upload to, a group's photos with what parents
 * see of each (shared, held and why, waiting for a decision), the tag sheet of one photo, and
 * deleting. Staff of a group see every photo of it, held ones included; who may hide or delete
 * a photo is `mayManage`: the uploader, the location manager, an admin.
 */

/** What the parents of the group see of a photo, in one word. */
export type PhotoStatus = 'processing' | 'failed' | 'hidden' | 'shared' | 'held' | 'needs_confirmation' | 'unpublished';

export interface StaffPhoto {
  id: string;
  groupId: number;
  takenAt: string;
  uploadedAt: string;
  caption: string | null;
  status: PhotoStatus;
  failureReason: string | null;
  /** Why it failed, as a code the page translates (upload.ts PhotoFailureCode); null for older failures. */
  failureCode: string | null;
  /** Failed with its upload still kept: "opnieuw proberen" can help (retry.ts). */
  retryable: boolean;
  tagCount: number;
  noChildConfirmed: boolean;
  /** Tagged children without internal consent in force ("Thijs: geen toestemming"). */
  heldFor: string[];
  width: number | null;
  height: number | null;
  /** The actor may hide or delete it. */
  mayManage: boolean;
  /** Uploaded for the batch tagging screen and not published yet: parents do not see it. */
  awaitingPublish: boolean;
}

interface StaffRow {
  id: string;
  group_id: number;
  taken_at: Date | string;
  uploaded_at: Date | string;
  caption: string | null;
  state: 'processing' | 'ready' | 'failed';
  failure_reason: string | null;
  failure_code: string | null;
  has_source: boolean;
  hidden: boolean;
  no_child_confirmed: boolean;
  awaiting_publish: boolean;
  uploaded_by_id: number | null;
  may_manage: boolean;
  tag_count: number;
  shared: boolean;
  held_for: string[] | null;
  width: number | null;
  height: number | null;
}

const STAFF_COLUMNS = `p.id, p.group_id, p.taken_at, p.uploaded_at, p.caption, p.state, p.failure_reason,
  p.failure_code, p.source_key is not null as has_source,
  p.hidden_at is not null as hidden, p.no_child_confirmed, p.awaiting_publish, p.uploaded_by_id, p.width, p.height,
  (select count(*) from photo_tag t where t.photo_id = p.id)::int as tag_count,
  ${SHAREABLE} as shared,
  (select array_agg(concat_ws(' ', c.first_name, c.infix, c.last_name) order by c.first_name)
     from photo_tag t join child c on c.id = t.child_id
    where t.photo_id = p.id
      and not coalesce((select cr.internal from consent_record cr where cr.child_id = t.child_id
                         order by cr.recorded_at desc, cr.id desc limit 1), false)) as held_for`;

function statusOf(r: StaffRow): PhotoStatus {
  if (r.state !== 'ready') return r.state;
  if (r.hidden) return 'hidden';
  if (r.shared) return 'shared';
  if (r.tag_count === 0 && !r.no_child_confirmed) return 'needs_confirmation';
  // Nothing stands in the way but the publish button of the batch tagging screen.
  if (r.awaiting_publish && (r.held_for ?? []).length === 0) return 'unpublished';
  return 'held';
}

const toStaffPhoto = (r: StaffRow): StaffPhoto => ({
  id: r.id,
  groupId: r.group_id,
  takenAt: new Date(r.taken_at).toISOString(),
  uploadedAt: new Date(r.uploaded_at).toISOString(),
  caption: r.caption,
  status: statusOf(r),
  failureReason: r.failure_reason,
  failureCode: r.failure_code,
  retryable: r.state === 'failed' && r.has_source,
  tagCount: r.tag_count,
  noChildConfirmed: r.no_child_confirmed,
  heldFor: r.held_for ?? [],
  width: r.width,
  height: r.height,
  mayManage: r.may_manage,
  awaitingPublish: r.awaiting_publish,
});

/** The staff columns with `may_manage` (the catalogue's `photo.hide` for this actor), and its bindings. */
function staffColumns(em: EntityManager, actor: Actor) {
  const hide = filterOf(em, actor, 'photo.hide');
  return { sql: `${STAFF_COLUMNS}, (${hide.sql}) as may_manage`, params: hide.params };
}

/**
 * A group's photos for its staff, newest upload first (what was just uploaded is on top),
 * `limit` at a time after the cursor `{ uploadedAt, id }` of the previous page's last photo.
 */
export async function groupPhotosForStaff(
  em: EntityManager,
  actor: Actor,
  groupId: number,
  options: { after?: { uploadedAt: string; id: string }; limit?: number; ids?: string[]; awaitingPublish?: boolean } = {},
): Promise<StaffPhoto[]> {
  await authorize(em, actor, 'group.work', groupId, 'group');
  const limit = pageLimit(options.limit, 30, 100);
  const columns = staffColumns(em, actor);
  const params: unknown[] = [...columns.params, groupId];
  let extra = '';
  if (options.after) {
    extra += ' and (p.uploaded_at, p.id) < (?, ?::uuid)';
    params.push(new Date(options.after.uploadedAt), options.after.id);
  }
  if (options.ids) {
    extra += ' and p.id = any(?::uuid[])';
    params.push(`{${options.ids.filter((id) => /^[0-9a-f-]{36}$/i.test(id)).join(',')}}`);
  }
  if (options.awaitingPublish) extra += ' and p.awaiting_publish';
  params.push(limit);
  const rows = (await em.getConnection().execute(
    `select ${columns.sql} from photo p where p.group_id = ?${extra}
      order by p.uploaded_at desc, p.id desc limit ?`,
    params,
  )) as StaffRow[];
  return rows.map(toStaffPhoto);
}

/** One photo as its group's staff see it; not found outside the actor's groups. */
export async function staffPhoto(em: EntityManager, actor: Actor, photoId: string): Promise<StaffPhoto> {
  const photo = await photoForStaff(em, actor, photoId);
  const columns = staffColumns(em, actor);
  const rows = (await em
    .getConnection()
    .execute(`select ${columns.sql} from photo p where p.id = ?`, [...columns.params, photo.id])) as StaffRow[];
  return toStaffPhoto(rows[0]!);
}

export interface TagSheetChild {
  childNumber: string;
  name: string;
  tagged: boolean;
  /** Consent in force; null when nothing is recorded (which counts as no). */
  internal: boolean | null;
  external: boolean | null;
  /** Tagged earlier but no longer placed in the group: can only be untagged. */
  leftGroup: boolean;
}

export interface TagSheet {
  photo: StaffPhoto;
  groupName: string;
  children: TagSheetChild[];
}

/**
 * The checklist staff tag with: the children placed in the photo's group today, each with
 * their consent at a glance, plus any tagged child that has since left the group.
 */
export async function tagSheet(em: EntityManager, actor: Actor, photoId: string): Promise<TagSheet> {
  const photo = await staffPhoto(em, actor, photoId);
  const day = clockOf(em).today();
  const rows = (await em.getConnection().execute(
    `select c.child_number, c.first_name, c.infix, c.last_name,
            exists (select 1 from photo_tag t where t.photo_id = ? and t.child_id = c.id) as tagged,
            not exists (select 1 from placement pl where pl.child_id = c.id and pl.group_id = ?
                          and pl.start_date <= ?::date and (pl.end_date is null or pl.end_date >= ?::date)) as left_group,
            cr.internal, cr.external
       from child c
       left join lateral (select internal, external from consent_record r where r.child_id = c.id
                           order by r.recorded_at desc, r.id desc limit 1) cr on true
      where c.id in (select pl.child_id from placement pl where pl.group_id = ?
                       and pl.start_date <= ?::date and (pl.end_date is null or pl.end_date >= ?::date))
         or c.id in (select t.child_id from photo_tag t where t.photo_id = ?)
      order by c.first_name, c.last_name, c.child_number`,
    [photo.id, photo.groupId, day, day, photo.groupId, day, day, photo.id],
  )) as {
    child_number: string;
    first_name: string;
    infix: string | null;
    last_name: string;
    tagged: boolean;
    left_group: boolean;
    internal: boolean | null;
    external: boolean | null;
  }[];
  const group = await em.findOneOrFail(Group, { id: photo.groupId }, { fields: ['name'] });
  return {
    photo,
    groupName: group.name,
    children: rows.map((r) => ({
      childNumber: r.child_number,
      name: [r.first_name, r.infix, r.last_name].filter(Boolean).join(' '),
      tagged: r.tagged,
      internal: r.internal,
      external: r.external,
      leftGroup: r.left_group,
    })),
  };
}

/**
 * Deletes a photo for good: the row (its tags with it; download records keep the photo's id
 * as text, for tracing), then the files no other row points at. A crash between the two
 * leaves files without a row, which the orphan sweeper removes; never a row without files.
 */
export async function deletePhoto(
  em: EntityManager,
  ctx: Pick<PhotoContext, 'photos' | 'incoming' | 'em'>,
  actor: Actor,
  photoId: string,
): Promise<{ groupId: number }> {
  // A concurrent upload of the same picture re-puts the same content-addressed files after
  // this moment; deleteStale keeps those.
  // Compared with the files' modification times, which the operating system sets from the real
  // time: so this is the system clock, not the portal's (which a test may have pinned).
  const startedAt = systemClock.now();
  const removed = await em.transactional(async (tx) => {
    const photo = await photoForStaff(tx, actor, photoId);
    if (!(await can(tx, actor, 'photo.hide', photo.id))) {
      throw forbidden('only the location manager can delete photos that someone else uploaded');
    }
    // The parents' traced copies of its display image too (core/photos/traced-views.ts).
    const traced = await sql<{ k: string }>(tx, 'select traced_key as k from photo_view where photo_id = ? and traced_key is not null', [photo.id]);
    // And the photo page's kept variants (AVIF/WebP/JPEG per width; their rows go with the photo).
    traced.push(...(await sql<{ k: string }>(tx, 'select key as k from photo_variant where photo_id = ?', [photo.id])));
    const keys = [photo.originalKey, photo.displayKey, photo.thumbKey, ...traced.map((r) => r.k)].filter((k): k is string => Boolean(k));
    const source = photo.sourceKey;
    const groupId = photo.group.id;
    await tx.nativeDelete(Photo, { id: photo.id });
    audit(tx, { type: 'photo.deleted', actor, subject: photo.id, details: { groupId } });
    return { keys, source, groupId };
  });
  const stillUsed = await referencedKeys(em, removed.keys);
  for (const key of removed.keys) if (!stillUsed.has(key)) await ctx.photos.deleteStale(key, startedAt);
  // Another photo of the same bytes may still need the upload: it goes with the last of them.
  if (removed.source) await releaseSource(ctx, removed.source);
  return { groupId: removed.groupId };
}
