import type { EntityManager } from '@mikro-orm/postgresql';
import type { PortalConfig } from '../../config/schema.ts';
import type { Actor } from '../actor.ts';
import { Account, type IAccount, type ISession, Session } from '../entities/account.ts';
import { ApiToken } from '../entities/api-token.ts';
import type { Language } from '../entities/organisation.ts';
import { Parent } from '../entities/parent.ts';
import { Staff } from '../entities/staff.ts';
import { queryPrepared } from '../db/prepared.ts';
import { fullName } from '../people.ts';
import { randomToken, sha256Hex, TOKEN_SHAPE } from './tokens.ts';
import { clockOf } from '../clock.ts';

/**
 * Logged-in browsers. The cookie holds a random 256-bit id; the table holds only its SHA-256,
 * so neither a database dump nor a backup yields a working cookie. Every rule about a session's
 * life is here, not in the web layer: idle and absolute timeouts, suspension, and what a
 * half-finished login (second factor still to come) may do.
 */

export type SessionSettings = Pick<
  PortalConfig['auth'],
  'sessionIdleMinutes' | 'sessionAbsoluteHours' | 'requireSecondFactorForStaff'
>;

/** lastSeenAt is written at most this often, so a page with ten requests costs one write. */
export const TOUCH_EVERY_MS = 60_000;

export interface SessionInfo {
  /** SHA-256 of the cookie value: the session's key in the table. */
  idHash: string;
  /** The account, with `parent` or `staff` loaded. */
  account: IAccount;
  actor: Actor;
  /** "Anna de Vries". */
  name: string;
  firstName: string;
  /** The person's own language setting. */
  language: Language;
  /** Password accepted, second factor still to come: only the second-factor page is open. */
  secondFactorPending: boolean;
  /** A generated password: only the change-password page is open until it is replaced. */
  mustChangePassword: boolean;
  /** Staff under auth.requireSecondFactorForStaff without a second factor yet. */
  mustEnrolSecondFactor: boolean;
  createdAt: Date;
  expiresAt: Date;
  /** When the password or a code from the app was last entered in this session (login included). */
  reauthenticatedAt: Date | null;
}

/** Sensitive changes (second factor, recovery codes, e-mail, password) need a proof this recent. */
export const REAUTHENTICATION_MINUTES = 5;

/** Whether the password or an app code was entered in this session in the last five minutes (portal clock). */
export function recentlyReauthenticated(session: SessionInfo, now: Date): boolean {
  const at = session.reauthenticatedAt?.getTime();
  if (at === undefined) return false;
  const age = now.getTime() - at;
  return age >= 0 && age <= REAUTHENTICATION_MINUTES * 60_000;
}

/** Records that the person just entered their password or an app code in this session. */
export async function markReauthenticated(em: EntityManager, session: SessionInfo, now = clockOf(em).now()): Promise<void> {
  await em.nativeUpdate(Session, { idHash: session.idHash }, { reauthenticatedAt: now });
  session.reauthenticatedAt = now;
}

export interface ClientInfo {
  ip?: string | null;
  userAgent?: string | null;
  now?: Date;
}

export const hashSessionId = (token: string) => sha256Hex(token);

/**
 * Who an account acts as: a parent, or staff by role. Needs `account.parent`/`account.staff`
 * loaded (populate: ['parent', 'staff']). The label (audit "by") is the login address.
 */
export function actorForAccount(account: IAccount): Actor {
  const label = `web:${account.email}`;
  if (account.parent) return { kind: 'parent', label, parentId: account.parent.id };
  const staff = account.staff;
  if (!staff) throw new Error(`account ${account.id} belongs to nobody`);
  if (staff.role === 'admin') return { kind: 'admin', label, staffId: staff.id };
  return { kind: staff.role, label, staffId: staff.id };
}

/** Staff, managers and admins: the accounts that may (and by config must) use a second factor. */
export function isStaffAccount(account: IAccount): boolean {
  return Boolean(account.staff);
}

/**
 * Why an account may not be logged in at all (whatever its password): suspended, or a staff
 * member who is no longer active. Needs parent/staff loaded.
 */
