import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { audit } from '../audit.ts';
import { Account, type IAccount, PasswordResetToken } from '../entities/account.ts';
import type { Language } from '../entities/organisation.ts';
import {
  type ComposeInput,
  type Composed,
  enqueueAccountMail,
  ensureAccountMailQueue,
  type MailContext,
  publicBaseUrl,
} from '../mail/account-mail.ts';
import { normalizeEmail } from '../validation.ts';
import { checkNewPassword, type FieldProblem } from './password-change.ts';
import type { PasswordHasher } from './passwords.ts';
import { accountBlocked, endAllSessions } from './sessions.ts';
import type { Throttle } from './throttle.ts';
import { randomToken, sha256Hex, TOKEN_SHAPE, waitUntil } from './tokens.ts';
import { clockOf } from '../clock.ts';

/**
 * "Forgot password": a single-use link by e-mail. The request answers the same, after about the
 * same time, whether or not the address has an account; the link's token is made by the mail
 * worker when it sends (see core/mail/account-mail.ts), stored only as its SHA-256, and valid
 * for auth.resetLinkMinutes. Using it sets a new password and ends every session of the account.
 */

export const RESET_PATH = '/wachtwoord-herstellen/';

/** Both answers (known address or not) take at least this long; covers the queue insert. */
export const RESET_REQUEST_MIN_MS = 250;

export interface ResetRequestDeps {
  em: EntityManager;
  mail: Pick<MailContext, 'config' | 'jobs'>;
  throttle: Throttle;
  /** Default RESET_REQUEST_MIN_MS. */
  minDurationMs?: number;
}

/**
 * Queues a reset mail when the address belongs to an active account (and neither the address
 * nor the IP asked too often); otherwise does nothing, in the same time. Never tells which.
 */
export async function requestPasswordReset(
  deps: ResetRequestDeps,
  input: { email: string; ip: string | null },
): Promise<void> {
  const started = performance.now();
  const { em } = deps;
  const email = normalizeEmail(input.email).slice(0, 320);
  const allowed = await deps.throttle.allowResetRequest(email, input.ip);
  const account = await em.findOne(Account, { email }, { populate: ['parent', 'staff'] });
  await ensureAccountMailQueue(deps.mail);
  const eligible = allowed && account !== null && !accountBlocked(account);
  // The same transaction either way (empty for an unknown address), then the same wait.
  await em.transactional(async (tx) => {
    if (!eligible || !account) return;
    await enqueueAccountMail(deps.mail, tx, {
      kind: 'password_reset',
      accountId: account.id,
      requestedBy: `web:${account.email}`,
      ip: input.ip,
    });
    audit(tx, {
      type: 'password.reset_requested',
      actor: 'web:anonymous',
      accountId: account.id,
      subject: account.email,
      ip: input.ip,
    });
  });
  await waitUntil(started, deps.minDurationMs ?? RESET_REQUEST_MIN_MS);
}

/** The account a reset link belongs to, while it is unused, unexpired and the account active. */
export async function findResetToken(
  em: EntityManager,
  token: string,
  now = clockOf(em).now(),
): Promise<IAccount | undefined> {
  if (!TOKEN_SHAPE.test(token)) return undefined;
  const row = await em.findOne(
    PasswordResetToken,
    { tokenHash: sha256Hex(token) },
    { populate: ['account', 'account.parent', 'account.staff'] },
  );
  if (!row || row.usedAt || row.expiresAt.getTime() <= now.getTime() || accountBlocked(row.account)) return undefined;
  return row.account;
}

export type ResetResult =
  | { ok: true; accountId: number; email: string }
  | { ok: false; invalidToken: true }
  | { ok: false; invalidToken: false; problems: FieldProblem<'newPassword'>[] };

/**
 * Sets a new password with a reset link. The token row is locked, checked and marked used in
 * the same transaction as the new password, so two clicks at once cannot both succeed. Other
 * open links of the account are deleted, all its sessions end, its login brake is cleared.
 */
