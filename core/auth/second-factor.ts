import { randomInt } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { generateSecret, generateURI, verify } from 'otplib';
import { audit } from '../audit.ts';
import { RecoveryCode } from '../entities/account.ts';
import { conflict, forbidden } from '../errors.ts';
import type { PasswordHasher } from './passwords.ts';
import { checkCurrentPassword } from './password-change.ts';
import {
  isStaffAccount,
  markReauthenticated,
  recentlyReauthenticated,
  rotateSession,
  type SessionInfo,
  type SessionSettings,
} from './sessions.ts';
import type { Throttle } from './throttle.ts';
import { sha256Hex } from './tokens.ts';
import { clockOf } from '../clock.ts';

/**
 * A second factor for staff and admins: TOTP (RFC 6238, 6 digits, 30 s, as every authenticator
 * app does) plus ten single-use recovery codes, stored as SHA-256. Enrolment stores the secret
 * first (totpSecret without totpEnabledAt) and switches it on only after a correct code, so a
 * half-finished setup never locks anyone out. A used TOTP time step is remembered for its
 * window, so a code seen over someone's shoulder cannot be replayed.
 */

export const RECOVERY_CODE_COUNT = 10;
/** No look-alikes, lower case only: typed from paper. 16 of 31 symbols: about 79 bits. */
const RECOVERY_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
/** Codes from the previous and the next 30-second step are accepted too (clock drift). */
const EPOCH_TOLERANCE_S = 30;

export type SecondFactorProblem =
  | 'required'
  | 'wrong_code'
  | 'throttled'
  | 'wrong_password'
  /** The last proof (password, app code) in this session is more than five minutes old: ask again. */
  | 'reauthenticate';

export interface SecondFactorDeps {
  em: EntityManager;
  throttle: Throttle;
}

export interface Enrolment {
  /** Base32, as authenticator apps want it typed. */
  secret: string;
  /** The same in groups of four, for reading aloud or typing over. */
  groupedSecret: string;
  /** otpauth:// link: on a phone it opens the authenticator app directly. */
  uri: string;
}

function recoveryCode(): string {
  let raw = '';
  for (let i = 0; i < 16; i++) raw += RECOVERY_ALPHABET[randomInt(RECOVERY_ALPHABET.length)];
  return raw.match(/.{4}/g)!.join('-');
}

/** "ABCD-efgh jklm" → "abcdefghjklm": how recovery codes are compared. */
export function normaliseRecoveryCode(code: string): string {
  return code.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/**
 * Starts (or shows again) the set-up of an authenticator app for a staff account. The secret is
 * kept on the account but not yet in force.
 */
export async function beginEnrolment(em: EntityManager, session: SessionInfo, issuer: string): Promise<Enrolment> {
  const account = session.account;
  if (!isStaffAccount(account)) throw forbidden('a second factor is for staff accounts');
  if (account.totpEnabledAt) throw conflict('a second factor is already set up');
  if (!account.totpSecret) {
    account.totpSecret = generateSecret();
    await em.flush();
  }
  const secret = account.totpSecret;
  return {
    secret,
    groupedSecret: secret.match(/.{1,4}/g)!.join(' '),
    uri: generateURI({ issuer, label: account.email, secret }),
  };
}

export async function checkTotp(deps: Pick<SecondFactorDeps, 'throttle'>, accountId: number, secret: string, code: string, now: Date) {
  if (!/^\d{6}$/.test(code)) return false;
  const result = await verify({
    secret,
    token: code,
    epoch: Math.floor(now.getTime() / 1000),
    epochTolerance: EPOCH_TOLERANCE_S,
  });
  if (!result.valid || !('timeStep' in result)) return false;
  return await deps.throttle.useTotpStep(accountId, result.timeStep);
}

async function replaceRecoveryCodes(em: EntityManager, accountId: number): Promise<string[]> {
  await em.nativeDelete(RecoveryCode, { account: accountId });
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, recoveryCode);
  for (const code of codes) {
    em.create(RecoveryCode, { account: accountId, codeHash: sha256Hex(normaliseRecoveryCode(code)) });
  }
  await em.flush();
  return codes;
}

