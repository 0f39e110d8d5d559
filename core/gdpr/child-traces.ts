import type { EntityManager } from '@mikro-orm/postgresql';
import { clockOf } from '../clock.ts';
import { countRows, inList, sqlCount } from '../db/sql.ts';

/**
 * What the portal keeps about a child for their parents (schriftje, conversations, photo tags,
 * and the day notes they left: ziekmeldingen and ophaalberichten), removed when no parent can
 * see it any more: after the last guardian's erasure, or when a child
 * has left and the parents' grace period to download it has passed. Photos in which such a
 * child was tagged are hidden first, so that losing the tag cannot make a photo showing the
 * child visible to the group as if no child were in it.
 *
 * The directory record (placements, consent history) stays: it is the organisation's.
 * Runs on the caller's transaction (`em` inside `transactional`).
 */
export interface ChildTracesRemoved {
  diaryEntries: number;
  threads: number;
  photoTags: number;
  photosHidden: number;
  /** Ziekmeldingen: health details a parent gave, kept for no one once the child's other traces go. */
  sickReports: number;
  pickupNotes: number;
}

const NONE: ChildTracesRemoved = { diaryEntries: 0, threads: 0, photoTags: 0, photosHidden: 0, sickReports: 0, pickupNotes: 0 };

/** The rows that belong to these children's traces (one definition for removing and counting). */
const traces = (ids: string) => ({
  diaryEntries: `diary_entry where child_id ${ids}`,
  threads: `message_thread where child_id ${ids}`,
  photoTags: `photo_tag where child_id ${ids}`,
  sickReports: `sick_report where child_id ${ids}`,
  pickupNotes: `pickup_note where child_id ${ids}`,
  /** A where-clause on `photo`: the visible photos in which one of the children is tagged. */
  photosShowing: `hidden_at is null and id in (select photo_id from photo_tag where child_id ${ids})`,
});

export async function removeChildTraces(em: EntityManager, childIds: readonly number[]): Promise<ChildTracesRemoved> {
  if (childIds.length === 0) return NONE;
  const t = traces(inList(childIds));
  const run = (text: string) => sqlCount(em, text, [...childIds]);
  const diaryEntries = await run(`delete from ${t.diaryEntries}`);
  const threads = await run(`delete from ${t.threads}`);
  // Hidden before the tags go: afterwards nothing would say the child is in the photo.
  // The portal's time, as everywhere a moment is kept (not the database's own clock).
  const photosHidden = await sqlCount(em, `update photo set hidden_at = ? where ${t.photosShowing}`, [clockOf(em).now(), ...childIds]);
  const photoTags = await run(`delete from ${t.photoTags}`);
  const sickReports = await run(`delete from ${t.sickReports}`);
  const pickupNotes = await run(`delete from ${t.pickupNotes}`);
  return { diaryEntries, threads, photoTags, photosHidden, sickReports, pickupNotes };
}

/** What removeChildTraces would remove, without removing it (retention's dry run). */
export async function countChildTraces(em: EntityManager, childIds: readonly number[]): Promise<ChildTracesRemoved> {
  if (childIds.length === 0) return NONE;
  const t = traces(inList(childIds));
  const count = (from: string) => countRows(em, from, [...childIds]);
  return {
    diaryEntries: await count(t.diaryEntries),
    threads: await count(t.threads),
    photoTags: await count(t.photoTags),
    photosHidden: await count(`photo where ${t.photosShowing}`),
    sickReports: await count(t.sickReports),
    pickupNotes: await count(t.pickupNotes),
  };
}