export async function resetPassword(
  deps: { em: EntityManager; hasher: PasswordHasher; throttle: Throttle },
  input: { token: string; newPassword: string; ip: string | null; now?: Date },
): Promise<ResetResult> {
  const { em } = deps;
  const now = input.now ?? clockOf(em).now();
  const account = await findResetToken(em, input.token, now);
  if (!account) return { ok: false, invalidToken: true };
  const problem = await checkNewPassword(em, account, input.newPassword);
  if (problem) return { ok: false, invalidToken: false, problems: [{ field: 'newPassword', problem }] };
  const hash = await deps.hasher.hash(input.newPassword);
  const tokenHash = sha256Hex(input.token);

  const done = await em.transactional(async (tx) => {
    const row = await tx.findOne(PasswordResetToken, { tokenHash }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    if (!row || row.usedAt || row.expiresAt.getTime() <= now.getTime()) return false;
    row.usedAt = now;
    const target = await tx.findOneOrFail(Account, { id: row.account.id });
    target.passwordHash = hash;
    target.passwordMustChange = false;
    target.passwordExpiresAt = null;
    target.passwordChangedAt = now;
    await tx.nativeDelete(PasswordResetToken, { account: target.id, tokenHash: { $ne: tokenHash } });
    await endAllSessions(tx, target.id);
    audit(tx, {
      type: 'password.reset',
      actor: `web:${target.email}`,
      accountId: target.id,
      subject: target.email,
      ip: input.ip,
    });
    return true;
  });
  if (!done) return { ok: false, invalidToken: true };
  await deps.throttle.clearAddress(account.email);
  return { ok: true, accountId: account.id, email: account.email };
}

// ---------------------------------------------------------------------------------------------
// The mail. Core composes it (the web layer is not there when the worker sends), in the
// account's own language.

const texts: Record<Language, { subject: string; greeting: string; lines: string[]; button: string; closing: string }> = {
  nl: {
    subject: 'Nieuw wachtwoord voor het ouderportaal van {organisation}',
    greeting: 'Beste {firstName},',
    lines: [
      'U heeft gevraagd om een nieuw wachtwoord voor het ouderportaal van {organisation}. Via deze link kiest u een nieuw wachtwoord:',
      'De link werkt één keer en is {validity} geldig.',
      'Heeft u dit niet zelf gevraagd? Dan kunt u deze e-mail negeren: uw wachtwoord blijft dan zoals het is.',
    ],
    button: 'Nieuw wachtwoord kiezen',
    closing: 'Met vriendelijke groet,\n{organisation}',
  },
  en: {
    subject: 'New password for the parent portal of {organisation}',
    greeting: 'Dear {firstName},',
    lines: [
      'You asked for a new password for the parent portal of {organisation}. Use this link to choose a new password:',
      'The link works once and is valid for {validity}.',
      'Did you not ask for this? Then you can ignore this e-mail: your password stays as it is.',
    ],
    button: 'Choose a new password',
    closing: 'Kind regards,\n{organisation}',
  },
};

export function validityText(lang: Language, minutes: number): string {
  if (minutes % 60 === 0) {
    const hours = minutes / 60;
    if (lang === 'nl') return hours === 1 ? '1 uur' : `${hours} uur`;
    return hours === 1 ? '1 hour' : `${hours} hours`;
  }
  return lang === 'nl' ? `${minutes} minuten` : `${minutes} minutes`;
}

const fill = (text: string, params: Record<string, string>) =>
  text.replace(/\{(\w+)\}/g, (m, name: string) => params[name] ?? m);

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);

export function composeResetMail(input: {
  lang: Language;
  to: string;
  from: string;
  firstName: string;
  organisation: string;
  link: string;
  validityMinutes: number;
}) {
  const t = texts[input.lang];
  const params = {
    firstName: input.firstName,
    organisation: input.organisation,
    validity: validityText(input.lang, input.validityMinutes),
  };
  const [intro, validity, ignore] = t.lines.map((l) => fill(l, params)) as [string, string, string];
  const greeting = fill(t.greeting, params);
  const closing = fill(t.closing, params);
  const text = [greeting, '', intro, '', input.link, '', validity, ignore, '', closing, ''].join('\n');
  const p = (s: string) => `<p>${escapeHtml(s).replace(/\n/g, '<br>')}</p>`;
  const html = [
    `<!doctype html><html lang="${input.lang}"><body>`,
    p(greeting),
    p(intro),
    `<p><a href="${escapeHtml(input.link)}">${escapeHtml(t.button)}</a></p>`,
    `<p>${escapeHtml(input.link)}</p>`,
    p(validity),
    p(ignore),
    p(closing),
    '</body></html>',
  ].join('\n');
  return { to: input.to, from: input.from, subject: fill(t.subject, params), text, html };
}

/** Made by the mail worker at send time: the token exists only in this mail and as a hash. */
export async function composePasswordReset(input: ComposeInput): Promise<Composed> {
  const { em, ctx, account, organisation } = input;
  const token = randomToken();
  const tokenHash = sha256Hex(token);
  // Committed before the mail leaves: a link never works for a token the database lacks.
  await em.transactional(async (tx) => {
    tx.create(PasswordResetToken, {
      tokenHash,
      account: account.id,
      expiresAt: new Date(clockOf(tx).now().getTime() + ctx.config.auth.resetLinkMinutes * 60_000),
    });
  });
  const p = account.parent ?? account.staff;
  const mail = composeResetMail({
    lang: p?.language ?? organisation.defaultLanguage,
    to: account.email,
    from: input.from,
    firstName: p?.firstName ?? '',
    organisation: organisation.name,
    link: `${publicBaseUrl(ctx, organisation.publicUrl)}${RESET_PATH}${token}`,
    validityMinutes: ctx.config.auth.resetLinkMinutes,
  });
  return {
    mail,
    revoke: async (tx) => {
      await tx.nativeDelete(PasswordResetToken, { tokenHash });
    },
  };
}
