import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor } from '../actor.ts';
import { requireAdmin } from '../access/index.ts';
import { audit } from '../audit.ts';
import { generatePassword } from '../auth/passwords.ts';
import { getOrganisation } from '../directory/organisation.ts';
import { listParents } from '../directory/parents.ts';
import { findParent, findStaff } from '../directory/refs.ts';
import { Account, type IAccount, Session } from '../entities/account.ts';
import { Guardianship, type IParent, Parent } from '../entities/parent.ts';
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
import { firstNameOf, languageOf, newAccount } from './accounts.ts';
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
}

export interface InviteReport {
  queued: { email: string; jobId: string | null }[];
  skipped: { email: string; reason: string }[];
  dryRun: boolean;
}

type Target = { email: string; person: { parent: IParent } | { staff: IStaff } };

const CHUNK = 1000;

async function queueFor(
  ctx: Pick<MailContext, 'config' | 'jobs'>,
  em: EntityManager,
  actor: Actor,
  allTargets: Target[],
  kind: AccountMailKind,
  options: { resend: boolean; dryRun: boolean },
): Promise<InviteReport> {
  const report: InviteReport = { queued: [], skipped: [], dryRun: options.dryRun };
  // The mail names the organisation and the address to log in at: both come from `portal init`.
  if (!(await getOrganisation(em)).configured) {
    throw conflict('set up the organisation first (`portal init`): the mails need its name and portal URL');
  }
  let targets: Target[] = [];
  // Set-based, so inviting thousands of parents is a handful of statements, not thousands.
  const run = async (tx: EntityManager) => {
    const parentIds = targets.flatMap((t) => ('parent' in t.person ? [t.person.parent.id] : []));
    const staffIds = targets.flatMap((t) => ('staff' in t.person ? [t.person.staff.id] : []));
    const existing = await tx.find(Account, {
      $or: [{ parent: { $in: parentIds } }, { staff: { $in: staffIds } }],
    });
    const byPerson = new Map(existing.map((a) => [a.parent ? `p${a.parent.id}` : `s${a.staff!.id}`, a]));
    const key = (t: Target) => ('parent' in t.person ? `p${t.person.parent.id}` : `s${t.person.staff.id}`);
    const missing = targets.filter((t) => !byPerson.has(key(t)));
    // One address is one login: a parent and a staff member with the same e-mail cannot both have one.
    const taken = await tx.find(Account, { email: { $in: missing.map((t) => t.email) } });
    if (taken.length) {
      throw new DomainError(
        'conflict',
        `${taken.map((a) => a.email).join(', ')} already log(s) in as another person; one address can be one login only`,
      );
    }
    for (const t of missing) byPerson.set(key(t), newAccount(tx, t.person));

    const chosen: { target: Target; account: IAccount }[] = [];
    const now = clockOf(em).now();
    for (const target of targets) {
      const account = byPerson.get(key(target))!;
      if (account.suspendedAt) {
        report.skipped.push({ email: target.email, reason: 'suspended' });
      } else if (kind === 'invitation' && account.invitedAt && !options.resend) {
        report.skipped.push({
          email: target.email,
          reason: `already invited on ${account.invitedAt.toISOString().slice(0, 10)} (use --resend)`,
        });
      } else {
        chosen.push({ target, account });
        if (kind === 'invitation' || !account.invitedAt) account.invitedAt = now;
      }
    }
    if (options.dryRun) {
      for (const c of chosen) report.queued.push({ email: c.target.email, jobId: null });
      return;
    }
    await tx.flush(); // the jobs refer to the accounts by id
    for (const { account } of chosen) {
      audit(tx, {
        type: kind === 'invitation' ? 'invitation.requested' : 'password.reset_requested',
        actor,
        accountId: account.id,
        subject: account.email,
      });
    }
    const ids = await enqueueAccountMails(
      ctx,
      tx,
      chosen.map(({ account }) => ({ kind, accountId: account.id, requestedBy: actor.label })),
    );
    report.queued.push(...chosen.map((c, i) => ({ email: c.target.email, jobId: ids[i]! })));
  };
  // A transaction per thousand: each parent's invitation is still queued in the transaction
  // that marks them invited, while memory stays flat for an organisation of any size.
  for (let i = 0; i < allTargets.length; i += CHUNK) {
    targets = allTargets.slice(i, i + CHUNK);
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
  const linked = new Set(
    (await em.find(Guardianship, { parent: { $in: parents.map((p) => p.id) } }, { fields: ['parent'] })).map(
      (g) => g.parent.id,
    ),
  );
  const skipped: InviteReport['skipped'] = [];
  const targets: Target[] = [];
  for (const parent of parents) {
    if (!linked.has(parent.id)) skipped.push({ email: parent.email, reason: 'no child linked' });
    else targets.push({ email: parent.email, person: { parent } });
  }
  const report = await queueFor(ctx, em, actor, targets, 'invitation', {
    resend: Boolean(filter.resend),
    dryRun: Boolean(options.dryRun),
  });
  report.skipped.unshift(...skipped);
  return report;
}

/** `portal staff invite`: the same path for staff members. */
export async function inviteStaff(
  em: EntityManager,
  ctx: Pick<MailContext, 'config' | 'jobs'>,
  actor: Actor,
  filter: { emails?: string[]; resend?: boolean } = {},
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
    staff.map((s) => ({ email: s.email, person: { staff: s } })),
    'invitation',
    { resend: Boolean(filter.resend), dryRun: Boolean(options.dryRun) },
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
  return await queueFor(ctx, em, actor, [{ email: normalizeEmail(email), person }], 'new_password', {
    resend: true,
    dryRun: false,
  });
}

/** Makes the password, stores its hash, and writes the mail. Registered for both kinds. */
export async function composeWithPassword({ em, ctx, account, organisation, from, job }: ComposeInput): Promise<Composed> {
  const password = generatePassword();
  const hash = await ctx.hasher.hash(password); // outside the transaction: it is the slow part
  const expiresAt = new Date(clockOf(em).now().getTime() + ctx.config.auth.initialPasswordDays * 86_400_000);
  const store = async (tx: EntityManager) => {
    await tx.nativeUpdate(
      Account,
      { id: account.id },
      { passwordHash: hash, passwordMustChange: true, passwordExpiresAt: expiresAt },
    );
    // A new password from the admin ends what was logged in with the old one.
    if (job.kind === 'new_password') await tx.nativeDelete(Session, { account: account.id });
  };
  // One statement needs no transaction of its own; the new-password case has two.
  if (job.kind === 'new_password') await em.transactional(store);
  else await store(em);
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