export function accountBlocked(account: IAccount): boolean {
  if (account.suspendedAt) return true;
  if (account.staff && !account.staff.active) return true;
  return false;
}

function person(account: IAccount) {
  const p = account.parent ?? account.staff;
  if (!p) throw new Error(`account ${account.id} belongs to nobody`);
  return p;
}

function infoOf(
  row: { idHash: string; secondFactorPending: boolean; createdAt: Date; expiresAt: Date; reauthenticatedAt?: Date | null },
  account: IAccount, settings: SessionSettings): SessionInfo {
  const p = person(account);
  return {
    idHash: row.idHash,
    account,
    actor: actorForAccount(account),
    name: fullName(p),
    firstName: p.firstName,
    language: p.language,
    secondFactorPending: row.secondFactorPending,
    mustChangePassword: account.passwordMustChange,
    mustEnrolSecondFactor:
      settings.requireSecondFactorForStaff && isStaffAccount(account) && !account.totpEnabledAt,
    createdAt: row.createdAt,
    expiresAt: row.expiresAt,
    reauthenticatedAt: row.reauthenticatedAt ?? null,
  };
}

/**
 * Starts a session for an account whose password was just accepted. Returns the cookie value
 * (shown once, never stored). `secondFactorPending` for accounts with a second factor.
 */
export async function createSession(
  em: EntityManager,
  settings: SessionSettings,
  account: IAccount,
  options: ClientInfo & { secondFactorPending?: boolean; expiresAt?: Date } = {},
): Promise<{ token: string; expiresAt: Date }> {
  const now = options.now ?? clockOf(em).now();
  const token = randomToken();
  const expiresAt = options.expiresAt ?? new Date(now.getTime() + settings.sessionAbsoluteHours * 3_600_000);
  em.create(Session, {
    idHash: hashSessionId(token),
    account,
    createdAt: now,
    lastSeenAt: now,
    expiresAt,
    secondFactorPending: options.secondFactorPending ?? false,
    // The password was just entered: that counts as proof for the next five minutes.
    reauthenticatedAt: now,
    ip: options.ip?.slice(0, 64) ?? null,
    userAgent: options.userAgent?.slice(0, 300) ?? null,
  });
  await em.flush();
  return { token, expiresAt };
}

/**
 * The session row with its account and person, in one statement, hydrated into the request's
 * unit of work. This runs on every request (each thumbnail of an album page, too), and building
 * the same through the ORM's populate cost several milliseconds of CPU per request.
 */
async function loadSessionRow(em: EntityManager, idHash: string): Promise<ISession | null> {
  const rows = await queryPrepared<{
    s: Record<string, unknown>;
    a: Record<string, unknown>;
    pa: Record<string, unknown> | null;
    st: Record<string, unknown> | null;
  }>(
    em,
    'session_lookup',
    `select row_to_json(s) as s, row_to_json(a) as a, row_to_json(pa) as pa, row_to_json(st) as st
       from session s
       join account a on a.id = s.account_id
       left join parent pa on pa.id = a.parent_id
       left join staff st on st.id = a.staff_id
      where s.id_hash = ?`,
    [idHash],
  );
  const found = rows[0];
  if (!found) return null;
  // The person first, so that the account's relation points at the loaded entity.
  if (found.pa) em.map(Parent, found.pa);
  if (found.st) em.map(Staff, found.st);
  em.map(Account, found.a);
  return em.map(Session, found.s);
}

/**
 * The session behind a cookie value, or undefined when there is none, it timed out (idle or
 * absolute), or its account is suspended or inactive. Dead sessions are deleted on the way
 * (for a suspended account: all of its sessions). `touch` (default) records the activity.
 */
