import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor } from '../actor.ts';
import { requireAdmin } from '../access/index.ts';
import { audit } from '../audit.ts';
import { generatePassword } from '../auth/passwords.ts';
import { getOrganisation } from '../directory/organisation.ts';
import { listParents } from '../directory/parents.ts';
import { findParent, findStaff } from '../directory/refs.ts';
import { Account, type IAccount } from '../entities/account.ts';
import { type IParent, Parent } from '../entities/parent.ts';
import { type IStaff, Staff } from '../entities/staff.ts';
import { conflict, DomainError } from '../errors.ts';
import {
  type AccountMailKind,
  type ComposeInput,
  type Composed,
  enqueueAccountMails,
  publicBaseUrl,
  type MailContext,
} from '../mail/account-mail.ts';
import { normalizeEmail } from '../validation.ts';
import { endAllSessions } from '../auth/sessions.ts';
import { sql } from '../db/sql.ts';
import { choseOwnPassword, firstNameOf, languageOf, newAccount } from './accounts.ts';
import { composeInvitationMail } from './invitation-mail.ts';
import { clockOf } from '../clock.ts';

export interface InviteFilter {
  /** These parents only (e-mail addresses). */
  emails?: string[];
  /** Parents of the children in this group / at this location today. */
  group?: string;
  location?: string;
  /** Also those invited before (they get a new password; the old one stops working). */
  resend?: boolean;
  /** Also those who already chose their own password (which the invitation replaces). */
  force?: boolean;
}

export interface InviteRecipient {
  email: string;
  jobId: string | null;
  language: 'nl' | 'en';
  /** Child numbers, for parents. */
  children: string[];
  /** The person chose their own password, and this mail replaces it (--force). */
  replacesOwnPassword: boolean;
}

export interface InviteReport {
  queued: InviteRecipient[];
  skipped: { email: string; reason: string }[];
  dryRun: boolean;
}

type Target = { email: string; person: { parent: IParent } | { staff: IStaff }; children: string[] };

/**
 * Refusal of an invitation that would replace passwords people chose themselves: a resend must
 * not silently lock out parents who use the portal. Names who, so the admin can leave them out
 * or confirm (--force, or the question on a terminal).
 */
export class OwnPasswordRefusal extends DomainError {
  constructor(readonly emails: string[]) {
    const shown = emails.slice(0, 10).join(', ');
    const more = emails.length > 10 ? ` and ${emails.length - 10} more` : '';
    super(
      'forbidden',
      `${emails.length} recipient(s) already chose their own password, which a new invitation replaces: ${shown}${more}; add --force to send anyway, or leave them out`,
    );
  }
}

const personKey = (t: Target) => ('parent' in t.person ? `p${t.person.parent.id}` : `s${t.person.staff.id}`);
const accountKey = (a: IAccount) => (a.parent ? `p${a.parent.id}` : `s${a.staff!.id}`);

function accountsOf(em: EntityManager, targets: Target[], where: Record<string, unknown> = {}): Promise<IAccount[]> {
  const parentIds = targets.flatMap((t) => ('parent' in t.person ? [t.person.parent.id] : []));
  const staffIds = targets.flatMap((t) => ('staff' in t.person ? [t.person.staff.id] : []));
  return em.find(Account, { $or: [{ parent: { $in: parentIds } }, { staff: { $in: staffIds } }], ...where });
}

/** Who among the targets would get an invitation that replaces a password they chose. */
async function ownPasswordsReplaced(em: EntityManager, targets: Target[], resend: boolean): Promise<string[]> {
  const emails: string[] = [];
  for (let i = 0; i < targets.length; i += CHUNK) {
    const accounts = await accountsOf(em, targets.slice(i, i + CHUNK), {
      passwordHash: { $ne: null },
      passwordMustChange: false,
      suspendedAt: null,
      ...(resend ? {} : { invitedAt: null }),
    });
    emails.push(...accounts.filter(choseOwnPassword).map((a) => a.email));
  }
  return emails.sort();
}

const CHUNK = 1000;

