import type { EntityManager } from '@mikro-orm/postgresql';
import { audit } from '../audit.ts';
import { Account } from '../entities/account.ts';
import { normalizeEmail } from '../validation.ts';
import type { PasswordHasher } from './passwords.ts';
import { accountBlocked, createSession, endSession, isStaffAccount, type SessionSettings } from './sessions.ts';
import type { Throttle } from './throttle.ts';

/**
 * Logging in with e-mail and password. Whatever goes wrong before the password is known to be
 * right (unknown address, no password yet, wrong password, expired generated password) gives
 * the same answer after the same work: one argon2 verification, real or dummy. Only someone who
 * knows the password learns that the account is suspended.
 */

/** Longer than any password we accept (128): answering at once saves hashing a megabyte. */
export const MAX_PASSWORD_INPUT = 1024;

export interface LoginDeps {
  em: EntityManager;
  settings: SessionSettings;
  hasher: PasswordHasher;
  throttle: Throttle;
}

export interface LoginInput {
  email: string;
  password: string;
  ip: string | null;
  userAgent?: string | null;
  /** The session cookie the browser had before, if any: ended, never reused (fixation). */
  previousToken?: string;
  now?: Date;
}

export type SecondFactorStep = 'none' | 'verify' | 'enrol';

export type LoginResult =
  | {
      outcome: 'ok';
      /** The new session's cookie value. */
      token: string;
      expiresAt: Date;
      accountId: number;
      /** A generated password: the forced change comes first. */
      mustChangePassword: boolean;
      /** verify: code still to enter (the session is pending); enrol: must set one up first. */
      secondFactor: SecondFactorStep;
    }
  | { outcome: 'invalid' }
  | { outcome: 'suspended' }
  | { outcome: 'throttled'; retryAfterSeconds: number };

export async function login(deps: LoginDeps, input: LoginInput): Promise<LoginResult> {
  const { em, hasher, throttle } = deps;
  const now = input.now ?? new Date();
  const email = normalizeEmail(input.email).slice(0, 320);
  const subject = email || null;

  const verdict = await throttle.checkLogin(email, input.ip);
  if (!verdict.allowed) {
    audit(em, { type: 'login.blocked', actor: 'web:anonymous', subject, ip: input.ip });
    await em.flush();
    return { outcome: 'throttled', retryAfterSeconds: verdict.retryAfterSeconds };
  }

  const account = email ? await em.findOne(Account, { email }, { populate: ['parent', 'staff'] }) : null;
  const password = input.password.length > MAX_PASSWORD_INPUT ? undefined : input.password;
  let ok = false;
  if (account?.passwordHash && password !== undefined) {
    ok = await hasher.verify(account.passwordHash, password);
  } else {
    await hasher.dummyVerify(password ?? '');
  }

  const expired = Boolean(ok && account?.passwordExpiresAt && account.passwordExpiresAt.getTime() <= now.getTime());
  if (!ok || !account || expired) {
    await throttle.failedLogin(email, input.ip);
    audit(em, {
      type: 'login.failure',
      actor: 'web:anonymous',
      accountId: account?.id ?? null,
      subject,
      ip: input.ip,
      details: { reason: !account ? 'unknown_address' : expired ? 'password_expired' : 'wrong_password' },
    });
    await em.flush();
    return { outcome: 'invalid' };
  }

  await throttle.succeededLogin(email, input.ip);
  if (accountBlocked(account)) {
    audit(em, {
      type: 'login.failure',
      actor: 'web:anonymous',
      accountId: account.id,
      subject,
      ip: input.ip,
      details: { reason: account.suspendedAt ? 'suspended' : 'inactive' },
    });
    await em.flush();
    return { outcome: 'suspended' };
  }

  if (hasher.needsRehash(account.passwordHash!)) {
    // The configured argon2 cost went up since this hash was made: upgrade it while we know the password.
    account.passwordHash = await hasher.hash(password!);
  }
  account.lastLoginAt = now;
  const secondFactor: SecondFactorStep = account.totpEnabledAt
    ? 'verify'
    : deps.settings.requireSecondFactorForStaff && isStaffAccount(account)
      ? 'enrol'
      : 'none';
  await endSession(em, input.previousToken);
  audit(em, {
    type: 'login.success',
    actor: `web:${account.email}`,
    accountId: account.id,
    subject,
    ip: input.ip,
    details: { secondFactor, mustChangePassword: account.passwordMustChange },
  });
  const session = await createSession(em, deps.settings, account, {
    ip: input.ip,
    userAgent: input.userAgent ?? null,
    now,
    secondFactorPending: secondFactor === 'verify',
  });
  return {
    outcome: 'ok',
    token: session.token,
    expiresAt: session.expiresAt,
    accountId: account.id,
    mustChangePassword: account.passwordMustChange,
    secondFactor,
  };
}

/** Logging out: the session ends (whatever state it was in) and, if it was live, it is audited. */
export async function logout(
  em: EntityManager,
  token: string | undefined,
  session: { account: { id: number; email: string }; actor: { label: string } } | undefined,
  ip: string | null,
): Promise<void> {
  await endSession(em, token);
  if (!session) return;
  audit(em, { type: 'logout', actor: session.actor.label, accountId: session.account.id, subject: session.account.email, ip });
  await em.flush();
}
