import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor } from '../actor.ts';
import { authorize, everyTaggedChildConsents, filterOf } from '../access/index.ts';
import { audit } from '../audit.ts';
import { clockOf } from '../clock.ts';
import { sql } from '../db/sql.ts';
import { Child } from '../entities/child.ts';
import { Group } from '../entities/group.ts';
import { Photo, PhotoTag } from '../entities/photo.ts';
import { DomainError, notFound } from '../errors.ts';
import { groupPhotosForStaff, type StaffPhoto } from './manage.ts';

/**
 * The batch tagging screen: every photo of one upload (or every photo of a group still waiting
 * to be published) with the group's children as chips, saved in one go and published in one go.
 * The rules are tagging's own (core/photos/tagging.ts): only children placed in the photo's group,
 * "nobody recognisable" only without tags, and a photo reaches the parents only when every tagged
 * child has internal consent (SHAREABLE in core/access/conditions.ts). A photo with a conflict is
 * never published; the screen says why next to it.
 */

/** The catalogue's action for changing a photo's tags, and so for publishing it. */
export const BATCH_TAG_ACTION = 'photo.tag';

/** At most this many photos on one screen (the upload limit is lower). */
const MAX_PHOTOS = 100;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface BatchChild {
  childNumber: string;
  name: string;
  /** Internal consent in force; null when nothing is recorded (which counts as no). */
  internal: boolean | null;
}

export interface BatchPhoto extends StaffPhoto {
  /** Child numbers tagged in it. */
  tagged: string[];
  /** Tagged children who are no longer placed in the group: they can only be untagged. */
  formerChildren: BatchChild[];
}

export interface BatchSheet {
  group: { id: number; name: string };
  photos: BatchPhoto[];
  children: BatchChild[];
}

const nameOf = (r: { first_name: string; infix: string | null; last_name: string }) =>
  [r.first_name, r.infix, r.last_name].filter(Boolean).join(' ');

/**
 * The screen's data in a fixed number of queries, whatever the number of photos: the photos
 * (with status), the group's children with consent, and the tags of all those photos.
 * `photoIds` picks the photos of one upload; without it, the group's photos still waiting to
 * be published.
 */
export async function batchTagSheet(
  em: EntityManager,
  actor: Actor,
  groupId: number,
  options: { photoIds?: string[] } = {},
): Promise<BatchSheet> {
  // groupPhotosForStaff checks `group.work`, the same rule set as BATCH_TAG_ACTION for a group's photos.
  const ids = options.photoIds?.filter((id) => UUID.test(id)).slice(0, MAX_PHOTOS);
  const photos = await groupPhotosForStaff(em, actor, groupId, {
    limit: MAX_PHOTOS,
    ...(ids ? { ids } : { awaitingPublish: true }),
  });
  // One upload's photos in the order they were chosen (they share an upload time, near enough).
  if (ids) photos.sort((a, b) => ids.indexOf(a.id) - ids.indexOf(b.id));
  const group = await em.findOneOrFail(Group, { id: groupId }, { fields: ['name'] });
  const day = clockOf(em).today();
  const children = await sql<{ id: number; child_number: string; first_name: string; infix: string | null; last_name: string; internal: boolean | null }>(
    em,
    `select c.id, c.child_number, c.first_name, c.infix, c.last_name, cr.internal
       from child c
       left join lateral (select internal from consent_record r where r.child_id = c.id
                           order by r.recorded_at desc, r.id desc limit 1) cr on true
      where c.id in (select pl.child_id from placement pl where pl.group_id = ?
                       and pl.start_date <= ?::date and (pl.end_date is null or pl.end_date >= ?::date))
      order by c.first_name, c.last_name, c.child_number`,
    [groupId, day, day],
  );
  const tags = photos.length
    ? await sql<{ photo_id: string; child_number: string; first_name: string; infix: string | null; last_name: string; internal: boolean | null }>(
        em,
        `select t.photo_id, c.child_number, c.first_name, c.infix, c.last_name, cr.internal
           from photo_tag t join child c on c.id = t.child_id
           left join lateral (select internal from consent_record r where r.child_id = c.id
                               order by r.recorded_at desc, r.id desc limit 1) cr on true
          where t.photo_id = any(?::uuid[])
          order by c.first_name, c.last_name`,
        [`{${photos.map((p) => p.id).join(',')}}`],
      )
    : [];
  const placed = new Set(children.map((c) => c.child_number));
  return {
    group: { id: groupId, name: group.name },
    children: children.map((c) => ({ childNumber: c.child_number, name: nameOf(c), internal: c.internal })),
    photos: photos.map((photo) => {
      const own = tags.filter((t) => t.photo_id === photo.id);
      return {
        ...photo,
        tagged: own.map((t) => t.child_number),
        formerChildren: own
          .filter((t) => !placed.has(t.child_number))
          .map((t) => ({ childNumber: t.child_number, name: nameOf(t), internal: t.internal })),
      };
    }),
  };
}

export interface BatchPhotoInput {
  photoId: string;
  /** The children in the photo, by child number; replaces its earlier tags. */
  childNumbers: string[];
  noChildConfirmed: boolean;
}

