import type { EntityManager } from '@mikro-orm/postgresql';
import { parentIdOf, staffIdOf } from '../access/index.ts';
import type { Actor } from '../actor.ts';
import { audit } from '../audit.ts';
import { Account, type IAccount } from '../entities/account.ts';
import { ApiToken } from '../entities/api-token.ts';
import { checkCredentials, type LoginDeps } from './login.ts';
import { accountBlocked, actorForAccount, isStaffAccount } from './sessions.ts';
import { randomToken, sha256Hex, TOKEN_SHAPE } from './tokens.ts';
import { clockOf } from '../clock.ts';

/**
 * The mobile app's logins: bearer tokens. The credential check is the web login's own
 * (checkCredentials: brake, argon2, one answer for every kind of wrong, audit); what differs is
 * what a correct password opens. A token is 256 random bits with a recognisable prefix (so
 * secret scanners and people can tell what leaked); only its SHA-256 is stored.
 *
 * Lifetime: sliding, API_TOKEN_DAYS after the last use (a phone in daily use stays logged in,
 * a lost one that nobody uses dies by itself). Every request checks the token and its account
 * again, like a session: a suspension, a password change or reset, a new e-mail address
 * (sessions.ts endAllSessions) or "Afmelden op dit apparaat" stops it at once.
 *
 * What the app cannot do is a login step: it has no page to change a generated password or to
 * enter a second factor. Such accounts are refused with their own reason (after the password
 * was right, so only the owner learns it), and the person finishes the step on the website.
 */

export const API_TOKEN_PREFIX = 'opt_';
/** Days a token lives after its last use. */
export const API_TOKEN_DAYS = 90;
const LIFETIME_MS = API_TOKEN_DAYS * 24 * 3_600_000;
/** lastUsedAt is written at most this often, so an album of thumbnails costs one write. */
const TOUCH_EVERY_MS = 60_000;
const TOKEN_FORMAT = new RegExp(`^${API_TOKEN_PREFIX}([A-Za-z0-9_-]{43})$`);
export const MAX_DEVICE_NAME = 100;

export type ApiLoginResult =
  | { outcome: 'ok'; token: string; expiresAt: Date; tokenId: number }
  | { outcome: 'invalid' }
  | { outcome: 'suspended' }
  | { outcome: 'throttled'; retryAfterSeconds: number }
  /** A generated password: change it on the website first. */
  | { outcome: 'password_change_required' }
  /** Staff with (or required to have) a second factor: the app has no second-factor step. */
  | { outcome: 'second_factor_required' };

export interface ApiLoginInput {
  email: string;
  password: string;
  /** The device label the app sends ("iPhone van Anna"); shown in Mijn gegevens. */
  deviceName: string;
  ip: string | null;
  now?: Date;
}

const hashToken = (token: string) => sha256Hex(token);

function deviceLabel(raw: string): string {
  // Control characters and runs of blanks make no sense in a label shown on a page.
  const clean = raw.replace(/\p{Cc}/gu, ' ').replace(/\s+/g, ' ').trim().slice(0, MAX_DEVICE_NAME);
  return clean || 'App';
}

export async function issueApiToken(deps: Pick<LoginDeps, 'em' | 'hasher' | 'throttle' | 'settings' | 'mail'>, input: ApiLoginInput): Promise<ApiLoginResult> {
  const { em } = deps;
  const now = input.now ?? clockOf(em).now();
  const checked = await checkCredentials(deps, input, 'app');
  if (checked.outcome !== 'ok') return checked;
  const { account } = checked;
  const refuse = async (reason: 'password_change_required' | 'second_factor_required') => {
    audit(em, { type: 'login.failure', actor: 'app:anonymous', accountId: account.id, subject: account.email, ip: input.ip, details: { reason, channel: 'app' } });
    await em.flush();
    return { outcome: reason } as const;
  };
  if (account.passwordMustChange) return await refuse('password_change_required');
  if (isStaffAccount(account) && (account.totpEnabledAt || deps.settings.requireSecondFactorForStaff)) {
    return await refuse('second_factor_required');
  }
  const token = `${API_TOKEN_PREFIX}${randomToken()}`;
  const expiresAt = new Date(now.getTime() + LIFETIME_MS);
  account.lastLoginAt = now;
  const row = em.create(ApiToken, {
    tokenHash: hashToken(token),
    account,
    name: deviceLabel(input.deviceName),
    createdAt: now,
    lastUsedAt: now,
    expiresAt,
    revokedAt: null,
  });
  audit(em, {
    type: 'api_token.issued',
    actor: `app:${account.email}`,
    accountId: account.id,
    subject: account.email,
    ip: input.ip,
    details: { device: row.name },
  });
  await em.flush();
  return { outcome: 'ok', token, expiresAt, tokenId: row.id };
}

