import type { Command } from 'commander';
import { listAudit } from '../../core/audit.ts';
import { action } from '../context.ts';
import type { CliIO } from '../io.ts';

export function registerAudit(program: Command, io: CliIO): void {
  program
    .command('audit')
    .description('the audit log, newest first: logins, failures, password changes, invitations, suspensions, consent changes, deletions')
    .option('--since <time>', 'from this date or time (e.g. 2026-11-01 or 2026-11-24T08:00)')
    .option('--actor <text>', 'actor contains this (e.g. cli: or an e-mail address)')
    .option('--type <type>', 'event type, or a prefix such as "login."')
    .option('--subject <email|childNumber>', 'events about this person or child')
    .option('--child <childNumber>', 'events about this child: consent changes, downloads of photos the child is in, …')
    .option('--limit <n>', 'at most this many events', '100')
    .action(
      action(io, async (ctx, f: { since?: string; actor?: string; type?: string; subject?: string; child?: string; limit: string }) => {
        const limit = Number(f.limit);
        const rows = await ctx.withPortal((em) =>
          listAudit(em, ctx.actor, { ...f, limit: Number.isInteger(limit) && limit > 0 ? limit : 100 }),
        );
        ctx.out.table(
          rows,
          [
            { header: 'AT', value: (r) => r.at.replace('T', ' ').slice(0, 19) },
            { header: 'TYPE', value: (r) => r.type },
            { header: 'ACTOR', value: (r) => r.actor },
            { header: 'SUBJECT', value: (r) => r.subject },
            { header: 'IP', value: (r) => r.ip },
            { header: 'DETAILS', value: (r) => (r.details ? JSON.stringify(r.details) : null) },
          ],
          'No events.',
        );
      }),
    );
}
