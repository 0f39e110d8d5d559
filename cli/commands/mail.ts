import type { Command } from 'commander';
import { mailStatus, type RecipientMail, retryFailedMail, workMailQueue } from '../../core/mail/queue-status.ts';
import { action } from '../context.ts';
import type { CliIO } from '../io.ts';
import { formatDetails, formatTable } from '../output.ts';

/**
 * Per recipient. Without --all only those with something to look at: a mail still pending, one
 * that failed, or one that may have arrived twice (a send a crash interrupted, sent again; both
 * copies carry the same Message-ID and the later one says it replaces the earlier one).
 */
function recipientTable(recipients: RecipientMail[], all: boolean): string {
  const rows = all ? recipients : recipients.filter((r) => r.pending || r.failed || r.possiblyDuplicated);
  if (rows.length === 0) return '';
  const title = all ? 'Per recipient:' : 'Recipients with a pending, failed or possibly duplicated mail (--all lists everyone):';
  return `\n${title}\n${formatTable(rows, [
    { header: 'EMAIL', value: (r) => r.email },
    { header: 'SENT', value: (r) => r.sent },
    { header: 'PENDING', value: (r) => r.pending },
    { header: 'FAILED', value: (r) => r.failed },
    { header: 'POSSIBLY DUPLICATED', value: (r) => r.possiblyDuplicated },
  ])}`;
}

export function registerMail(program: Command, io: CliIO): void {
  const mail = program.command('mail').description('the outgoing mail queue (invitations, password mails)');

  mail
    .command('status')
    .description('queued, sending, retrying, sent and failed mails, with the reasons of failures, and per recipient: sent, pending, failed, possibly duplicated')
    .option('--all', 'list every recipient, not only those with a pending, failed or possibly duplicated mail')
    .action(
      action(io, async (ctx, opts: { all?: boolean }) => {
        const status = await ctx.withPortal((em, portal) => mailStatus(em, portal, ctx.actor));
        const table = (rows: typeof status.failures) =>
          formatTable(rows, [
            { header: 'EMAIL', value: (f) => f.email },
            { header: 'KIND', value: (f) => f.kind },
            { header: 'ATTEMPTS', value: (f) => f.attempts },
            { header: 'ERROR', value: (f) => f.error },
          ]);
        ctx.out.print(
          status,
          (s) =>
            formatDetails([
              ['Queued', s.queued],
              ['Sending', s.sending],
              ['Retrying', s.retrying],
              ['Sent', s.sent],
              ['Failed', s.failed],
              ['Possibly duplicated', s.possiblyDuplicated ? `${s.possiblyDuplicated} recipient(s)` : 0],
            ]) +
            recipientTable(s.recipients, Boolean(opts.all)) +
            (s.retries.length ? `\nWaiting for a retry:\n${table(s.retries)}` : '') +
            (s.failures.length ? `\nFailed after the last retry (portal mail retry sends them again):\n${table(s.failures)}` : ''),
        );
      }),
    );

  mail
    .command('retry')
    .description('send the failed mails again (each with a newly generated password or link)')
    .action(
      action(io, async (ctx) => {
        const r = await ctx.withPortal((em, portal) => retryFailedMail(em, portal, ctx.actor));
        ctx.out.result(r, r.requeued ? `${r.requeued} mail(s) queued again.` : 'No failed mails.');
      }),
    );

  mail
    .command('work')
    .description('send the mails that are due now from this process (when no server runs), then stop')
    .action(
      action(io, async (ctx) => {
        const r = await ctx.withPortal((_em, portal) => workMailQueue(portal));
        ctx.out.result(
          r,
          `${r.sent} sent${r.failed.length ? `, ${r.failed.length} failed and will be retried (${r.failed[0]?.error})` : ''}.`,
        );
      }),
    );
}
