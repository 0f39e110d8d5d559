import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { Parent } from './parent.ts';
import { Staff } from './staff.ts';
import { stamp } from '../clock.ts';

/**
 * The login of one person: a parent or a staff member (exactly one). The e-mail is copied from
 * that person (normalised) so that login is one indexed lookup and an address can belong to one
 * login only. Secrets are stored only as hashes (argon2id for passwords).
 */
export const Account = defineEntity({
  name: 'Account',
  tableName: 'account',
  checks: [{ name: 'account_one_person', expression: '(parent_id is null) <> (staff_id is null)' }],
  properties: {
    id: p.integer().primary(),
    email: p.string().length(320).unique(),
    parent: p.oneToOne(Parent).nullable().unique().deleteRule('cascade'),
    staff: p.oneToOne(Staff).nullable().unique().deleteRule('cascade'),
    passwordHash: p.string().length(255).nullable(),
    /** A generated (invitation or reset-by-admin) password: must be replaced at first login. */
    passwordMustChange: p.boolean().default(false),
    /** A generated password stops working at this moment if unused. */
    passwordExpiresAt: p.datetime().nullable(),
    passwordChangedAt: p.datetime().nullable(),
    /** When an admin asked for an invitation; the mail job generates the password when it sends. */
    invitedAt: p.datetime().nullable(),
    invitationSentAt: p.datetime().nullable(),
    lastLoginAt: p.datetime().nullable(),
    suspendedAt: p.datetime().nullable(),
    suspendedReason: p.string().length(500).nullable(),
    totpSecret: p.string().length(64).nullable(),
    totpEnabledAt: p.datetime().nullable(),
    createdAt: p.datetime().onCreate(stamp),
    updatedAt: p
      .datetime()
      .onCreate(stamp)
      .onUpdate(stamp),
  },
});
export type IAccount = InferEntity<typeof Account>;

/**
 * A logged-in browser (or app). The primary key is the SHA-256 of the random session id in the
 * cookie, so a stolen database row cannot be used as a cookie.
 */
export const Session = defineEntity({
  name: 'Session',
  tableName: 'session',
  indexes: [{ properties: ['account'] }],
  properties: {
    idHash: p.string().length(64).primary(),
    account: p.manyToOne(Account).deleteRule('cascade'),
    createdAt: p.datetime().onCreate(stamp),
    lastSeenAt: p.datetime(),
    /** Absolute end, whatever the activity. */
    expiresAt: p.datetime(),
    /** Password accepted, second factor still to come: the session may only finish logging in. */
    secondFactorPending: p.boolean().default(false),
    /** When the person last proved who they are here (password, app code); see reauthentication.ts. */
    reauthenticatedAt: p.datetime().nullable(),
    ip: p.string().length(64).nullable(),
    userAgent: p.string().length(300).nullable(),
  },
});
export type ISession = InferEntity<typeof Session>;

/** A "forgot password" link: single use, short-lived, stored as the SHA-256 of its token. */
export const PasswordResetToken = defineEntity({
  name: 'PasswordResetToken',
  tableName: 'password_reset_token',
  properties: {
    tokenHash: p.string().length(64).primary(),
    account: p.manyToOne(Account).deleteRule('cascade'),
    expiresAt: p.datetime(),
    usedAt: p.datetime().nullable(),
    createdAt: p.datetime().onCreate(stamp),
  },
});
export type IPasswordResetToken = InferEntity<typeof PasswordResetToken>;

/** One-time recovery codes for a lost authenticator, stored hashed. */
export const RecoveryCode = defineEntity({
  name: 'RecoveryCode',
  tableName: 'recovery_code',
  indexes: [{ properties: ['account'] }],
  properties: {
    id: p.integer().primary(),
    account: p.manyToOne(Account).deleteRule('cascade'),
    codeHash: p.string().length(64),
    usedAt: p.datetime().nullable(),
    createdAt: p.datetime().onCreate(stamp),
  },
});
export type IRecoveryCode = InferEntity<typeof RecoveryCode>;

/**
 * Counters of the login throttle (rate-limiter-flexible's PostgreSQL table layout, created by
 * our migration so the library never creates tables itself). Keys are per IP and per
 * account+IP; `expire` is epoch milliseconds.
 */
export const RateLimit = defineEntity({
  name: 'RateLimit',
  tableName: 'rate_limit',
  properties: {
    key: p.string().length(255).primary(),
    points: p.integer().default(0),
    expire: p.bigint('number').nullable(),
  },
});
export type IRateLimit = InferEntity<typeof RateLimit>;
