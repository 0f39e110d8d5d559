import type { EntityManager } from '@mikro-orm/postgresql';

/**
 * What the portal keeps about a child for their parents (schriftje, conversations, photo tags),
 * removed when no parent can see it any more: after the last guardian's erasure, or when a child
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
}

export async function removeChildTraces(em: EntityManager, childIds: readonly number[]): Promise<ChildTracesRemoved> {
  if (childIds.length === 0) return { diaryEntries: 0, threads: 0, photoTags: 0, photosHidden: 0 };
  const db = em.getConnection();
  const trx = em.getTransactionContext();
  // One placeholder per id: the driver expands nothing by itself.
  const ids = childIds.map(() => '?').join(', ');
  const run = async (sql: string) => ((await db.execute(sql, [...childIds], 'run', trx)) as unknown as { affectedRows: number }).affectedRows;
  const diaryEntries = await run(`delete from diary_entry where child_id in (${ids})`);
  const threads = await run(`delete from message_thread where child_id in (${ids})`);
  const photosHidden = await run(
    `update photo set hidden_at = now() where hidden_at is null and id in (select photo_id from photo_tag where child_id in (${ids}))`,
  );
  const photoTags = await run(`delete from photo_tag where child_id in (${ids})`);
  return { diaryEntries, threads, photoTags, photosHidden };
}