/**
 * Finishes enrolment with the first code from the app. Returns the recovery codes: shown once,
 * stored only as hashes.
 */
export async function confirmEnrolment(
  deps: SecondFactorDeps,
  session: SessionInfo,
  input: { code: string; ip: string | null; now?: Date },
): Promise<{ ok: true; recoveryCodes: string[] } | { ok: false; problem: SecondFactorProblem }> {
  const { em, throttle } = deps;
  const now = input.now ?? clockOf(em).now();
  const account = session.account;
  if (!isStaffAccount(account)) throw forbidden('a second factor is for staff accounts');
  if (account.totpEnabledAt || !account.totpSecret) throw conflict('no second factor is being set up');
  const code = input.code.replace(/\s/g, '');
  if (code === '') return { ok: false, problem: 'required' };
  if (!(await throttle.checkSecondFactor(account.id)).allowed) return { ok: false, problem: 'throttled' };
  if (!(await checkTotp(deps, account.id, account.totpSecret, code, now))) {
    await throttle.failedSecondFactor(account.id);
    return { ok: false, problem: 'wrong_code' };
  }
  await throttle.succeededSecondFactor(account.id);
  account.totpEnabledAt = now;
  audit(em, { type: 'second_factor.enabled', actor: session.actor, accountId: account.id, subject: account.email, ip: input.ip });
  const recoveryCodes = await replaceRecoveryCodes(em, account.id);
  return { ok: true, recoveryCodes };
}

/**
 * The second step of a login: a code from the app or a recovery code (used up). On success the
 * session gets a new id and is no longer pending.
 */
export async function verifySecondFactor(
  deps: SecondFactorDeps,
  session: SessionInfo,
  input: { code: string; ip: string | null; userAgent?: string | null; now?: Date },
): Promise<
  | { ok: true; token: string; expiresAt: Date; usedRecoveryCode: boolean; recoveryCodesLeft: number }
  | { ok: false; problem: SecondFactorProblem }
> {
  const { em, throttle } = deps;
  const now = input.now ?? clockOf(em).now();
  const account = session.account;
  if (!session.secondFactorPending || !account.totpEnabledAt || !account.totpSecret) {
    throw conflict('this session does not wait for a second factor');
  }
  const code = input.code.trim();
  if (code === '') return { ok: false, problem: 'required' };
  if (!(await throttle.checkSecondFactor(account.id)).allowed) return { ok: false, problem: 'throttled' };

  let usedRecoveryCode = false;
  let ok = await checkTotp(deps, account.id, account.totpSecret, code.replace(/\s/g, ''), now);
  if (!ok && normaliseRecoveryCode(code).length === 16) {
    const used = await em.nativeUpdate(
      RecoveryCode,
      { account: account.id, codeHash: sha256Hex(normaliseRecoveryCode(code)), usedAt: null },
      { usedAt: now },
    );
    ok = usedRecoveryCode = used > 0;
  }
  if (!ok) {
    await throttle.failedSecondFactor(account.id);
    audit(em, { type: 'second_factor.failure', actor: session.actor, accountId: account.id, subject: account.email, ip: input.ip });
    await em.flush();
    return { ok: false, problem: 'wrong_code' };
  }
  await throttle.succeededSecondFactor(account.id);
  audit(em, {
    type: 'login.success',
    actor: session.actor,
    accountId: account.id,
    subject: account.email,
    ip: input.ip,
    details: { secondFactor: usedRecoveryCode ? 'recovery_code' : 'totp' },
  });
  const rotated = await rotateSession(em, session.idHash, {
    ip: input.ip,
    userAgent: input.userAgent ?? null,
    now,
    secondFactorPending: false,
    reauthenticated: true,
  });
  const recoveryCodesLeft = await em.count(RecoveryCode, { account: account.id, usedAt: null });
  return { ok: true, ...rotated, usedRecoveryCode, recoveryCodesLeft };
}

