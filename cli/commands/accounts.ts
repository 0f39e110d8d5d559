import type { Command } from 'commander';
import {
  type InviteReport,
  inviteParents,
  inviteStaff,
  OwnPasswordRefusal,
  resetPasswordByAdmin,
} from '../../core/accounts/invitations.ts';
import { suspendParent, unsuspendParent } from '../../core/accounts/suspension.ts';
import { revokeParentFeed } from '../../core/calendar-feed/links.ts';
import type { Portal } from '../../core/portal.ts';
import { workMailQueue } from '../../core/mail/queue-status.ts';
import { action, type CommandContext } from '../context.ts';
import type { CliIO } from '../io.ts';


interface SendFlags {
  wait?: boolean;
  dryRun?: boolean;
}

interface InviteFlags extends SendFlags {
  resend?: boolean;
  force?: boolean;
}

/**
 * Runs an invitation. When it would replace passwords people chose themselves and --force was
 * not given, the core refuses (exit 1, naming them); on a terminal the admin is asked instead.
 */
async function inviting(ctx: CommandContext, flags: InviteFlags, run: (force: boolean) => Promise<InviteReport>): Promise<InviteReport> {
  try {
    return await run(Boolean(flags.force));
  } catch (err) {
    if (!(err instanceof OwnPasswordRefusal) || !ctx.io.isTTY) throw err;
    await ctx.confirm(
      `${err.emails.length} recipient(s) chose their own password (${err.emails.slice(0, 5).join(', ')}${err.emails.length > 5 ? ', …' : ''}); the invitation replaces it. Send anyway?`,
      false,
    );
    return await run(true);
  }
}

/**
 * After queuing: work the queue here until every new mail had its first attempt, so the admin
 * sees at once what went out and what the SMTP server refused (those stay queued and are
 * retried with backoff by `portal serve` or `portal mail work`). --no-wait leaves all of it to
 * the server.
 */
async function deliver(ctx: CommandContext, portal: Portal, report: InviteReport, flags: SendFlags, what: string) {
  const ids = report.queued.map((q) => q.jobId).filter((id): id is string => id !== null);
  const outcome =
    flags.wait === false || ids.length === 0 || flags.dryRun
      ? undefined
      : await workMailQueue(portal, {
          ids,
          onProgress: ctx.io.isTTY ? (done, total) => ctx.io.stderr(`\rsending ${done}/${total}`) : undefined,
        });
  if (ctx.io.isTTY && outcome) ctx.io.stderr('\n');
  const where = portal.mail.description;
  const lines: string[] = [];
  // A dry run lists who would get what, so the admin checks the recipients, not only a count.
  if (report.dryRun && !ctx.out.json && report.queued.length) {
    ctx.out.table(
      report.queued,
      [
        { header: 'EMAIL', value: (q) => q.email },
        { header: 'CHILDREN', value: (q) => q.children.join(', ') },
        { header: 'LANGUAGE', value: (q) => q.language },
        { header: 'NOTE', value: (q) => (q.replacesOwnPassword ? 'replaces own password' : '') },
      ],
      '',
    );
  }
  if (report.dryRun) lines.push(`Dry run: would send ${report.queued.length} ${what}.`);
  else if (!outcome) lines.push(`${report.queued.length} ${what} queued; the server sends them.`);
  else {
    lines.push(`${outcome.sent} of ${report.queued.length} ${what} sent (${where}).`);
    if (outcome.failed.length) {
      lines.push(
        `${outcome.failed.length} could not be sent yet (${outcome.failed[0]?.error ?? 'unknown error'}); they stay queued and are retried with backoff by \`portal serve\` or \`portal mail work\`. See \`portal mail status\`.`,
      );
    }
    if (outcome.pending) lines.push(`${outcome.pending} still waiting in the queue.`);
  }
  for (const s of report.skipped) lines.push(`skipped ${s.email}: ${s.reason}`);
  ctx.out.result({ ...report, outcome: outcome ?? null, transport: where }, lines.join('\n'));
}

