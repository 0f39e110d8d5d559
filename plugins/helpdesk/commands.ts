import type { Command } from 'commander';
import { formatDetails } from '../../cli/output.ts';
import type { PluginCommandContext } from '../types.ts';
import { closeHelpdeskRequest, getHelpdeskRequest, listHelpdeskRequests } from './requests.ts';

/** `portal helpdesk list|show|close`, for the administrator at the terminal. */
export function helpdeskCommands(group: Command, { io, action, ensureEnabled }: PluginCommandContext): void {
  group.description('questions sent with the helpdesk form');
  group
    .command('list')
    .description('questions, newest first (default: the open ones)')
    .option('--status <status>', 'open, closed or all', 'open')
    .option('--limit <n>', 'at most this many', '100')
    .action(
      action(io, async (ctx, f: { status: string; limit: string }) => {
        ensureEnabled(ctx.loadConfig().config);
        const status = ['open', 'closed', 'all'].includes(f.status) ? (f.status as 'open') : 'open';
        const limit = Number(f.limit);
        const rows = await ctx.withPortal((em) =>
          listHelpdeskRequests(em, ctx.actor, { status, limit: Number.isInteger(limit) && limit > 0 ? limit : 100 }),
        );
        ctx.out.table(
          rows,
          [
            { header: 'REFERENCE', value: (r) => r.reference },
            { header: 'AT', value: (r) => r.createdAt.replace('T', ' ').slice(0, 16) },
            { header: 'STATUS', value: (r) => r.status },
            { header: 'CATEGORY', value: (r) => r.category },
            { header: 'FROM', value: (r) => r.email },
            { header: 'SUBJECT', value: (r) => r.subject },
          ],
          'No questions.',
        );
      }),
    );
  group
    .command('show')
    .description('one question in full')
    .argument('<reference>', 'e.g. HD-7K3QXM')
    .action(
      action(io, async (ctx, reference: string) => {
        ensureEnabled(ctx.loadConfig().config);
        const r = await ctx.withPortal((em) => getHelpdeskRequest(em, ctx.actor, reference));
        ctx.out.print(r, (r) => formatDetails([
          ['Reference', r.reference],
          ['Sent', r.createdAt],
          ['Status', r.closedAt ? `${r.status} (${r.closedAt} by ${r.closedBy})` : r.status],
          ['From', r.name ? `${r.name} <${r.email}>` : r.email],
          ['Logged in', r.accountId ? `account ${r.accountId}` : 'no'],
          ['Category', r.category],
          ['Page', r.fromPath ?? '-'],
          ['Subject', r.subject],
        ]) + `\n${r.message}\n`);
      }),
    );
  group
    .command('close')
    .description('mark a question as answered')
    .argument('<reference>', 'e.g. HD-7K3QXM')
    .action(
      action(io, async (ctx, reference: string) => {
        ensureEnabled(ctx.loadConfig().config);
        const r = await ctx.withPortal((em) => closeHelpdeskRequest(em, ctx.actor, reference));
        ctx.out.result(r, `Closed ${r.reference}.`);
      }),
    );
}