/** Whether this account may switch its second factor off (not when the config demands one). */
export function mayDisableSecondFactor(settings: SessionSettings, session: SessionInfo): boolean {
  return !(settings.requireSecondFactorForStaff && isStaffAccount(session.account));
}

/**
 * Proof that the person at the keyboard is the account's owner, not just someone with its
 * cookie: the current password or a code from the app, entered now or (in this session) within
 * the last five minutes. A proof entered here is recorded for the next five minutes.
 */
export async function confirmRecentProof(
  deps: { em: EntityManager; hasher: PasswordHasher; throttle: Throttle },
  session: SessionInfo,
  input: { proof: string; ip: string | null; now?: Date },
): Promise<SecondFactorProblem | undefined> {
  const { em, throttle } = deps;
  const now = input.now ?? clockOf(em).now();
  const proof = input.proof;
  if (proof === '') return recentlyReauthenticated(session, now) ? undefined : 'reauthenticate';
  const account = session.account;
  const code = proof.replace(/\s/g, '');
  if (account.totpEnabledAt && account.totpSecret && /^\d{6}$/.test(code)) {
    if (!(await throttle.checkSecondFactor(account.id)).allowed) return 'throttled';
    if (await checkTotp(deps, account.id, account.totpSecret, code, now)) {
      await throttle.succeededSecondFactor(account.id);
      await markReauthenticated(em, session, now);
      return undefined;
    }
    await throttle.failedSecondFactor(account.id);
    audit(em, { type: 'second_factor.failure', actor: session.actor, accountId: account.id, subject: account.email, ip: input.ip });
    await em.flush();
    return 'wrong_code';
  }
  return await checkCurrentPassword(deps, session, proof, input.ip, 'reauthentication');
}

/**
 * Switches the second factor off: only with the password or an app code entered now or in the
 * last five minutes (confirmRecentProof). The recovery codes go too.
 */
export async function disableSecondFactor(
  deps: SecondFactorDeps & { hasher: PasswordHasher; settings: SessionSettings },
  session: SessionInfo,
  input: { currentPassword: string; ip: string | null },
): Promise<{ ok: true } | { ok: false; problem: SecondFactorProblem }> {
  const { em } = deps;
  const account = session.account;
  if (!mayDisableSecondFactor(deps.settings, session)) throw forbidden('a second factor is required for staff');
  if (!account.totpEnabledAt) throw conflict('no second factor is set up');
  const problem = await confirmRecentProof(deps, session, { proof: input.currentPassword, ip: input.ip });
  if (problem) return { ok: false, problem };
  account.totpSecret = null;
  account.totpEnabledAt = null;
  await em.nativeDelete(RecoveryCode, { account: account.id });
  audit(em, { type: 'second_factor.disabled', actor: session.actor, accountId: account.id, subject: account.email, ip: input.ip });
  await em.flush();
  return { ok: true };
}

/**
 * New recovery codes (the old ones stop working); for a staff member who used some up. Only with
 * a recent proof (confirmRecentProof): a stolen cookie must not mint codes that bypass the app.
 */
export async function regenerateRecoveryCodes(
  deps: { em: EntityManager; hasher: PasswordHasher; throttle: Throttle },
  session: SessionInfo,
  input: { proof: string; ip: string | null },
): Promise<{ ok: true; codes: string[] } | { ok: false; problem: SecondFactorProblem }> {
  if (!session.account.totpEnabledAt) throw conflict('no second factor is set up');
  const problem = await confirmRecentProof(deps, session, input);
  if (problem) return { ok: false, problem };
  return { ok: true, codes: await replaceRecoveryCodes(deps.em, session.account.id) };
}