export interface ApiTokenInfo {
  tokenId: number;
  account: IAccount;
  actor: Actor;
  expiresAt: Date;
}

/**
 * The account behind a bearer token, or undefined: unknown, revoked, expired, or its account
 * suspended, inactive or owing a password change. Checked on every request.
 */
export async function lookupApiToken(em: EntityManager, token: string | undefined, now = clockOf(em).now()): Promise<ApiTokenInfo | undefined> {
  const m = token ? TOKEN_FORMAT.exec(token) : null;
  if (!m || !TOKEN_SHAPE.test(m[1]!)) return undefined;
  const row = await em.findOne(ApiToken, { tokenHash: hashToken(token!) }, { populate: ['account', 'account.parent', 'account.staff'] });
  if (!row || row.revokedAt || row.expiresAt.getTime() <= now.getTime()) return undefined;
  const account = row.account;
  if (accountBlocked(account) || account.passwordMustChange) return undefined;
  if (now.getTime() - row.lastUsedAt.getTime() >= TOUCH_EVERY_MS) {
    // A plain update, not the unit of work: the request may flush other changes (or none).
    const expiresAt = new Date(now.getTime() + LIFETIME_MS);
    await em.nativeUpdate(ApiToken, { id: row.id }, { lastUsedAt: now, expiresAt });
    row.lastUsedAt = now;
    row.expiresAt = expiresAt;
  }
  return { tokenId: row.id, account, actor: actorForAccount(account), expiresAt: row.expiresAt };
}

export interface ApiTokenView {
  id: number;
  name: string;
  createdAt: Date;
  lastUsedAt: Date;
  expiresAt: Date;
}

async function accountOf(em: EntityManager, actor: Actor): Promise<number | undefined> {
  const parentId = parentIdOf(actor);
  if (parentId !== undefined) return (await em.findOne(Account, { parent: parentId }, { fields: ['id'] }))?.id;
  const staffId = staffIdOf(actor);
  if (staffId !== undefined) return (await em.findOne(Account, { staff: staffId }, { fields: ['id'] }))?.id;
  return undefined;
}

/** One's own live app logins (newest use first), for Mijn gegevens. */
export async function listOwnApiTokens(em: EntityManager, actor: Actor, now = clockOf(em).now()): Promise<ApiTokenView[]> {
  const accountId = await accountOf(em, actor);
  if (accountId === undefined) return [];
  const rows = await em.find(
    ApiToken,
    { account: accountId, revokedAt: null, expiresAt: { $gt: now } },
    { orderBy: { lastUsedAt: 'desc', id: 'desc' } },
  );
  return rows.map((r) => ({ id: r.id, name: r.name, createdAt: r.createdAt, lastUsedAt: r.lastUsedAt, expiresAt: r.expiresAt }));
}

/**
 * Revokes one of one's own tokens (by id from the list, or the token in use: `DELETE
 * /api/v1/session`). Someone else's id changes nothing and answers false, like an unknown one.
 */
export async function revokeOwnApiToken(em: EntityManager, actor: Actor, tokenId: number, ip: string | null = null): Promise<boolean> {
  const accountId = await accountOf(em, actor);
  if (accountId === undefined || !Number.isSafeInteger(tokenId)) return false;
  const row = await em.findOne(ApiToken, { id: tokenId, account: accountId, revokedAt: null });
  if (!row) return false;
  row.revokedAt = clockOf(em).now();
  audit(em, { type: 'api_token.revoked', actor, accountId, subject: null, ip, details: { device: row.name } });
  await em.flush();
  return true;
}

/** Removes tokens that can never work again (expired or revoked); for the housekeeping job. */
export async function pruneApiTokens(em: EntityManager, now = clockOf(em).now()): Promise<number> {
  return await em.nativeDelete(ApiToken, { $or: [{ expiresAt: { $lte: now } }, { revokedAt: { $ne: null } }] });
}
