import type { Command } from 'commander';
import { addStaff, assignStaff, listStaff } from '../../core/directory/staff.ts';
import { action } from '../context.ts';
import { registerStaffAccountCommands } from './accounts.ts';
import type { CliIO } from '../io.ts';

export function registerStaff(program: Command, io: CliIO): void {
  const staff = program.command('staff').description('staff: pedagogisch medewerkers, location managers, admins');

  staff
    .command('add')
    .description('add a staff member')
    .requiredOption('--email <address>', 'e-mail address (unique)')
    .requiredOption('--first-name <name>', 'first name')
    .option('--infix <infix>', 'tussenvoegsel')
    .requiredOption('--last-name <name>', 'last name')
    .requiredOption('--role <role>', 'staff (group staff), manager (locatiehoofd) or admin')
    .option('--phone <number>', 'phone number')
    .option('--language <nl|en>', 'language of the portal and e-mails', 'nl')
    .action(
      action(
        io,
        async (
          ctx,
          f: { email: string; firstName: string; infix?: string; lastName: string; role: string; phone?: string; language: string },
        ) => {
          const s = await ctx.withPortal((em) =>
            addStaff(em, ctx.actor, {
              ...f,
              role: f.role as 'staff',
              language: f.language as 'nl',
            }),
          );
          ctx.out.result(s, `Staff member ${s.email} (${s.role}) added.`);
        },
      ),
    );

  staff
    .command('list')
    .description('list staff members with where they work')
    .option('--location <location>', 'only staff of this location')
    .option('--group <group>', 'only staff of this group')
    .option('--role <role>', 'only this role')
    .action(
      action(io, async (ctx, f: { location?: string; group?: string; role?: string }) => {
        const rows = await ctx.withPortal((em) => listStaff(em, ctx.actor, f));
        ctx.out.table(
          rows,
          [
            { header: 'EMAIL', value: (s) => s.email },
            { header: 'NAME', value: (s) => s.name },
            { header: 'ROLE', value: (s) => s.role },
            { header: 'WORKS AT', value: (s) => s.assignments.join(', ') },
          ],
          'No staff found.',
        );
      }),
    );

  staff
    .command('assign')
    .description('assign a staff member to a group, or a manager to a whole location')
    .argument('<email>', 'e-mail address')
    .option('--group <group>', 'the group ("Location/Group" or a unique name)')
    .option('--location <location>', 'the location (alone: the whole location; with --group: the group\'s location)')
    .option('--remove', 'take the assignment away instead')
    .action(
      action(io, async (ctx, email: string, f: { group?: string; location?: string; remove?: boolean }) => {
        const s = await ctx.withPortal((em) =>
          assignStaff(em, ctx.actor, email, { group: f.group, location: f.location }, f.remove),
        );
        const where = f.group ?? f.location;
        ctx.out.result(
          s,
          f.remove
            ? `${s.email} no longer works at ${where}.`
            : s.changed
              ? `${s.email} now works at ${where}.`
              : `${s.email} already worked at ${where}.`,
        );
      }),
    );

  registerStaffAccountCommands(staff, io);
}
