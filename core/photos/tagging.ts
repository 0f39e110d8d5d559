import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor } from '../actor.ts';
import { audit } from '../audit.ts';
import { authorize, can } from '../access/index.ts';
import { currentPlacement } from '../authorization.ts';
import { Child, Placement } from '../entities/child.ts';
import { type IPhoto, Photo, PhotoTag } from '../entities/photo.ts';
import { DomainError, forbidden, notFound } from '../errors.ts';
import { fullName } from '../people.ts';
import { clockOf } from '../clock.ts';

/**
 * Staff tag the children who appear in a photo. Tags decide who may see it (every tagged child
 * needs internal consent) and who may download it (parents of a tagged child), so only staff
 * of the photo's group (or the location manager, or an admin) may change them, and only with
 * children placed in that group.
 */

/** The photo if the actor works in its group; not found otherwise (also for parents). */
export async function photoForStaff(em: EntityManager, actor: Actor, photoId: string): Promise<IPhoto> {
  await authorize(em, actor, 'photo.tag', photoId, 'photo');
  const photo = await em.findOne(Photo, { id: photoId });
  if (!photo) throw notFound('photo');
  return photo;
}

export interface TagInput {
  /** The children in the photo, by child number; replaces the earlier tags. */
  childNumbers: string[];
  /** With no child tagged: staff confirm that no child is recognisable, so it may be shared. */
  noChildConfirmed?: boolean;
  /**
   * Saving on the one-photo page is the staff's decision, as it always was: the photo is shared as
   * soon as its tags allow. The batch screen saves chip by chip with `publish: false` and
   * publishes with its own button (core/photos/batch-tagging.ts).
   */
  publish?: boolean;
}

export interface HeldReason {
  childNumber: string;
  name: string;
  /** 'no_consent': internal consent is "no"; 'not_recorded': nothing recorded (counts as no). */
  reason: 'no_consent' | 'not_recorded';
}

export interface TagResult {
  photoId: string;
  tagged: { childNumber: string; name: string }[];
  noChildConfirmed: boolean;
  /** Empty when the photo is shared with the group's parents; otherwise why it is held. */
  held: HeldReason[];
  /** True for an untagged photo without the confirmation: held until staff decide. */
  needsConfirmation: boolean;
}

export async function tagPhoto(em: EntityManager, actor: Actor, photoId: string, input: TagInput): Promise<TagResult> {
  const numbers = [...new Set(input.childNumbers.map((n) => n.trim()).filter(Boolean))];
  if (numbers.length > 0 && input.noChildConfirmed) {
    throw new DomainError('validation', 'a photo with children tagged cannot also be confirmed as showing no child', [
      { path: 'noChildConfirmed', message: 'only for a photo without tags' },
    ]);
  }
  await em.transactional(async (tx) => {
    const photo = await photoForStaff(tx, actor, photoId);
    const children = await tx.find(Child, { childNumber: { $in: numbers } });
    const placed = new Set(
      (
        await tx.find(Placement, {
          group: photo.group.id,
          child: { $in: children.map((c) => c.id) },
          ...currentPlacement(clockOf(tx).today()),
        })
      ).map((p) => p.child.id),
    );
    const problems = numbers
      .filter((n) => {
        const child = children.find((c) => c.childNumber === n);
        return !child || !placed.has(child.id);
      })
      .map((n) => ({ path: 'childNumbers', message: `child ${n} is not in this group` }));
    if (problems.length) throw new DomainError('validation', problems.map((p) => p.message).join('; '), problems);

    await tx.nativeDelete(PhotoTag, { photo: photo.id, child: { $nin: children.map((c) => c.id) } });
    const existing = new Set((await tx.find(PhotoTag, { photo: photo.id })).map((t) => t.child.id));
    for (const child of children) {
      if (!existing.has(child.id)) tx.create(PhotoTag, { photo, child, taggedBy: actor.label });
    }
    photo.noChildConfirmed = numbers.length === 0 && Boolean(input.noChildConfirmed);
    if (input.publish !== false && photo.awaitingPublish) {
      photo.awaitingPublish = false;
      photo.publishedAt = clockOf(tx).now();
    }
  });
  return await tagStatus(em, actor, photoId);
}

/** The tags of a photo and, for staff, why it is held ("Thijs: geen toestemming"). */
export async function tagStatus(em: EntityManager, actor: Actor, photoId: string): Promise<TagResult> {
  const photo = await photoForStaff(em, actor, photoId);
  const tags = await em.find(PhotoTag, { photo: photo.id }, { populate: ['child'], orderBy: { child: { firstName: 'asc' } } });
  const consent = (await em.getConnection().execute(
    `select distinct on (child_id) child_id, internal from consent_record
      where child_id in (select child_id from photo_tag where photo_id = ?)
      order by child_id, recorded_at desc, id desc`,
    [photo.id],
  )) as { child_id: number; internal: boolean }[];
  const internal = new Map(consent.map((c) => [c.child_id, c.internal]));
  const held: HeldReason[] = [];
  for (const t of tags) {
    const value = internal.get(t.child.id);
    if (value !== true) {
      held.push({ childNumber: t.child.childNumber, name: fullName(t.child), reason: value === false ? 'no_consent' : 'not_recorded' });
    }
  }
  return {
    photoId: photo.id,
    tagged: tags.map((t) => ({ childNumber: t.child.childNumber, name: fullName(t.child) })),
    noChildConfirmed: photo.noChildConfirmed,
    held,
    needsConfirmation: tags.length === 0 && !photo.noChildConfirmed,
  };
}

/**
 * Hides a photo from parents (or shows it again). Staff may do so for the photos they uploaded;
 * the location manager and admins for every photo of their groups.
 */
export async function setPhotoHidden(em: EntityManager, actor: Actor, photoId: string, hidden: boolean): Promise<void> {
  await em.transactional(async (tx) => {
    const photo = await photoForStaff(tx, actor, photoId);
    if (!(await can(tx, actor, 'photo.hide', photo.id))) {
      throw forbidden('only the location manager can hide photos that someone else uploaded');
    }
    photo.hiddenAt = hidden ? clockOf(tx).now() : null;
    audit(tx, { type: hidden ? 'photo.hidden' : 'photo.shown', actor, subject: photo.id });
  });
}
