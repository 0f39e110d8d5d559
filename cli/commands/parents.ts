import type { Command } from 'commander';
import {
  addParent,
  linkParent,
  listParents,
  type ParentView,
  removeParent,
  showParent,
  unlinkParent,
  updateParent,
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

  parents
    .command('update')
    .description('change a parent\'s details; a new e-mail address applies when the parent confirms it from the mail sent to it')
    .argument('<email>', 'current e-mail address')
    .option('--first-name <name>', 'first name')
    .option('--infix <infix>', 'tussenvoegsel ("" clears it)')
    .option('--last-name <name>', 'last name')
    .option('--phone <number>', 'mobile number ("" clears it)')
    .option('--language <nl|en>', 'language of the portal and e-mails')
    .option('--email <address>', 'new e-mail address (the username)')
    .option('--no-confirm', 'with --email: apply the address at once (you vouch for it); the old address gets a notice, sessions end')
    .option('--dry-run', 'show what would change, change nothing')
    .action(
      action(
        io,
        async (
          ctx,
          email: string,
          f: {
            firstName?: string;
            infix?: string;
            lastName?: string;
            phone?: string;
            language?: string;
            email?: string;
            confirm: boolean;
            dryRun?: boolean;
          },
        ) => {
          const { confirm, dryRun, ...input } = f;
          const p = await ctx.withPortal((em, portal) =>
            updateParent(em, portal, ctx.actor, email, { ...input, language: input.language as 'nl' | undefined }, { confirm, dryRun }),
          );
          const parts: string[] = [];
          if (p.changed.length) parts.push(`changed ${p.changed.join(', ')}`);
          const change = p.emailChange;
          if (change?.status === 'pending') {
            parts.push(`a confirmation link goes to ${change.newEmail}; the address changes when it is opened (the server sends the mail)`);
          } else if (change) {
            parts.push(`the address is now ${change.newEmail}; the old address gets a notice; ${change.sessionsEnded} session(s) ended`);
          }
          const what = parts.length ? parts.join('; ') : 'nothing to change';
          ctx.out.result(p, `${p.dryRun ? 'Dry run (rolled back): ' : ''}${email}: ${what}.`);
        },
      ),
    );

  parents
    .command('remove')
    .description('remove a parent who has no child linked any more: login, sessions and settings go; their messages stay as "Verwijderde ouder"')
    .argument('<email>', 'e-mail address')
    .option('--dry-run', 'show what would be removed, change nothing')
    .option('-y, --yes', 'do not ask for confirmation')
    .action(
      action(io, async (ctx, email: string, f: { dryRun?: boolean; yes?: boolean }) => {
        if (!f.dryRun) await ctx.confirm(`Remove parent ${email} and their login? This cannot be undone.`, f.yes);
        const r = await ctx.withPortal((em) => removeParent(em, ctx.actor, email, { dryRun: f.dryRun }));
        ctx.out.result(
          r,
          `${r.dryRun ? 'Dry run (rolled back): removed' : 'Removed'} ${r.email}: ${r.sessionsEnded} session(s) ended, ${r.messagesAnonymised} message(s) kept as "Verwijderde ouder".`,
        );
      }),
    );

  registerParentAccountCommands(parents, io);
}
