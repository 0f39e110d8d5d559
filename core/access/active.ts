import type { EntityManager } from '@mikro-orm/postgresql';
import { Account } from '../entities/account.ts';

/**
 * A suspended parent reads, writes and receives nothing (privacy invariant 6), whatever session
 * they still hold. The rules say it in SQL (rules.ts); this is the same fact for the portal's
 * own mail (a decision, a notice), which goes to a parent rather than coming from one.
 */
export async function parentIsActive(em: EntityManager, parentId: number): Promise<boolean> {
  const account = await em.findOne(Account, { parent: parentId }, { fields: ['suspendedAt'] });
  return !account?.suspendedAt;
}
