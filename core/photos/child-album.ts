import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor } from '../actor.ts';
import { can } from '../access/index.ts';
import { childForActor, childGroupsForActor } from '../diary/access.ts';
import { type AlbumCursor, type AlbumPhoto, parentAlbum } from './visibility.ts';
import { pageLimit } from '../paging.ts';
import { clockOf } from '../clock.ts';

/** Photos per page of a child's album. */
export const CHILD_ALBUM_PAGE = 30;

export interface ChildAlbumPage {
  photos: AlbumPhoto[];
  /** The cursor of the next (older) page, when there is one. */
  next?: AlbumCursor;
}

/**
 * The album as seen from one child (the app shows it per child): the parent's album (the same
 * rule and the same cursor as the page, core/photos/visibility.ts parentAlbum) narrowed to the
 * groups this child is placed in today. A child that is not the actor's own is "not found"
 * (childForActor, the schriftje's rule); staff see no parent album (parentAlbum returns none).
 */
export async function childAlbum(
  em: EntityManager,
  actor: Actor,
  childId: number,
  options: { before?: AlbumCursor; limit?: number } = {},
): Promise<ChildAlbumPage> {
  const child = await childForActor(em, actor, childId);
  const groupIds = await childGroupsForActor(em, actor, child.id, clockOf(em).today());
  const limit = pageLimit(options.limit, CHILD_ALBUM_PAGE, 100);
  if (groupIds.length === 0 || !(await can(em, actor, 'child.photos.read', child.id))) return { photos: [] };
  const found = await parentAlbum(em, actor, { before: options.before, limit: limit + 1, groupIds });
  const photos = found.slice(0, limit);
  const last = photos.at(-1);
  return { photos, next: last && found.length > limit ? { takenAt: last.takenAt, id: last.id } : undefined };
}

/**
 * The groups whose photos make up one child's album (the album's child switcher), or not found
 * when the child is not the actor's own: the same checks as `childAlbum`. Empty when the child
 * is in no group today or may not be seen in photos.
 */
export async function childAlbumGroups(em: EntityManager, actor: Actor, childId: number): Promise<number[]> {
  const child = await childForActor(em, actor, childId);
  if (!(await can(em, actor, 'child.photos.read', child.id))) return [];
  return await childGroupsForActor(em, actor, child.id, clockOf(em).today());
}
