import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor } from '../actor.ts';
import { requireAdmin } from '../access/index.ts';
import { audit } from '../audit.ts';
import { findParent } from '../directory/refs.ts';
import { endAllSessions } from '../auth/sessions.ts';
import { Account } from '../entities/account.ts';
import { conflict } from '../errors.ts';
import { parseInput, text } from '../validation.ts';
import { ensureAccount } from './accounts.ts';
import { clockOf } from '../clock.ts';

export interface SuspensionView {
  email: string;
  suspended: boolean;
  suspendedAt: string | null;
  reason: string | null;
  sessionsEnded: number;
}

/**
 * Exclusion after misuse (spelregels): the parent's sessions end at once, login and downloads
 * are refused, no invitation or reset mail goes out, until `unsuspend`. The reason is kept
 * for the helpdesk and the audit log.
 */
export async function suspendParent(em: EntityManager, actor: Actor, email: string, reason: string): Promise<SuspensionView> {
  requireAdmin(actor, 'accounts.manage');
  const why = parseInput(text(500, 'reason'), reason);
  return await em.transactional(async (tx) => {
    const parent = await findParent(tx, email);
    const account = await ensureAccount(tx, { parent });
    if (account.suspendedAt) throw conflict(`${parent.email} is already suspended since ${account.suspendedAt.toISOString().slice(0, 10)}`);
    account.suspendedAt = clockOf(tx).now();
    account.suspendedReason = why;
    await tx.flush();
    const sessionsEnded = await endAllSessions(tx, account.id);
    audit(tx, { type: 'account.suspended', actor, accountId: account.id, subject: parent.email, details: { reason: why, sessionsEnded } });
    return { email: parent.email, suspended: true, suspendedAt: account.suspendedAt.toISOString(), reason: why, sessionsEnded };
  });
}

export async function unsuspendParent(em: EntityManager, actor: Actor, email: string): Promise<SuspensionView> {
  requireAdmin(actor, 'accounts.manage');
  return await em.transactional(async (tx) => {
    const parent = await findParent(tx, email);
    const account = await tx.findOne(Account, { parent: parent.id });
    if (!account?.suspendedAt) throw conflict(`${parent.email} is not suspended`);
    account.suspendedAt = null;
    account.suspendedReason = null;
    audit(tx, { type: 'account.unsuspended', actor, accountId: account.id, subject: parent.email });
    return { email: parent.email, suspended: false, suspendedAt: null, reason: null, sessionsEnded: 0 };
  });
}
