import type { Command } from 'commander';
import { ambiguousThreads, assignThreadChild } from '../../core/messages/thread-child.ts';
import { action } from '../context.ts';
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
}