async function queueFor(
  ctx: Pick<MailContext, 'config' | 'jobs'>,
  em: EntityManager,
  actor: Actor,
  allTargets: Target[],
  kind: AccountMailKind,
  options: { resend: boolean; dryRun: boolean; force?: boolean },
): Promise<InviteReport> {
  const report: InviteReport = { queued: [], skipped: [], dryRun: options.dryRun };
  // The mail names the organisation and the address to log in at: both come from `portal init`.
  if (!(await getOrganisation(em)).configured) {
    throw conflict('set up the organisation first (`portal init`): the mails need its name and portal URL');
  }
  // A deactivated staff member cannot log in: a password for them would only be a loose secret.
  const live = allTargets.filter((t) => {
    const deactivated = 'staff' in t.person && !t.person.staff.active;
    if (deactivated) report.skipped.push({ email: t.email, reason: 'deactivated' });
    return !deactivated;
  });
  // Before the first chunk is queued, so a refusal leaves nothing half sent.
  if (kind === 'invitation' && !options.force) {
    const own = await ownPasswordsReplaced(em, live, options.resend);
    if (own.length) throw new OwnPasswordRefusal(own);
  }
  let targets: Target[] = [];
  // Set-based, so inviting thousands of parents is a handful of statements, not thousands.
  const run = async (tx: EntityManager) => {
    const existing = await accountsOf(tx, targets);
    const byPerson = new Map(existing.map((a) => [accountKey(a), a]));
    const missing = targets.filter((t) => !byPerson.has(personKey(t)));
    // One address is one login: a parent and a staff member with the same e-mail cannot both have one.
    const taken = await tx.find(Account, { email: { $in: missing.map((t) => t.email) } });
    if (taken.length) {
      throw new DomainError(
        'conflict',
        `${taken.map((a) => a.email).join(', ')} already log(s) in as another person; one address can be one login only`,
      );
    }
    for (const t of missing) byPerson.set(personKey(t), newAccount(tx, t.person));

    const chosen: { target: Target; account: IAccount; replacesOwnPassword: boolean }[] = [];
    const now = clockOf(em).now();
    for (const target of targets) {
      const account = byPerson.get(personKey(target))!;
      if (account.suspendedAt) {
        report.skipped.push({ email: target.email, reason: 'suspended' });
      } else if (kind === 'invitation' && account.invitedAt && !options.resend) {
        report.skipped.push({
          email: target.email,
          reason: `already invited on ${account.invitedAt.toISOString().slice(0, 10)} (use --resend)`,
        });
      } else {
        chosen.push({ target, account, replacesOwnPassword: choseOwnPassword(account) });
        if (kind === 'invitation' || !account.invitedAt) account.invitedAt = now;
      }
    }
    const recipient = (c: (typeof chosen)[number], jobId: string | null): InviteRecipient => ({
      email: c.target.email,
      jobId,
      language: 'parent' in c.target.person ? c.target.person.parent.language : c.target.person.staff.language,
      children: c.target.children,
      replacesOwnPassword: c.replacesOwnPassword,
    });
    if (options.dryRun) {
      for (const c of chosen) report.queued.push(recipient(c, null));
      return;
    }
    await tx.flush(); // the jobs refer to the accounts by id
    for (const { account, replacesOwnPassword } of chosen) {
      audit(tx, {
        type: kind === 'invitation' ? 'invitation.requested' : 'password.reset_requested',
        actor,
        accountId: account.id,
        subject: account.email,
        ...(replacesOwnPassword && kind === 'invitation' ? { details: { replacesOwnPassword } } : {}),
      });
    }
    const ids = await enqueueAccountMails(
      ctx,
      tx,
      chosen.map(({ account }) => ({ kind, accountId: account.id, requestedBy: actor.label })),
    );
    report.queued.push(...chosen.map((c, i) => recipient(c, ids[i]!)));
  };
  // A transaction per thousand: each parent's invitation is still queued in the transaction
  // that marks them invited, while memory stays flat for an organisation of any size.
  for (let i = 0; i < live.length; i += CHUNK) {
    targets = live.slice(i, i + CHUNK);
    if (options.dryRun) await run(em.fork());
    else await em.fork().transactional(run);
  }
  return report;
}

/**
 * `portal parents invite`: queues one invitation mail per parent, in the same transaction that
 * marks them invited. The password is made when the mail is sent (see sendAccountMail).
 * Without a filter: every parent not invited yet. Parents without a linked child are skipped:
 * they would see an empty portal.
 */
