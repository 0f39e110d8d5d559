import type { EntityManager, Knex } from '@mikro-orm/postgresql';
import { RateLimiterPostgres, type RateLimiterRes } from 'rate-limiter-flexible';
import { sha256Hex } from './tokens.ts';

/**
 * Brute-force brakes, kept in PostgreSQL (the `rate_limit` table of our migration, in
 * rate-limiter-flexible's layout), so every web process sees the same counters and a restart
 * forgets nothing. Each counter is a window: it starts at the first failure and simply expires,
 * so a block lifts by itself without anyone having to unlock it.
 *
 * Counters are per e-mail address + IP (a known and an unknown address behave the same, so the
 * brake tells nobody which addresses have an account) and per IP (one machine trying many
 * addresses). A successful login clears its own address+IP counter, never the IP's.
 *
 * Against credential stuffing (one address tried from many IPs) there is a third counter per
 * address over all IPs. When it fills, the address is locked until its window ends: every
 * password, the right one too, gets the same generic "invalid" answer (core/auth/login.ts), and
 * the owner gets one mail. A password reset by e-mail lifts the lock (clearAddress).
 *
 * Besides logins: e-mail change requests per account, and the notices to the owner of an
 * address someone else tried to take (core/profile/email-change.ts).
 */

export interface Window {
  points: number;
  seconds: number;
}

export interface ThrottleLimits {
  /** Failed passwords per e-mail address + IP. */
  accountIp: Window;
  /** Failed passwords per IP, whatever the address. */
  ip: Window;
  /** "Forgot password" requests per IP. */
  resetIp: Window;
  /** "Forgot password" mails per address (no mail-bombing a parent). */
  resetAddress: Window;
  /** Wrong second-factor codes per account. */
  secondFactor: Window;
  /** Failed passwords per e-mail address from all IPs together (credential stuffing). */
  account: Window;
  /** E-mail change requests per account (each sends a mail). */
  emailChange: Window;
  /** Notices to the owner of an address that someone else tried to change to. */
  emailTakenNotice: Window;
}

export const DEFAULT_LIMITS: ThrottleLimits = {
  accountIp: { points: 5, seconds: 15 * 60 },
  ip: { points: 50, seconds: 60 * 60 },
  resetIp: { points: 10, seconds: 60 * 60 },
  resetAddress: { points: 3, seconds: 60 * 60 },
  secondFactor: { points: 5, seconds: 15 * 60 },
  account: { points: 20, seconds: 60 * 60 },
  emailChange: { points: 5, seconds: 60 * 60 },
  emailTakenNotice: { points: 3, seconds: 24 * 60 * 60 },
};

/** The limits the configuration sets (config/schema.ts, auth.*); the rest keep their defaults. */
export function throttleLimitsOf(config: {
  auth: { loginFailuresPerAccount: number; emailChangesPerHour: number };
}): Partial<ThrottleLimits> {
  return {
    account: { points: config.auth.loginFailuresPerAccount, seconds: 60 * 60 },
    emailChange: { points: config.auth.emailChangesPerHour, seconds: 60 * 60 },
  };
}

export interface Verdict {
  allowed: boolean;
  /** When refused: seconds until the block lifts by itself. */
  retryAfterSeconds: number;
}

export interface Throttle {
  readonly limits: ThrottleLimits;
  /** May this address+IP try a password now? Looks only; counts nothing. */
  checkLogin(email: string, ip: string | null): Promise<Verdict>;
  /** Is this address locked (too many failures from all IPs together)? Looks only. */
  accountLocked(email: string): Promise<boolean>;
  /**
   * Counts a wrong password (or unknown address, or expired generated password). `lockedNow`
   * is true for exactly one failure per window: the one that filled the address's counter.
   */
  failedLogin(email: string, ip: string | null): Promise<{ lockedNow: boolean }>;
  /** Clears the address+IP counter after a correct password. */
  succeededLogin(email: string, ip: string | null): Promise<void>;
  /** Clears every address+IP counter and the lock of this address (after a password reset by e-mail). */
  clearAddress(email: string): Promise<void>;
  /** Counts a "forgot password" request; false when this IP or this address asked too often. */
  allowResetRequest(email: string, ip: string | null): Promise<boolean>;
  /** Counts an e-mail change request; false when this account asked too often. */
  allowEmailChange(accountId: number): Promise<boolean>;
  /** Counts a notice to the owner of a taken address; false when that address had enough. */
  allowEmailTakenNotice(email: string): Promise<boolean>;
  checkSecondFactor(accountId: number): Promise<Verdict>;
  failedSecondFactor(accountId: number): Promise<void>;
  succeededSecondFactor(accountId: number): Promise<void>;
  /**
   * Marks a TOTP time step of an account as used; false when it already was, so one code
   * cannot be replayed within its window (RFC 6238 §5.2).
   */
  useTotpStep(accountId: number, timeStep: number): Promise<boolean>;
}

export const RATE_LIMIT_TABLE = 'rate_limit';

/** The address part of a key: hashed, so the table holds no e-mail addresses and keys stay short. */
export function addressKey(email: string): string {
  return sha256Hex(email.trim().toLowerCase()).slice(0, 32);
}

const ipKey = (ip: string | null) => (ip ?? 'unknown').slice(0, 64);