export async function lookupSession(
  em: EntityManager,
  settings: SessionSettings,
  token: string | undefined,
  options: { now?: Date; touch?: boolean } = {},
): Promise<SessionInfo | undefined> {
  if (!token || !TOKEN_SHAPE.test(token)) return undefined;
  const now = options.now ?? clockOf(em).now();
  const row = await loadSessionRow(em, hashSessionId(token));
  if (!row) return undefined;
  const account = row.account;
  const idleSince = now.getTime() - settings.sessionIdleMinutes * 60_000;
  if (accountBlocked(account)) {
    await em.nativeDelete(Session, { account: account.id });
    return undefined;
  }
  if (row.expiresAt.getTime() <= now.getTime() || row.lastSeenAt.getTime() <= idleSince) {
    await em.nativeDelete(Session, { idHash: row.idHash });
    return undefined;
  }
  if (options.touch !== false && now.getTime() - row.lastSeenAt.getTime() >= TOUCH_EVERY_MS) {
    // A plain update, not the unit of work: the request may flush other changes (or none).
    await em.nativeUpdate(Session, { idHash: row.idHash }, { lastSeenAt: now });
    row.lastSeenAt = now;
  }
  return infoOf(row, account, settings);
}

/**
 * Replaces a session's id (after a second factor, a password change): the old cookie value
 * stops working, the new one is returned. The absolute end stays where it was.
 */
export async function rotateSession(
  em: EntityManager,
  idHash: string,
  options: ClientInfo & { secondFactorPending?: boolean; reauthenticated?: boolean } = {},
): Promise<{ token: string; expiresAt: Date }> {
  const now = options.now ?? clockOf(em).now();
  const old = await em.findOneOrFail(Session, { idHash });
  const token = randomToken();
  em.create(Session, {
    idHash: hashSessionId(token),
    account: old.account,
    createdAt: now,
    lastSeenAt: now,
    expiresAt: old.expiresAt,
    secondFactorPending: options.secondFactorPending ?? old.secondFactorPending,
    reauthenticatedAt: options.reauthenticated ? now : (old.reauthenticatedAt ?? null),
    ip: options.ip?.slice(0, 64) ?? old.ip ?? null,
    userAgent: options.userAgent?.slice(0, 300) ?? old.userAgent ?? null,
  });
  em.remove(old);
  await em.flush(); // one flush, one transaction: never both ids, never neither
  return { token, expiresAt: old.expiresAt };
}

/**
 * Runs `fn` in one transaction on `em` itself (not a fork), so entities already loaded by the
 * caller are written with everything else, or not at all.
 */
export async function inOneTransaction<T>(em: EntityManager, fn: () => Promise<T>): Promise<T> {
  await em.begin();
  try {
    const result = await fn();
    await em.commit();
    return result;
  } catch (err) {
    await em.rollback();
    throw err;
  }
}

/** Logs out one browser. Unknown or malformed values are ignored. */
export async function endSession(em: EntityManager, token: string | undefined): Promise<boolean> {
  if (!token || !TOKEN_SHAPE.test(token)) return false;
  return (await em.nativeDelete(Session, { idHash: hashSessionId(token) })) > 0;
}

/**
 * Ends every session of an account (suspension, password reset), or every other one
 * (`exceptIdHash`: the browser that changed the password stays logged in), and revokes every
 * app token. Returns how many sessions ended.
 */
export async function endAllSessions(
  em: EntityManager,
  accountId: number,
  options: { exceptIdHash?: string } = {},
): Promise<number> {
  const where = options.exceptIdHash
    ? { account: accountId, idHash: { $ne: options.exceptIdHash } }
    : { account: accountId };
  // The app's tokens go with the sessions: whatever ends every browser (suspension, a password
  // change or reset, a new e-mail address) must not leave a phone logged in.
  await em.nativeUpdate(ApiToken, { account: accountId, revokedAt: null }, { revokedAt: clockOf(em).now() });
  return await em.nativeDelete(Session, where);
}

/** Deletes sessions past their absolute end or idle limit; for a periodic job. */
export async function pruneSessions(em: EntityManager, settings: SessionSettings, now = clockOf(em).now()): Promise<number> {
  const idleSince = new Date(now.getTime() - settings.sessionIdleMinutes * 60_000);
  return await em.nativeDelete(Session, { $or: [{ expiresAt: { $lte: now } }, { lastSeenAt: { $lte: idleSince } }] });
}

/** An account with its person loaded, by id; for the use cases that start from a session. */
export async function loadAccount(em: EntityManager, accountId: number): Promise<IAccount | null> {
  return await em.findOne(Account, { id: accountId }, { populate: ['parent', 'staff'] });
}