export async function inviteParents(
  em: EntityManager,
  ctx: Pick<MailContext, 'config' | 'jobs'>,
  actor: Actor,
  filter: InviteFilter = {},
  options: { dryRun?: boolean } = {},
): Promise<InviteReport> {
  requireAdmin(actor, 'accounts.manage');
  let parents: IParent[];
  if (filter.emails?.length) {
    const wanted = [...new Set(filter.emails.map(normalizeEmail))];
    parents = await em.find(Parent, { email: { $in: wanted } }, { orderBy: { email: 'asc' } });
    const found = new Set(parents.map((p) => p.email));
    const missing = wanted.filter((e) => !found.has(e));
    if (missing.length) {
      throw new DomainError(
        'not_found',
        `no parent with e-mail ${missing.join(', ')}`,
        missing.map((m) => ({ path: 'email', message: `${m} not found` })),
      );
    }
  } else if (filter.group || filter.location) {
    const views = await listParents(em, actor, { group: filter.group, location: filter.location });
    parents = await em.find(Parent, { email: { $in: views.map((v) => v.email) } }, { orderBy: { email: 'asc' } });
  } else {
    parents = await em.find(Parent, {}, { orderBy: { email: 'asc' } });
  }
  // Child numbers per parent (the dry run lists them); a parent without any is skipped.
  const links = await sql<{ parent_id: number; child_number: string }>(
    em,
    `select g.parent_id, c.child_number from guardianship g join child c on c.id = g.child_id
      where g.parent_id = any(?::int[]) order by c.child_number`,
    [parents.map((p) => p.id)],
  );
  const childrenOf = new Map<number, string[]>();
  for (const l of links) childrenOf.set(l.parent_id, [...(childrenOf.get(l.parent_id) ?? []), l.child_number]);
  const skipped: InviteReport['skipped'] = [];
  const targets: Target[] = [];
  for (const parent of parents) {
    const children = childrenOf.get(parent.id);
    if (!children) skipped.push({ email: parent.email, reason: 'no child linked' });
    else targets.push({ email: parent.email, person: { parent }, children });
  }
  const report = await queueFor(ctx, em, actor, targets, 'invitation', {
    resend: Boolean(filter.resend),
    dryRun: Boolean(options.dryRun),
    force: Boolean(filter.force),
  });
  report.skipped.unshift(...skipped);
  return report;
}

/** `portal staff invite`: the same path for staff members. */
export async function inviteStaff(
  em: EntityManager,
  ctx: Pick<MailContext, 'config' | 'jobs'>,
  actor: Actor,
  filter: { emails?: string[]; resend?: boolean; force?: boolean } = {},
  options: { dryRun?: boolean } = {},
): Promise<InviteReport> {
  requireAdmin(actor, 'accounts.manage');
  const staff = filter.emails?.length
    ? await Promise.all(filter.emails.map((e) => findStaff(em, e)))
    : await em.find(Staff, { active: true }, { orderBy: { email: 'asc' } });
  return await queueFor(
    ctx,
    em,
    actor,
    staff.map((s) => ({ email: s.email, person: { staff: s }, children: [] })),
    'invitation',
    { resend: Boolean(filter.resend), dryRun: Boolean(options.dryRun), force: Boolean(filter.force) },
  );
}

/**
 * `portal parents reset-password EMAIL` (and for staff): a new generated password by mail,
 * the way an invitation is sent; existing sessions end when it is sent.
 */
export async function resetPasswordByAdmin(
  em: EntityManager,
  ctx: Pick<MailContext, 'config' | 'jobs'>,
  actor: Actor,
  email: string,
  who: 'parent' | 'staff',
): Promise<InviteReport> {
  requireAdmin(actor, 'accounts.manage');
  const person = who === 'parent' ? { parent: await findParent(em, email) } : { staff: await findStaff(em, email) };
  return await queueFor(ctx, em, actor, [{ email: normalizeEmail(email), person, children: [] }], 'new_password', {
    resend: true,
    dryRun: false,
  });
}

/** Makes the password, stores its hash, and writes the mail. Registered for both kinds. */
export async function composeWithPassword({ em, ctx, account, organisation, from, job }: ComposeInput): Promise<Composed> {
  const password = generatePassword();
  const hash = await ctx.hasher.hash(password); // outside the transaction: it is the slow part
  const expiresAt = new Date(clockOf(em).now().getTime() + ctx.config.auth.initialPasswordDays * 86_400_000);
  // A new password from the admin (a reset, or an invitation sent again, perhaps with --force
  // over one the person chose) ends what was logged in with the old one.
  await em.transactional(async (tx) => {
    await tx.nativeUpdate(
      Account,
      { id: account.id },
      { passwordHash: hash, passwordMustChange: true, passwordExpiresAt: expiresAt },
    );
    await endAllSessions(tx, account.id);
  });
  const portalUrl = publicBaseUrl(ctx, organisation.publicUrl);
  const content = composeInvitationMail({
    lang: languageOf(account),
    kind: job.kind === 'new_password' ? 'new_password' : 'invitation',
    firstName: firstNameOf(account),
    organisation: organisation.name,
    portalUrl,
    username: account.email,
    password,
    expiresAt,
    helpdeskEmail: organisation.helpdeskEmail,
  });
  return {
    mail: { to: account.email, from, ...content, replyTo: organisation.helpdeskEmail ?? undefined },
    // Only our own hash: a newer mail that got through in the meantime keeps its password.
    revoke: async (tx) => {
      await tx.nativeUpdate(Account, { id: account.id, passwordHash: hash }, { passwordHash: null, passwordExpiresAt: null });
    },
    sent: async (tx) => {
      await tx.nativeUpdate(Account, { id: account.id }, { invitationSentAt: clockOf(tx).now() });
      audit(tx, {
        type: job.kind === 'new_password' ? 'password.reset' : 'invitation.sent',
        actor: job.requestedBy,
        accountId: account.id,
        subject: account.email,
      });
    },
  };
}
