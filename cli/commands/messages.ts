import type { Command } from 'commander';
import { ambiguousThreads, assignThreadChild } from '../../core/messages/thread-child.ts';
import { confirmationOverview, remindUnconfirmed } from '../../core/messages/confirmations.ts';
import { conflict } from '../../core/errors.ts';
import { action } from '../context.ts';
import { formatTable } from '../output.ts';
import type { CliIO } from '../io.ts';

/**
 * Threads that await their child: stored before a parent with two or more children in a group
 * had to say which child a message is about. Only the parent who started one sees it until its
 * child is assigned here or by the group's staff on the thread's page.
 */
export function registerMessages(program: Command, io: CliIO): void {
  const messages = program.command('messages').description('message threads (berichten) that await the child they are about');

  messages
    .command('ambiguous')
    .description(
      'list threads started by a parent with two or more children in the group before a child had to be chosen; only that parent sees them until the child is assigned',
    )
    .action(
      action(io, async (ctx) => {
        const rows = await ctx.withPortal((em) => ambiguousThreads(em, ctx.actor));
        ctx.out.table(
          rows,
          [
            { header: 'THREAD', value: (t) => t.id },
            { header: 'GROUP', value: (t) => t.group },
            { header: 'STARTED BY', value: (t) => t.startedBy },
            { header: 'STARTED AT', value: (t) => t.startedAt.replace('T', ' ').slice(0, 16) },
            { header: 'SUBJECT', value: (t) => t.subject },
            { header: 'CANDIDATES', value: (t) => t.candidates.map((c) => `${c.childNumber} ${c.name}`).join(', ') },
          ],
          'No threads await their child.',
        );
      }),
    );

  messages
    .command('assign')
    .description(
      "say which child a thread is about: one of the starter's children placed in the thread's group on the day it was started (see `portal messages ambiguous`); every parent of that child then reads it",
    )
    .argument('<thread>', 'thread id (from `portal messages ambiguous`)')
    .requiredOption('--child <childNumber>', 'child number of the child the thread is about')
    .action(
      action(io, async (ctx, thread: string, flags: { child: string }) => {
        const r = await ctx.withPortal((em) => assignThreadChild(em, ctx.actor, thread, flags.child));
        ctx.out.result(r, `Thread ${r.threadId} is now about ${r.to} (${r.childName})${r.from === r.to ? '' : `; it was stored under ${r.from}`}.`);
      }),
    );

  messages
    .command('confirmations')
    .description(
      'who confirmed reading a mededeling that asks for it and who has not, per group (parents it reaches today); see `portal messages remind`',
    )
    .argument('<announcement>', 'announcement id (the end of its address /berichten/mededeling/ID)')
    .action(
      action(io, async (ctx, announcement: string) => {
        const o = await ctx.withPortal((em) => confirmationOverview(em, ctx.actor, announcement));
        const minute = (iso: string) => iso.replace('T', ' ').slice(0, 16);
        ctx.out.print(o, (o) => {
          const rows = o.groups.flatMap((g) => [...g.confirmed, ...g.pending].map((p) => ({ group: g.name, ...p })));
          const table = formatTable(rows, [
            { header: 'GROUP', value: (r) => r.group },
            { header: 'PARENT', value: (r) => r.name },
            { header: 'CHILDREN', value: (r) => r.children },
            { header: 'CONFIRMED AT', value: (r) => (r.confirmedAt ? minute(r.confirmedAt) : 'not yet') },
          ]);
          const last = o.lastReminder ? `last reminder ${minute(o.lastReminder.sentAt)} by ${o.lastReminder.by}` : 'no reminder yet';
          return `${rows.length ? table : ''}${o.totals.confirmed} of ${o.totals.parents} parents confirmed; ${last}.\n`;
        });
      }),
    );

  messages
    .command('remind')
    .description(
      'mail the parents who have not confirmed a mededeling that asks for it (at most once per announcement per day; exit 3 when one went today already)',
    )
    .argument('<announcement>', 'announcement id (the end of its address /berichten/mededeling/ID)')
    .action(
      action(io, async (ctx, announcement: string) => {
        const r = await ctx.withPortal((em, portal) => remindUnconfirmed(em, portal, ctx.actor, announcement));
        if (r.outcome === 'already_today') throw conflict(`a reminder went today already; the next one can go from ${r.nextAt}`);
        ctx.out.result(r, r.outcome === 'sent' ? `Reminder queued for ${r.mails} parent(s).` : 'Everyone has confirmed: no reminder sent.');
      }),
    );
}
