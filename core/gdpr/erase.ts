import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor } from '../actor.ts';
import { requireAdmin } from '../access/index.ts';
import { audit } from '../audit.ts';
import { Parent } from '../entities/parent.ts';
import { notFound } from '../errors.ts';
import { normalizeEmail } from '../validation.ts';
import { sql, sqlCount } from '../db/sql.ts';
import { removeChildTraces } from './child-traces.ts';

/**
 * `portal gdpr erase EMAIL`: the right to erasure (AVG art. 17) for a parent.
 *
 * What goes: the parent, their account (sessions, tokens, reset links: by cascade), their links
 * to children, what they wrote in the schriftje, their read marks. Messages they sent stay in
 * the conversation (the other parent and the staff are part of it) under "Verwijderde ouder".
 * Photo downloads keep their trace row (so a copy leaked before the erasure can still be
 * recognised as one of ours) with the address replaced.
 *
 * When the erased parent was a child's last guardian, nobody is left to whom the child's
 * schriftje, conversations, photo tags, ziekmeldingen and ophaalberichten belong: they go too
 * (child-traces.ts). With another guardian left, the parent's ziekmeldingen and ophaalberichten
 * stay for the group, without the parent's address.
 *
 * What stays, because the organisation must keep it: the child's directory record (placements,
 * consent history: contract and care records), and the audit log (security events, removed by
 * its own retention). The erasure itself is audited without the address.
 */

export const ERASED_AUTHOR = 'Verwijderde ouder';

export interface ErasureReport {
  parentId: number;
  /** Children that had no other guardian: their schriftje, conversations and tags were removed. */
  childrenWithoutGuardian: string[];
  ownDiaryEntriesRemoved: number;
  diaryEntriesRemoved: number;
  threadsRemoved: number;
  messagesAnonymised: number;
  photoTagsRemoved: number;
  photosHidden: number;
  /** Those children's ziekmeldingen and ophaalberichten. */
  sickReportsRemoved: number;
  pickupNotesRemoved: number;
  downloadsAnonymised: number;
}

export async function eraseParent(em: EntityManager, actor: Actor, email: string): Promise<ErasureReport> {
  requireAdmin(actor, 'gdpr.manage');
  return em.transactional(async (tx) => {
    const parent = await tx.findOne(Parent, { email: normalizeEmail(email) }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    if (!parent) throw notFound('parent');
    const orphans = await sql<{ id: number; child_number: string }>(
      tx,
      `select c.id, c.child_number from guardianship g join child c on c.id = g.child_id
        where g.parent_id = ?
          and not exists (select 1 from guardianship o where o.child_id = g.child_id and o.parent_id <> g.parent_id)
        order by c.child_number`,
      [parent.id],
    );
    const orphanIds = orphans.map((o) => o.id);

    const own = await sqlCount(tx, 'delete from diary_entry where parent_id = ?', [parent.id]);
    const messages = await sqlCount(tx, 'update message set author_label = ? where author_parent_id = ?', [ERASED_AUTHOR, parent.id]);
    const downloads = await sqlCount(tx, 'update photo_download set email = ? where parent_id = ?', [`erased-parent-${parent.id}`, parent.id]);
    // Their traced display views too (core/photos/traced-views.ts): kept for tracing, without the address.
    await sqlCount(tx, 'update photo_view set email = ? where parent_id = ?', [`erased-parent-${parent.id}`, parent.id]);
    // Who reported a child ill or set a pickup note: kept for the group, without the address.
    await sqlCount(tx, 'update sick_report set reported_by = ? where reported_by_parent_id = ?', [ERASED_AUTHOR, parent.id]);
    await sqlCount(tx, 'update pickup_note set set_by = ? where set_by_parent_id = ?', [ERASED_AUTHOR, parent.id]);

    const traces = await removeChildTraces(tx, orphanIds);

    // The parent row last: guardianships, the account and read marks go with it (cascade).
    await sqlCount(tx, 'delete from parent where id = ?', [parent.id]);

    const report: ErasureReport = {
      parentId: parent.id,
      childrenWithoutGuardian: orphans.map((o) => o.child_number),
      ownDiaryEntriesRemoved: own,
      diaryEntriesRemoved: traces.diaryEntries,
      threadsRemoved: traces.threads,
      messagesAnonymised: messages,
      photoTagsRemoved: traces.photoTags,
      photosHidden: traces.photosHidden,
      sickReportsRemoved: traces.sickReports,
      pickupNotesRemoved: traces.pickupNotes,
      downloadsAnonymised: downloads,
    };
    audit(tx, { type: 'gdpr.erased', actor, subject: `parent:${parent.id}`, details: { ...report } });
    await tx.flush();
    return report;
  });
}