export interface BatchTagInput {
  groupId: number;
  photos: BatchPhotoInput[];
  /** Publish the photos that are ready (no consent conflict, tagged or "nobody recognisable"). */
  publish: boolean;
}

export interface BatchTagReport {
  saved: number;
  published: string[];
  /** Photos left unpublished, with why (the status staff see). */
  notPublished: { photoId: string; status: StaffPhoto['status'] }[];
}

/**
 * Saves the tags of several photos of one group, all or nothing, and publishes the ready ones.
 * A photo id outside the actor's reach (another group, another location, made up) is "not
 * found" and nothing is saved; so is a child who is not placed in the group.
 */
export async function saveBatchTags(em: EntityManager, actor: Actor, input: BatchTagInput): Promise<BatchTagReport> {
  const wanted = new Map<string, BatchPhotoInput>();
  for (const p of input.photos) wanted.set(p.photoId, p);
  const ids = [...wanted.keys()];
  if (ids.length === 0) throw new DomainError('validation', 'no photos to save', [{ path: 'photos', message: 'choose photos' }]);
  if (ids.length > MAX_PHOTOS || ids.some((id) => !UUID.test(id))) throw notFound('photo');

  const problems: { path: string; message: string }[] = [];
  const numbersOf = new Map<string, string[]>();
  for (const [id, p] of wanted) {
    const numbers = [...new Set(p.childNumbers.map((n) => n.trim()).filter(Boolean))];
    numbersOf.set(id, numbers);
    if (numbers.length > 0 && p.noChildConfirmed) {
      problems.push({ path: `photos.${id}.noChildConfirmed`, message: 'a photo with children tagged cannot also be confirmed as showing no child' });
    }
  }

  const saved = await em.transactional(async (tx) => {
    await authorize(tx, actor, 'group.work', input.groupId, 'group');
    // One query for the whole batch: the catalogue's SQL scope of BATCH_TAG_ACTION, narrowed to
    // the group of the screen. Anything missing was out of reach: not found, nothing saved.
    const scope = filterOf(tx, actor, BATCH_TAG_ACTION);
    const reachable = await sql<{ id: string }>(
      tx,
      `select p.id from photo p where p.id = any(?::uuid[]) and p.group_id = ? and p.state <> 'failed' and (${scope.sql}) for update`,
      [`{${ids.join(',')}}`, input.groupId, ...scope.params],
    );
    if (reachable.length !== ids.length) throw notFound('photo');

    const allNumbers = [...new Set([...numbersOf.values()].flat())];
    const day = clockOf(tx).today();
    const placed = allNumbers.length
      ? await sql<{ id: number; child_number: string }>(
          tx,
          `select c.id, c.child_number from child c
            where c.child_number in (select jsonb_array_elements_text(?::jsonb))
              and exists (select 1 from placement pl where pl.child_id = c.id and pl.group_id = ?
                            and pl.start_date <= ?::date and (pl.end_date is null or pl.end_date >= ?::date))`,
          [JSON.stringify(allNumbers), input.groupId, day, day],
        )
      : [];
    const childIdOf = new Map(placed.map((c) => [c.child_number, c.id]));
    for (const n of allNumbers) {
      if (!childIdOf.has(n)) problems.push({ path: 'childNumbers', message: `child ${n} is not in this group` });
    }
    if (problems.length) throw new DomainError('validation', problems.map((p) => p.message).join('; '), problems);

    const photos = await tx.find(Photo, { id: { $in: ids } });
    const existing = await tx.find(PhotoTag, { photo: { $in: ids } });
    for (const photo of photos) {
      const want = new Set((numbersOf.get(photo.id) ?? []).map((n) => childIdOf.get(n)!));
      const have = new Set<number>();
      for (const tag of existing.filter((t) => t.photo.id === photo.id)) {
        if (want.has(tag.child.id)) have.add(tag.child.id);
        else tx.remove(tag);
      }
      for (const childId of want) {
        if (!have.has(childId)) tx.create(PhotoTag, { photo, child: tx.getReference(Child, childId), taggedBy: actor.label });
      }
      photo.noChildConfirmed = want.size === 0 && wanted.get(photo.id)!.noChildConfirmed;
    }
    await tx.flush();
    if (!input.publish) return [] as string[];

    // SHAREABLE but for the flag being cleared: a photo with a consent conflict stays unpublished.
    const published = await sql<{ id: string }>(
      tx,
      `update photo p set awaiting_publish = false, published_at = ?
        where p.id = any(?::uuid[]) and p.awaiting_publish and p.state = 'ready' and p.hidden_at is null
          and (p.no_child_confirmed or exists (select 1 from photo_tag t where t.photo_id = p.id))
          and ${everyTaggedChildConsents('internal')}
        returning p.id`,
      [clockOf(tx).now(), `{${ids.join(',')}}`],
    );
    for (const p of published) audit(tx, { type: 'photo.published', actor, subject: p.id });
    return published.map((p) => p.id);
  });

  const after = await groupPhotosForStaff(em, actor, input.groupId, { ids, limit: MAX_PHOTOS });
  return {
    saved: ids.length,
    published: saved,
    notPublished: after.filter((p) => p.status !== 'shared').map((p) => ({ photoId: p.id, status: p.status })),
  };
}
