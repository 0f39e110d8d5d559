import type { EntityManager } from '@mikro-orm/postgresql';
import { audit } from '../audit.ts';
import { Account, type IAccount } from '../entities/account.ts';
import { normalizeEmail } from '../validation.ts';
import type { PasswordHasher } from './passwords.ts';
import { accountBlocked, createSession, endSession, isStaffAccount, type SessionSettings } from './sessions.ts';
import type { Throttle } from './throttle.ts';
import { clockOf } from '../clock.ts';
import { enqueueAccountMail, type MailContext } from '../mail/account-mail.ts';

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
  /** For the mail to the owner when an address gets locked (see Throttle.accountLocked); none without. */
  mail?: Pick<MailContext, 'config' | 'jobs'>;
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

/** Who is logging in: the web login page, or the app's token login (core/auth/api-tokens.ts). */
export type LoginChannel = 'web' | 'app';

export type CredentialResult =
  | { outcome: 'ok'; account: IAccount }
  | { outcome: 'invalid' }
  | { outcome: 'suspended' }
  | { outcome: 'throttled'; retryAfterSeconds: number };

/**
 * The credential check every login shares (web and app): the brake, one argon2 verification
 * (real or dummy), the same answer for every kind of wrong, the audit of failures, and the
 * suspension check only after the password was right. The caller decides what a correct
 * password opens (a session, an app token).
 */
export async function checkCredentials(
  deps: Pick<LoginDeps, 'em' | 'hasher' | 'throttle' | 'mail'>,
  input: Pick<LoginInput, 'email' | 'password' | 'ip' | 'now'>,
  channel: LoginChannel = 'web',
): Promise<CredentialResult> {
  const { em, hasher, throttle } = deps;
  const now = input.now ?? clockOf(em).now();
  const email = normalizeEmail(input.email).slice(0, 320);
  const subject = email || null;
  const anonymous = `${channel}:anonymous`;
  // The web login's events stay as they were; the app's say where they came from.
  const via = channel === 'app' ? { channel } : {};

  const verdict = await throttle.checkLogin(email, input.ip);
  if (!verdict.allowed) {
    audit(em, { type: 'login.blocked', actor: anonymous, subject, ip: input.ip });
    await em.flush();
    return { outcome: 'throttled', retryAfterSeconds: verdict.retryAfterSeconds };
  }

  // Too many failures for this address from all IPs together: every password counts as wrong,
  // the right one too, with the same answer and the same work (no 429 to tell it apart).
  const locked = await throttle.accountLocked(email);
  const account = email ? await em.findOne(Account, { email }, { populate: ['parent', 'staff'] }) : null;
  const password = input.password.length > MAX_PASSWORD_INPUT ? undefined : input.password;
  let ok = false;
  if (account?.passwordHash && password !== undefined) {
    ok = await hasher.verify(account.passwordHash, password);
  } else {
    await hasher.dummyVerify(password ?? '');
  }

  const expired = Boolean(ok && account?.passwordExpiresAt && account.passwordExpiresAt.getTime() <= now.getTime());
  if (!ok || !account || expired || locked) {
    const { lockedNow } = await throttle.failedLogin(email, input.ip);
    audit(em, {
      type: 'login.failure',
      actor: anonymous,
      accountId: account?.id ?? null,
      subject,
      ip: input.ip,
      details: {
        reason: !account ? 'unknown_address' : locked ? 'address_locked' : expired ? 'password_expired' : 'wrong_password',
        ...(lockedNow ? { lockedNow } : {}),
        ...via,
      },
    });
    await em.flush();
    if (lockedNow && account && deps.mail) {
      // Once per lock (only the failure that filled the counter sees lockedNow), to the owner.
      const mail = deps.mail;
      await em.transactional(async (tx) => {
        await enqueueAccountMail(mail, tx, { kind: 'login_locked', accountId: account.id, requestedBy: anonymous, ip: input.ip });
      });
    }
    return { outcome: 'invalid' };
  }

  await throttle.succeededLogin(email, input.ip);
  if (accountBlocked(account)) {
    audit(em, {
      type: 'login.failure',
      actor: anonymous,
      accountId: account.id,
      subject,
      ip: input.ip,
      details: { reason: account.suspendedAt ? 'suspended' : 'inactive', ...via },
    });
    await em.flush();
    return { outcome: 'suspended' };
  }

  if (hasher.needsRehash(account.passwordHash!)) {
    // The configured argon2 cost went up since this hash was made: upgrade it while we know the password.
    account.passwordHash = await hasher.hash(password!);
  }
  return { outcome: 'ok', account };
}

export async function login(deps: LoginDeps, input: LoginInput): Promise<LoginResult> {
  const { em } = deps;
  const now = input.now ?? clockOf(em).now();
  const checked = await checkCredentials(deps, input, 'web');
  if (checked.outcome !== 'ok') return checked;
  const { account } = checked;
  const subject = account.email;

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