export function registerParentAccountCommands(parents: Command, io: CliIO): void {
  parents
    .command('invite')
    .description(
      'e-mail parents their username and a generated password (by default: every parent not invited yet); the password is made when the mail is sent',
    )
    .argument('[emails...]', 'only these parents')
    .option('--group <group>', 'parents of the children in this group')
    .option('--location <location>', 'parents of the children at this location')
    .option('--resend', 'also parents invited before (they get a new password)')
    .option('--force', 'also parents who chose their own password (the invitation replaces it)')
    .option('--dry-run', 'list who would get a mail (e-mail, children, language), send nothing')
    .option('--no-wait', 'only queue the mails; the running server sends them')
    .action(
      action(io, async (ctx, emails: string[], f: InviteFlags & { group?: string; location?: string }) => {
        await ctx.withPortal(async (em, portal) => {
          const report = await inviting(ctx, f, (force) =>
            inviteParents(
              em,
              portal,
              ctx.actor,
              { emails, group: f.group, location: f.location, resend: f.resend, force },
              { dryRun: f.dryRun },
            ),
          );
          await deliver(ctx, portal, report, f, 'invitation(s)');
        });
      }),
    );

  parents
    .command('reset-password')
    .description('e-mail a parent a new generated password (they choose their own at the next login); their sessions end')
    .argument('<email>', 'e-mail address')
    .option('--no-wait', 'only queue the mail')
    .action(
      action(io, async (ctx, email: string, f: SendFlags) => {
        await ctx.withPortal(async (em, portal) => {
          const report = await resetPasswordByAdmin(em, portal, ctx.actor, email, 'parent');
          await deliver(ctx, portal, report, f, 'password mail(s)');
        });
      }),
    );

  parents
    .command('suspend')
    .description('exclude a parent (e.g. after misuse of photos): sessions end at once, login and downloads are refused')
    .argument('<email>', 'e-mail address')
    .requiredOption('--reason <text>', 'why; kept for the helpdesk and the audit log')
    .action(
      action(io, async (ctx, email: string, f: { reason: string }) => {
        const s = await ctx.withPortal((em) => suspendParent(em, ctx.actor, email, f.reason));
        ctx.out.result(s, `${s.email} is suspended; ${s.sessionsEnded} session(s) ended.`);
      }),
    );

  parents
    .command('unsuspend')
    .description('lift a suspension: the parent can log in again')
    .argument('<email>', 'e-mail address')
    .action(
      action(io, async (ctx, email: string) => {
        const s = await ctx.withPortal((em) => unsuspendParent(em, ctx.actor, email));
        ctx.out.result(s, `${s.email} can log in again.`);
      }),
    );

  parents
    .command('revoke-feed')
    .description("revoke a parent's calendar feed link (agenda-koppeling): the old URL answers 404 at once; they can make a new one")
    .argument('<email>', 'e-mail address')
    .action(
      action(io, async (ctx, email: string) => {
        const r = await ctx.withPortal((em) => revokeParentFeed(em, ctx.actor, email));
        ctx.out.result(r, r.revoked ? `${r.email}'s calendar link is revoked; its URL answers 404 from now on.` : `${r.email} had no calendar link.`);
      }),
    );
}

export function registerStaffAccountCommands(staff: Command, io: CliIO): void {
  staff
    .command('invite')
    .description('e-mail staff members their username and a generated password (by default: every active one not invited yet)')
    .argument('[emails...]', 'only these staff members')
    .option('--resend', 'also those invited before (they get a new password)')
    .option('--force', 'also those who chose their own password (the invitation replaces it)')
    .option('--dry-run', 'list who would get a mail, send nothing')
    .option('--no-wait', 'only queue the mails; the running server sends them')
    .action(
      action(io, async (ctx, emails: string[], f: InviteFlags) => {
        await ctx.withPortal(async (em, portal) => {
          const report = await inviting(ctx, f, (force) =>
            inviteStaff(em, portal, ctx.actor, { emails, resend: f.resend, force }, { dryRun: f.dryRun }),
          );
          await deliver(ctx, portal, report, f, 'invitation(s)');
        });
      }),
    );

  staff
    .command('reset-password')
    .description('e-mail a staff member a new generated password; their sessions end')
    .argument('<email>', 'e-mail address')
    .option('--no-wait', 'only queue the mail')
    .action(
      action(io, async (ctx, email: string, f: SendFlags) => {
        await ctx.withPortal(async (em, portal) => {
          const report = await resetPasswordByAdmin(em, portal, ctx.actor, email, 'staff');
          await deliver(ctx, portal, report, f, 'password mail(s)');
        });
      }),
    );
}

