import type { Command } from 'commander';
import { mailStatus, retryFailedMail, workMailQueue } from '../../core/mail/queue-status.ts';
import { action } from '../context.ts';
import type { CliIO } from '../io.ts';
import { formatDetails, formatTable } from '../output.ts';

export function registerMail(program: Command, io: CliIO): void {
  const mail = program.command('mail').description('the outgoing mail queue (invitations, password mails)');

  mail
    .command('status')
    .description('queued, sending, retrying, sent and failed mails, with the reasons of failures')
    .action(
      action(io, async (ctx) => {
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
            ]) +
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
