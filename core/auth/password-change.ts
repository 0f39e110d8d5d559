import type { EntityManager } from '@mikro-orm/postgresql';
import { audit } from '../audit.ts';
import { getOrganisation } from '../directory/organisation.ts';
import type { IAccount } from '../entities/account.ts';
import { MAX_PASSWORD_INPUT } from './login.ts';
import { checkPassword, type PasswordHasher, type PasswordProblem } from './passwords.ts';
import { endAllSessions, inOneTransaction, markReauthenticated, recentlyReauthenticated, rotateSession, type SessionInfo } from './sessions.ts';
import type { Throttle } from './throttle.ts';
import { clockOf } from '../clock.ts';

/**
 * Changing one's own password: the forced change right after logging in with a generated
 * password, and the change from the profile. Problems are returned per field (a form shows each
 * next to its field), not thrown: they are the user's typing, not the program's failure.
 */

export type PasswordChangeProblem =
  | PasswordProblem
  /** The field was left empty. */
  | 'required'
  /** The current password is not right. */
  | 'wrong_password'
  /** The new password is the one it replaces. */
  | 'same_as_old'
  /** Too many wrong current passwords: the same brake as the login. */
  | 'throttled';

export interface FieldProblem<F extends string = string> {
  field: F;
  problem: PasswordChangeProblem;
}

export type PasswordChangeResult =
  | { ok: true; token: string; expiresAt: Date }
  | { ok: false; problems: FieldProblem<'currentPassword' | 'newPassword'>[] };

export interface PasswordChangeDeps {
  em: EntityManager;
  hasher: PasswordHasher;
  throttle: Throttle;
}

/**
 * Words a password must not be built around: the organisation's name, the person's e-mail and
 * name. Needs account.parent/staff loaded.
 */
export async function passwordContext(em: EntityManager, account: IAccount): Promise<string[]> {
  const organisation = await getOrganisation(em);
  const p = account.parent ?? account.staff;
  return [organisation.name, account.email, p?.firstName ?? '', p?.lastName ?? ''];
}

/** The policy for a new password of this account, as the one problem to show (or undefined). */
export async function checkNewPassword(
  em: EntityManager,
  account: IAccount,
  password: string,
): Promise<PasswordProblem | 'required' | undefined> {
  if (password === '') return 'required';
  if (password.length > MAX_PASSWORD_INPUT) return 'too_long';
  return checkPassword(password, await passwordContext(em, account));
}

/**
 * The current password, asked before a change to the account (password, e-mail address): under
 * the same login brake as the login itself, and a wrong one counts and is audited as a failed
 * login. Undefined when it is right.
 */
export async function checkCurrentPassword(
  deps: { em: EntityManager; hasher: PasswordHasher; throttle: Throttle },
  session: SessionInfo,
  current: string,
  ip: string | null,
  during: 'password_change' | 'email_change' | 'reauthentication',
): Promise<'required' | 'throttled' | 'wrong_password' | undefined> {
  const { em, hasher, throttle } = deps;
  const account = session.account;
  if (current === '') return 'required';
  if (!(await throttle.checkLogin(account.email, ip)).allowed) return 'throttled';
  if (current.length <= MAX_PASSWORD_INPUT && account.passwordHash && (await hasher.verify(account.passwordHash, current))) {
    // Entered just now: proof enough for the sensitive changes of the next five minutes.
    await markReauthenticated(em, session);
    return undefined;
  }
  await throttle.failedLogin(account.email, ip);
  audit(em, {
    type: 'login.failure',
    actor: session.actor,
    accountId: account.id,
    subject: account.email,
    ip,
    details: { reason: 'wrong_password', during },
  });
  await em.flush();
  return 'wrong_password';
}

/**
 * Sets a new password for the session's own account. The current password is required, except
 * while the account still has to replace a generated password (the forced change, reached only
 * by logging in with that password moments ago). On success: the generated-password flags are
 * cleared, every other session of the account ends, and this one gets a new id (returned).
 */
export async function changePassword(
  deps: PasswordChangeDeps,
  session: SessionInfo,
  input: { currentPassword?: string; newPassword: string; ip: string | null; userAgent?: string | null; now?: Date },
): Promise<PasswordChangeResult> {
  const { em, hasher } = deps;
  const now = input.now ?? clockOf(em).now();
  const account = session.account;
  const forced = account.passwordMustChange;
  const problems: FieldProblem<'currentPassword' | 'newPassword'>[] = [];

  // The forced change asks no current password while the login is fresh (under five minutes);
  // a session older than that (a cookie found later) has to enter the generated password again.
  if (!forced || !recentlyReauthenticated(session, now) || input.currentPassword) {
    const problem = await checkCurrentPassword(deps, session, input.currentPassword ?? '', input.ip, 'password_change');
    if (problem) problems.push({ field: 'currentPassword', problem });
  }
  const policy = await checkNewPassword(em, account, input.newPassword);
  if (policy) problems.push({ field: 'newPassword', problem: policy });
  if (problems.length) return { ok: false, problems };

  if (account.passwordHash && (await hasher.verify(account.passwordHash, input.newPassword))) {
    return { ok: false, problems: [{ field: 'newPassword', problem: 'same_as_old' }] };
  }

  const hash = await hasher.hash(input.newPassword);
  const rotated = await inOneTransaction(em, async () => {
    account.passwordHash = hash;
    account.passwordMustChange = false;
    account.passwordExpiresAt = null;
    account.passwordChangedAt = now;
    audit(em, {
      type: 'password.changed',
      actor: session.actor,
      accountId: account.id,
      subject: account.email,
      ip: input.ip,
      details: { forced },
    });
    await endAllSessions(em, account.id, { exceptIdHash: session.idHash });
    return await rotateSession(em, session.idHash, { ip: input.ip, userAgent: input.userAgent ?? null, now });
  });
  return { ok: true, ...rotated };
}