/** A counter in the rate_limit table: `points` per `seconds` for each key, shared by every process. */
export function postgresLimiter(knex: Knex, keyPrefix: string, points: number, seconds: number): RateLimiterPostgres {
  return new RateLimiterPostgres({
    storeClient: knex,
    storeType: 'knex',
    tableName: RATE_LIMIT_TABLE,
    tableCreated: true,
    keyPrefix,
    points,
    duration: seconds,
  });
}

/**
 * One set of limiters per connection pool and settings: each limiter runs a sweeper for old
 * rows, so they are made once, not per request.
 */
export function onePerPool<T>(cache: WeakMap<Knex, Map<string, T>>, knex: Knex, settings: unknown, make: () => T): T {
  const key = JSON.stringify(settings);
  let perKnex = cache.get(knex);
  if (!perKnex) {
    perKnex = new Map();
    cache.set(knex, perKnex);
  }
  let made = perKnex.get(key);
  if (made === undefined) {
    made = make();
    perKnex.set(key, made);
  }
  return made;
}

const instances = new WeakMap<Knex, Map<string, Throttle>>();

/**
 * The throttle on a portal's database. `em` is only used for its connection pool; the counters
 * are written outside any request transaction, so a failure is counted even when the request
 * fails afterwards. Instances are shared per pool (each limiter runs a sweeper for old rows).
 */
export function createThrottle(em: EntityManager, overrides: Partial<ThrottleLimits> = {}): Throttle {
  const knex = em.getConnection().getKnex();
  const limits: ThrottleLimits = { ...DEFAULT_LIMITS, ...overrides };
  return onePerPool(instances, knex, limits, () => makeThrottle(knex, limits));
}

function makeThrottle(knex: Knex, limits: ThrottleLimits): Throttle {
  const limiter = (keyPrefix: string, window: Window) => postgresLimiter(knex, keyPrefix, window.points, window.seconds);
  const accountIp = limiter('login-address-ip', limits.accountIp);
  const ip = limiter('login-ip', limits.ip);
  const resetIp = limiter('reset-ip', limits.resetIp);
  const resetAddress = limiter('reset-address', limits.resetAddress);
  const secondFactor = limiter('second-factor', limits.secondFactor);
  const account = limiter('login-address', limits.account);
  const emailChange = limiter('email-change', limits.emailChange);
  const emailTakenNotice = limiter('email-taken-notice', limits.emailTakenNotice);
  // Two periods back and one ahead are accepted by verify(); four periods cover them all.
  const totpSteps = limiter('totp-step', { points: 1, seconds: 4 * 30 });

  const verdict = (res: RateLimiterRes | null, window: Window): Verdict => {
    if (!res || res.consumedPoints < window.points) return { allowed: true, retryAfterSeconds: 0 };
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(res.msBeforeNext / 1000)) };
  };
  /** consume() rejects with a RateLimiterRes when over the limit; only other errors are real. */
  const consume = async (rl: RateLimiterPostgres, key: string): Promise<boolean> => {
    try {
      await rl.consume(key);
      return true;
    } catch (err) {
      if (err instanceof Error) throw err;
      return false;
    }
  };

  const throttle: Throttle = {
    limits,
    async checkLogin(email, address) {
      const pair = `${addressKey(email)}:${ipKey(address)}`;
      const [forPair, forIp] = await Promise.all([accountIp.get(pair), ip.get(ipKey(address))]);
      const a = verdict(forPair, limits.accountIp);
      const b = verdict(forIp, limits.ip);
      if (a.allowed && b.allowed) return a;
      return { allowed: false, retryAfterSeconds: Math.max(a.retryAfterSeconds, b.retryAfterSeconds) };
    },
    async accountLocked(email) {
      return !verdict(await account.get(addressKey(email)), limits.account).allowed;
    },
    async failedLogin(email, address) {
      const [, , forAddress] = await Promise.all([
        consume(accountIp, `${addressKey(email)}:${ipKey(address)}`),
        consume(ip, ipKey(address)),
        // The counter is incremented atomically in PostgreSQL: only one failure sees it reach the limit.
        account.consume(addressKey(email)).catch((err: unknown) => {
          if (err instanceof Error) throw err;
          return null;
        }),
      ]);
      return { lockedNow: forAddress?.consumedPoints === limits.account.points };
    },
    async succeededLogin(email, address) {
      await accountIp.delete(`${addressKey(email)}:${ipKey(address)}`);
    },
    async clearAddress(email) {
      await knex(RATE_LIMIT_TABLE)
        .where('key', 'like', `${accountIp.getKey(addressKey(email))}:%`)
        .delete();
      await account.delete(addressKey(email));
    },
    async allowEmailChange(accountId) {
      return await consume(emailChange, String(accountId));
    },
    async allowEmailTakenNotice(email) {
      return await consume(emailTakenNotice, addressKey(email));
    },
    async allowResetRequest(email, address) {
      const [byIp, byAddress] = await Promise.all([
        consume(resetIp, ipKey(address)),
        consume(resetAddress, addressKey(email)),
      ]);
      return byIp && byAddress;
    },
    async checkSecondFactor(accountId) {
      return verdict(await secondFactor.get(String(accountId)), limits.secondFactor);
    },
    async failedSecondFactor(accountId) {
      await consume(secondFactor, String(accountId));
    },
    async succeededSecondFactor(accountId) {
      await secondFactor.delete(String(accountId));
    },
    async useTotpStep(accountId, timeStep) {
      return await consume(totpSteps, `${accountId}:${timeStep}`);
    },
  };
  return throttle;
}
