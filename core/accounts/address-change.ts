import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor } from '../actor.ts';
import { requireAdmin } from '../access/index.ts';
import { audit } from '../audit.ts';
import { randomToken, sha256Hex } from '../auth/tokens.ts';
import { clockOf } from '../clock.ts';
import { Account, type IAccount, Session } from '../entities/account.ts';
import { type IParent, Parent } from '../entities/parent.ts';
import { EmailChange } from '../entities/profile.ts';
import { Staff } from '../entities/staff.ts';
import { conflict } from '../errors.ts';
import { enqueueAccountMail, type MailContext } from '../mail/account-mail.ts';
import { confirmEmailChange } from '../profile/email-change.ts';
import { ensureAccount } from './accounts.ts';

/**
 * A parent's e-mail address (their username) changed by an admin (`portal parents update
 * --email`), through the parents' own flow (core/profile/email-change.ts): the new address gets
 * the confirmation link and the change applies when it is opened; or, when the admin vouches
 * for the address (--no-confirm), it applies at once the way an opened link applies it (every
 * session ends, open reset links die, the old address gets a notice). The admin is told when the
 * address is someone else's (the parent's own form must not say so; the admin may know).
 */

export interface AddressChange {
  newEmail: string;
  /** pending: waits for the link in the mail to the new address; applied: in force now. */
  status: 'pending' | 'applied';
  sessionsEnded: number;
}

async function refuseTaken(tx: EntityManager, parent: IParent, newEmail: string): Promise<void> {
  // One after another: inside a transaction they share one connection.
  const otherParent = await tx.findOne(Parent, { email: newEmail, id: { $ne: parent.id } });
  const staff = await tx.findOne(Staff, { email: newEmail });
  const login = await tx.findOne(Account, { email: newEmail });
  if (otherParent) throw conflict(`${newEmail} is already the address of another parent`);
  if (staff) throw conflict(`${newEmail} is already the address of a staff member`);
  if (login && login.parent?.id !== parent.id) throw conflict(`${newEmail} is already someone else's login`);
}

function refuseSuspended(account: IAccount, parent: IParent): void {
  if (account.suspendedAt) {
    throw conflict(`${parent.email} is suspended; lift the suspension first (\`portal parents unsuspend ${parent.email}\`)`);
  }
}

/** The confirmation link to the new address, queued on `tx`; the parent's profile shows it as pending. */
export async function requestAddressChange(
  tx: EntityManager,
  mail: Pick<MailContext, 'config' | 'jobs'>,
  actor: Actor,
  parent: IParent,
  newEmail: string,
): Promise<AddressChange> {
  requireAdmin(actor, 'directory.manage');
  await refuseTaken(tx, parent, newEmail);
  const account = await ensureAccount(tx, { parent });
  refuseSuspended(account, parent);
  // One open request per account, as in the parent's own flow: this one replaces an older link.
  await tx.nativeDelete(EmailChange, { account: account.id, confirmedAt: null });
  tx.create(EmailChange, { account, oldEmail: account.email, newEmail, tokenHash: null, expiresAt: null });
  await tx.flush();
  await enqueueAccountMail(mail, tx, { kind: 'email_change_confirm', accountId: account.id, requestedBy: actor.label });
  audit(tx, { type: 'email.change_requested', actor, accountId: account.id, subject: account.email, details: { newEmail } });
  return { newEmail, status: 'pending', sessionsEnded: 0 };
}

/**
 * Applies the new address now. With a login, by confirming a request on the new address's
 * behalf, so the one code path that applies a confirmed change does it here too; without a
 * login there is nothing to confirm, notify or end, and only the directory changes.
 */
export async function applyAddressChange(
  tx: EntityManager,
  mail: Pick<MailContext, 'config' | 'jobs'>,
  actor: Actor,
  parent: IParent,
  newEmail: string,
): Promise<AddressChange> {
  requireAdmin(actor, 'directory.manage');
  await refuseTaken(tx, parent, newEmail);
  const account = await tx.findOne(Account, { parent: parent.id });
  if (!account) {
    parent.email = newEmail;
    await tx.flush();
    return { newEmail, status: 'applied', sessionsEnded: 0 };
  }
  refuseSuspended(account, parent);
  const sessionsEnded = await tx.count(Session, { account: account.id });
  const token = randomToken();
  const now = clockOf(tx).now();
  tx.create(EmailChange, {
    account,
    oldEmail: account.email,
    newEmail,
    tokenHash: sha256Hex(token),
    // Used within this transaction; a minute is plenty and the token is never sent anywhere.
    expiresAt: new Date(now.getTime() + 60_000),
  });
  await tx.flush();
  const result = await confirmEmailChange({ em: tx, mail }, { token, ip: null, now });
  if (!result.ok) throw conflict(`${newEmail} could not be applied (${result.reason})`);
  return { newEmail, status: 'applied', sessionsEnded };
}
