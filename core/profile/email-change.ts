import { LockMode, UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { audit } from '../audit.ts';
import type { PasswordHasher } from '../auth/passwords.ts';
import { checkCurrentPassword } from '../auth/password-change.ts';
import { validityText } from '../auth/password-reset.ts';
import { accountBlocked, endAllSessions, type SessionInfo } from '../auth/sessions.ts';
import type { Throttle } from '../auth/throttle.ts';
import { randomToken, sha256Hex, TOKEN_SHAPE } from '../auth/tokens.ts';
import { Account, type IAccount, PasswordResetToken } from '../entities/account.ts';
import type { Language } from '../entities/organisation.ts';
import { Parent } from '../entities/parent.ts';
import { EmailChange, type IEmailChange } from '../entities/profile.ts';
import { Staff } from '../entities/staff.ts';
import { forbidden } from '../errors.ts';
import {
  type ComposeInput,
  type Composed,
  enqueueAccountMail,
  type MailContext,
  publicBaseUrl,
} from '../mail/account-mail.ts';
import { normalizeEmail } from '../validation.ts';
import { clockOf } from '../clock.ts';

/**
 * Changing the e-mail address, which is the username. A logged-in parent asks for it with their
 * current password (a session left open on a shared computer is not enough to take the account
 * over); the mail worker sends a single-use link to the NEW address (made at send time, stored as
 * its SHA-256, valid auth.emailChangeLinkHours). Opening the link shows a button; pressing it
 * changes the username, ends every session of the account (each device logs in again with the
 * new address), voids open password-reset links (they went to the old address) and sends a
 * notice to the OLD address. Staff addresses belong to the directory and are not changed here.
 *
 * An address that is already someone else's gets the same answer as a free one (the form must
 * not tell a logged-in parent which addresses have an account): the request is recorded the same
 * way, but no link is made; the owner of that address gets a notice instead (at most
 * emailTakenNotice per address), and nothing goes to the requester about it. Requests are
 * limited per account (auth.emailChangesPerHour), since each one sends a mail.
 */

export const EMAIL_CHANGE_PATH = '/e-mailadres-bevestigen/';

const EMAIL_SHAPE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export type EmailChangeProblem = 'required' | 'invalid' | 'same' | 'taken' | 'wrong_password' | 'throttled';

export type EmailChangeRequestResult =
  | { ok: true; newEmail: string }
  | { ok: false; problems: Partial<Record<'newEmail' | 'currentPassword', EmailChangeProblem>> };

export interface EmailChangeDeps {
  em: EntityManager;
  mail: Pick<MailContext, 'config' | 'jobs'>;
  hasher: PasswordHasher;
  throttle: Throttle;
}

/**
 * Who has an address besides `except`: taken when it is a login, a parent or a staff member of
 * someone else; `accountId` is the login to notify (the account itself, or the parent's or the
 * staff member's), null when that person has no login.
 */
async function ownerOf(em: EntityManager, email: string, except: IAccount): Promise<{ taken: boolean; accountId: number | null }> {
  const [account, parent, staff] = await Promise.all([
    em.findOne(Account, { email }),
    em.findOne(Parent, { email }),
    em.findOne(Staff, { email }),
  ]);
  const otherParent = parent && parent.id !== except.parent?.id ? parent : null;
  const otherStaff = staff && staff.id !== except.staff?.id ? staff : null;
  const otherAccount = account && account.id !== except.id ? account : null;
  if (!otherAccount && !otherParent && !otherStaff) return { taken: false, accountId: null };
  const login =
    otherAccount ??
    (otherParent ? await em.findOne(Account, { parent: otherParent.id }) : null) ??
    (otherStaff ? await em.findOne(Account, { staff: otherStaff.id }) : null);
  return { taken: true, accountId: login?.id ?? null };
}

/** Whether an address is already someone's: a login, a parent or a staff member other than `except`. */
async function addressTaken(em: EntityManager, email: string, except: IAccount): Promise<boolean> {
  const [account, parent, staff] = await Promise.all([
    em.findOne(Account, { email }),
    em.findOne(Parent, { email }),
    em.findOne(Staff, { email }),
  ]);
  if (account && account.id !== except.id) return true;
  if (parent && parent.id !== except.parent?.id) return true;
  if (staff && staff.id !== except.staff?.id) return true;
  return false;
}

export async function requestEmailChange(
  deps: EmailChangeDeps,
  session: SessionInfo,
  input: { newEmail: string; currentPassword: string; ip: string | null },
): Promise<EmailChangeRequestResult> {
  const { em } = deps;
  const account = session.account;
  if (!account.parent) throw forbidden('staff addresses are kept in the directory');
  const problems: Partial<Record<'newEmail' | 'currentPassword', EmailChangeProblem>> = {};
  const newEmail = normalizeEmail(input.newEmail);
  if (newEmail === '') problems.newEmail = 'required';
  else if (newEmail.length > 320 || !EMAIL_SHAPE.test(newEmail)) problems.newEmail = 'invalid';
  else if (newEmail === account.email) problems.newEmail = 'same';

  const passwordProblem = await checkCurrentPassword(deps, session, input.currentPassword, input.ip, 'email_change');
  if (passwordProblem) problems.currentPassword = passwordProblem;
  if (Object.keys(problems).length) return { ok: false, problems };
  // Counted whether the address is free or taken, so the brake tells nothing either.
  if (!(await deps.throttle.allowEmailChange(account.id))) return { ok: false, problems: { newEmail: 'throttled' } };

  const owner = await ownerOf(em, newEmail, account);
  const notifyOwner = owner.accountId !== null && (await deps.throttle.allowEmailTakenNotice(newEmail));
  await em.transactional(async (tx) => {
    // One open request per account: a new one replaces the last (its link stops working).
    await tx.nativeDelete(EmailChange, { account: account.id, confirmedAt: null });
    // For a taken address the row is kept too (the profile shows it as pending either way), but
    // no link is ever made for it, so it can never be confirmed.
    tx.create(EmailChange, { account: account.id, oldEmail: account.email, newEmail, tokenHash: null, expiresAt: null });
    if (!owner.taken) {
      await enqueueAccountMail(deps.mail, tx, {
        kind: 'email_change_confirm',
        accountId: account.id,
        requestedBy: session.actor.label,
        ip: input.ip,
      });
    } else if (notifyOwner) {
      await enqueueAccountMail(deps.mail, tx, {
        kind: 'email_change_taken',
        accountId: owner.accountId!,
        requestedBy: session.actor.label,
        ip: input.ip,
      });
    }
    audit(tx, {
      type: 'email.change_requested',
      actor: session.actor,
      accountId: account.id,
      subject: account.email,
      ip: input.ip,
      details: owner.taken ? { newEmail, taken: true } : { newEmail },
    });
  });
  return { ok: true, newEmail };
}

/** The open request behind a link, while it is unconfirmed, unexpired and the account active. */
export async function findEmailChange(em: EntityManager, token: string, now = clockOf(em).now()): Promise<IEmailChange | undefined> {
  if (!TOKEN_SHAPE.test(token)) return undefined;
  const row = await em.findOne(
    EmailChange,
    { tokenHash: sha256Hex(token) },
    { populate: ['account', 'account.parent', 'account.staff'] },
  );
  if (!row || row.confirmedAt || !row.expiresAt || row.expiresAt.getTime() <= now.getTime()) return undefined;
  if (accountBlocked(row.account)) return undefined;
  return row;
}

export type EmailChangeConfirmResult =
  | { ok: true; accountId: number; oldEmail: string; newEmail: string }
  | { ok: false; reason: 'invalid' | 'taken' };

export async function confirmEmailChange(
  deps: { em: EntityManager; mail: Pick<MailContext, 'config' | 'jobs'> },
  input: { token: string; ip: string | null; now?: Date },
): Promise<EmailChangeConfirmResult> {
  const { em } = deps;
  const now = input.now ?? clockOf(em).now();
  const found = await findEmailChange(em, input.token, now);
  if (!found) return { ok: false, reason: 'invalid' };
  const tokenHash = sha256Hex(input.token);
  try {
    return await em.transactional(async (tx): Promise<EmailChangeConfirmResult> => {
      const row = await tx.findOne(EmailChange, { tokenHash }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (!row || row.confirmedAt || !row.expiresAt || row.expiresAt.getTime() <= now.getTime()) {
        return { ok: false, reason: 'invalid' };
      }
      const account = await tx.findOneOrFail(Account, { id: row.account.id }, { populate: ['parent', 'staff'] });
      if (await addressTaken(tx, row.newEmail, account)) return { ok: false, reason: 'taken' };
      const oldEmail = account.email;
      account.email = row.newEmail;
      if (account.parent) account.parent.email = row.newEmail;
      if (account.staff) account.staff.email = row.newEmail;
      row.confirmedAt = now;
      await tx.nativeDelete(EmailChange, { account: account.id, confirmedAt: null, id: { $ne: row.id } });
      await tx.nativeDelete(PasswordResetToken, { account: account.id });
      await endAllSessions(tx, account.id);
      await enqueueAccountMail(deps.mail, tx, {
        kind: 'email_change_notice',
        accountId: account.id,
        requestedBy: `web:${row.newEmail}`,
        ip: input.ip,
        ref: row.id,
      });
      audit(tx, {
        type: 'email.changed',
        actor: `web:${row.newEmail}`,
        accountId: account.id,
        subject: row.newEmail,
        ip: input.ip,
        details: { oldEmail },
      });
      return { ok: true, accountId: account.id, oldEmail, newEmail: row.newEmail };
    });
  } catch (err) {
    // Someone took the address between our check and the commit.
    if (err instanceof UniqueConstraintViolationException) return { ok: false, reason: 'taken' };
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// The two mails, composed by the mail worker in the person's own language.

interface MailTexts {
  subject: string;
  greeting: string;
  lines: string[];
  button?: string;
  closing: string;
}

const confirmTexts: Record<Language, MailTexts> = {
  nl: {
    subject: 'Bevestig uw nieuwe e-mailadres voor het ouderportaal van {organisation}',
    greeting: 'Beste {firstName},',
    lines: [
      'U wilt voortaan met dit e-mailadres inloggen op het ouderportaal van {organisation}. Bevestig dat via deze link:',
      'De link werkt één keer en is {validity} geldig. Tot u bevestigt, logt u in met uw huidige e-mailadres.',
      'Heeft u hier niet om gevraagd? Dan hoeft u niets te doen: er verandert niets.',
    ],
    button: 'E-mailadres bevestigen',
    closing: 'Met vriendelijke groet,\n{organisation}',
  },
  en: {
    subject: 'Confirm your new e-mail address for the parent portal of {organisation}',
    greeting: 'Dear {firstName},',
    lines: [
      'You want to log in to the parent portal of {organisation} with this e-mail address from now on. Please confirm this with the link below:',
      'The link works once and is valid for {validity}. Until you confirm, you log in with your current e-mail address.',
      'Did you not ask for this? Then there is nothing you need to do: nothing changes.',
    ],
    button: 'Confirm e-mail address',
    closing: 'Kind regards,\n{organisation}',
  },
};

const noticeTexts: Record<Language, MailTexts> = {
  nl: {
    subject: 'Uw e-mailadres voor het ouderportaal van {organisation} is gewijzigd',
    greeting: 'Beste {firstName},',
    lines: [
      'Het e-mailadres waarmee u inlogt op het ouderportaal van {organisation} is zojuist gewijzigd in {newEmail}. Berichten van het portaal gaan voortaan naar dat adres.',
      'Heeft u dit zelf gedaan? Dan hoeft u niets te doen.',
      'Heeft u dit niet zelf gedaan? Neem dan direct contact op met {contact}.',
    ],
    closing: 'Met vriendelijke groet,\n{organisation}',
  },
  en: {
    subject: 'Your e-mail address for the parent portal of {organisation} has changed',
    greeting: 'Dear {firstName},',
    lines: [
      'The e-mail address you use to log in to the parent portal of {organisation} has just been changed to {newEmail}. Mails from the portal will go to that address from now on.',
      'Did you make this change yourself? Then there is nothing you need to do.',
      'Did you not make this change? Please contact {contact} straight away.',
    ],
    closing: 'Kind regards,\n{organisation}',
  },
};

const takenTexts: Record<Language, MailTexts> = {
  nl: {
    subject: 'Iemand probeerde uw e-mailadres te gebruiken bij het ouderportaal van {organisation}',
    greeting: 'Beste {firstName},',
    lines: [
      'Iemand die is ingelogd op het ouderportaal van {organisation} probeerde zojuist uw e-mailadres ({email}) in te stellen als e-mailadres van een ander account. Dat kan niet: dit adres hoort bij uw account. Er is niets veranderd.',
      'U hoeft niets te doen. Vertrouwt u het niet? Neem dan contact op met {contact}.',
    ],
    closing: 'Met vriendelijke groet,\n{organisation}',
  },
  en: {
    subject: 'Someone tried to use your e-mail address at the parent portal of {organisation}',
    greeting: 'Dear {firstName},',
    lines: [
      'Someone logged in to the parent portal of {organisation} just tried to make your e-mail address ({email}) the address of another account. That is not possible: this address belongs to your account. Nothing has changed.',
      'There is nothing you need to do. If this seems wrong to you, please contact {contact}.',
    ],
    closing: 'Kind regards,\n{organisation}',
  },
};

const fill = (text: string, params: Record<string, string>) => text.replace(/\{(\w+)\}/g, (m, name: string) => params[name] ?? m);

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);

/** A plain mail of greeting, lines (a link after the first when given) and closing, as text and HTML. */
export function composeProfileMail(
  texts: MailTexts,
  input: { lang: Language; to: string; from: string; params: Record<string, string>; link?: string },
) {
  const lines = texts.lines.map((l) => fill(l, input.params));
  const greeting = fill(texts.greeting, input.params);
  const closing = fill(texts.closing, input.params);
  const [first, ...rest] = lines;
  const text = [greeting, '', first, '', ...(input.link ? [input.link, ''] : []), ...rest, '', closing, ''].join('\n');
  const p = (s: string) => `<p>${escapeHtml(s).replace(/\n/g, '<br>')}</p>`;
  const html = [
    `<!doctype html><html lang="${input.lang}"><body>`,
    p(greeting),
    p(first ?? ''),
    ...(input.link
      ? [`<p><a href="${escapeHtml(input.link)}">${escapeHtml(texts.button ?? input.link)}</a></p>`, `<p>${escapeHtml(input.link)}</p>`]
      : []),
    ...rest.map(p),
    p(closing),
    '</body></html>',
  ].join('\n');
  return { to: input.to, from: input.from, subject: fill(texts.subject, input.params), text, html };
}

function personOf(account: IAccount) {
  return account.parent ?? account.staff;
}

/**
 * A mail that only tells (no secret, nothing to revoke), in the account holder's language, with
 * the greeting's first name, the organisation and whom to contact filled in.
 */
export function composeNoticeMail(
  input: Pick<ComposeInput, 'account' | 'organisation' | 'from'>,
  texts: Record<Language, MailTexts>,
  options: { to?: string; params?: Record<string, string>; link?: string } = {},
): Composed {
  const { account, organisation } = input;
  const person = personOf(account);
  const lang = person?.language ?? organisation.defaultLanguage;
  const mail = composeProfileMail(texts[lang], {
    lang,
    to: options.to ?? account.email,
    from: input.from,
    params: {
      firstName: person?.firstName ?? '',
      organisation: organisation.name,
      contact: organisation.helpdeskEmail ?? organisation.name,
      ...options.params,
    },
    link: options.link,
  });
  return { mail, revoke: async () => {} };
}

/** The link to the new address: made now, stored as a hash on the open request. */
export async function composeConfirm(input: ComposeInput): Promise<Composed> {
  const { em, ctx, account, organisation } = input;
  const row = await em.findOne(EmailChange, { account: account.id, confirmedAt: null }, { orderBy: { id: 'desc' } });
  // Replaced or withdrawn before the worker came to it: the job for the newer request sends.
  if (!row) throw new Error(`no open e-mail change for account ${account.id}`);
  // Replaced by a request for a taken address: that one makes no link, so this job sends none.
  if (await addressTaken(em, row.newEmail, account)) throw new Error(`the open e-mail change of account ${account.id} is for a taken address`);
  const token = randomToken();
  const tokenHash = sha256Hex(token);
  const hours = ctx.config.auth.emailChangeLinkHours;
  await em.transactional(async (tx) => {
    await tx.nativeUpdate(EmailChange, { id: row.id }, { tokenHash, expiresAt: new Date(clockOf(tx).now().getTime() + hours * 3_600_000) });
  });
  const person = personOf(account);
  const lang = person?.language ?? organisation.defaultLanguage;
  const mail = composeProfileMail(confirmTexts[lang], {
    lang,
    to: row.newEmail,
    from: input.from,
    params: {
      firstName: person?.firstName ?? '',
      organisation: organisation.name,
      validity: validityText(lang, hours * 60),
    },
    link: `${publicBaseUrl(ctx, organisation.publicUrl)}${EMAIL_CHANGE_PATH}${token}`,
  });
  return {
    mail,
    revoke: async (tx) => {
      await tx.nativeUpdate(EmailChange, { id: row.id, tokenHash }, { tokenHash: null, expiresAt: null });
    },
  };
}

/** The notice to the old address; no secret in it. */
export async function composeNotice(input: ComposeInput): Promise<Composed> {
  const { em, account, job } = input;
  const row = job.ref === undefined ? null : await em.findOne(EmailChange, { id: job.ref, account: account.id });
  if (!row?.confirmedAt) throw new Error(`no confirmed e-mail change ${job.ref} for account ${account.id}`);
  return composeNoticeMail(input, noticeTexts, { to: row.oldEmail, params: { newEmail: row.newEmail } });
}

/** To the owner of an address someone else tried to change to; who that was is not said. */
export async function composeTaken(input: ComposeInput): Promise<Composed> {
  return composeNoticeMail(input, takenTexts, { params: { email: input.account.email } });
}
