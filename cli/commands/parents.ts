import type { Command } from 'commander';
import {
  addParent,
  linkParent,
  listParents,
  type ParentView,
  showParent,
  unlinkParent,
} from '../../core/directory/parents.ts';
import { action } from '../context.ts';
import { registerParentAccountCommands } from './accounts.ts';
import type { CliIO } from '../io.ts';
import { formatDetails } from '../output.ts';

const details = (p: ParentView) =>
  formatDetails([
    ['Parent', p.name],
    ['E-mail (username)', p.email],
    ['Phone', p.phone],
    ['Language', p.language],
    ['Children', p.children.map((c) => `${c.name} (${c.childNumber})`).join(', ')],
  ]);

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerParents(program: Command, io: CliIO): void {
  const parents = program.command('parents').description('parents (ouders/verzorgers) and their children');

  parents
    .command('add')
    .description('add a parent; the e-mail address is the username')
    .requiredOption('--email <address>', 'e-mail address (unique, case does not matter)')
    .requiredOption('--first-name <name>', 'first name')
    .option('--infix <infix>', 'tussenvoegsel')
    .requiredOption('--last-name <name>', 'last name')
    .option('--phone <number>', 'mobile number')
    .option('--language <nl|en>', 'language of the portal and e-mails (default: the organisation default)')
    .option('--child <childNumber>', 'link to this child (repeat for more children)', collect)
    .action(
      action(
        io,
        async (
          ctx,
          f: { email: string; firstName: string; infix?: string; lastName: string; phone?: string; language?: string; child?: string[] },
        ) => {
          const p = await ctx.withPortal((em) =>
            addParent(em, ctx.actor, {
              email: f.email,
              firstName: f.firstName,
              infix: f.infix,
              lastName: f.lastName,
              phone: f.phone,
              language: f.language as 'nl' | 'en' | undefined,
              children: f.child ?? [],
            }),
          );
          ctx.out.result(p, `Parent ${p.email} added${p.children.length ? ` for ${p.children.map((c) => c.childNumber).join(', ')}` : ''}.`);
        },
      ),
    );

  parents
    .command('list')
    .description('list parents, optionally of one group or location')
    .option('--group <group>', 'parents of children in this group')
    .option('--location <location>', 'parents of children at this location')
    .action(
      action(io, async (ctx, f: { group?: string; location?: string }) => {
        const rows = await ctx.withPortal((em) => listParents(em, ctx.actor, f));
        ctx.out.table(
          rows,
          [
            { header: 'EMAIL', value: (p) => p.email },
            { header: 'NAME', value: (p) => p.name },
            { header: 'PHONE', value: (p) => p.phone },
            { header: 'LANG', value: (p) => p.language },
            { header: 'CHILDREN', value: (p) => p.children.map((c) => c.childNumber).join(', ') },
          ],
          'No parents found.',
        );
      }),
    );

  parents
    .command('show')
    .description('show a parent and their children')
    .argument('<email>', 'e-mail address')
    .action(
      action(io, async (ctx, email: string) => {
        ctx.out.print(await ctx.withPortal((em) => showParent(em, ctx.actor, email)), details);
      }),
    );

  parents
    .command('link')
    .description('link a parent to a child (a child can have several parents, a parent several children)')
    .argument('<email>', 'e-mail address')
    .argument('<childNumber>', 'child number')
    .action(
      action(io, async (ctx, email: string, number: string) => {
        const p = await ctx.withPortal((em) => linkParent(em, ctx.actor, email, number));
        ctx.out.result(p, p.changed ? `${p.email} is now linked to child ${number}.` : `${p.email} was already linked to child ${number}.`);
      }),
    );

  parents
    .command('unlink')
    .description('remove the link between a parent and a child')
    .argument('<email>', 'e-mail address')
    .argument('<childNumber>', 'child number')
    .action(
      action(io, async (ctx, email: string, number: string) => {
        const p = await ctx.withPortal((em) => unlinkParent(em, ctx.actor, email, number));
        ctx.out.result(p, `${p.email} is no longer linked to child ${number}.`);
      }),
    );

  registerParentAccountCommands(parents, io);
}
