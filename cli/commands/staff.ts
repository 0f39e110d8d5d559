import type { Command } from 'commander';
import {
  addStaff,
  assignStaff,
  deactivateStaff,
  listStaff,
  reactivateStaff,
  removeStaff,
  type StaffChange,
  setStaffRole,
  unassignStaff,
} from '../../core/directory/staff.ts';
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
    .requiredOption('--role <role>', 'staff (group staff), manager (locatiemanager) or admin')
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
            { header: 'STATUS', value: (s) => (s.active ? 'active' : `deactivated ${s.deactivatedAt?.slice(0, 10) ?? ''}`) },
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

  staff
    .command('unassign')
    .description('end assignments; the staff member\'s sessions end, so the next request sees what is left')
    .argument('<email>', 'e-mail address')
    .option('--group <group>', 'this group ("Location/Group" or a unique name)')
    .option('--location <location>', 'alone: everything at this location (the location and its groups); with --group: the group\'s location')
    .option('--all', 'every assignment')
    .option('--dry-run', 'show what would end, change nothing')
    .action(
      action(io, async (ctx, email: string, f: { group?: string; location?: string; all?: boolean; dryRun?: boolean }) => {
        const s = await ctx.withPortal((em) =>
          unassignStaff(em, ctx.actor, email, { group: f.group, location: f.location, all: f.all }, { dryRun: f.dryRun }),
        );
        ctx.out.result(
          s,
          s.changed
            ? `${wouldHave(s)}Ended ${s.assignmentsEnded.join(', ')} for ${s.email}; ${ended(s)}.`
            : `${s.email} had no assignments.`,
        );
      }),
    );

  staff
    .command('set-role')
    .description('give a staff member another role; a demotion ends their sessions, and a demotion to staff ends whole-location assignments')
    .argument('<email>', 'e-mail address')
    .argument('<role>', 'staff, manager or admin')
    .option('--dry-run', 'show what would change, change nothing')
    .action(
      action(io, async (ctx, email: string, role: string, f: { dryRun?: boolean }) => {
        const s = await ctx.withPortal((em) => setStaffRole(em, ctx.actor, email, role, { dryRun: f.dryRun }));
        if (!s.changed) return ctx.out.result(s, `${s.email} already is ${s.role}.`);
        const lost = s.assignmentsEnded.length ? `; ended ${s.assignmentsEnded.join(', ')} (a staff member works in groups)` : '';
        ctx.out.result(s, `${wouldHave(s)}Made ${s.email} ${s.role} (was ${s.previousRole})${lost}; ${ended(s)}.`);
      }),
    );

  staff
    .command('deactivate')
    .description('stop a staff member\'s access at once (leaver, long leave): login refused, sessions and app tokens end; assignments are kept for reactivate')
    .argument('<email>', 'e-mail address')
    .option('--reason <text>', 'why; kept with the record and in the audit log')
    .option('--dry-run', 'show what would change, change nothing')
    .action(
      action(io, async (ctx, email: string, f: { reason?: string; dryRun?: boolean }) => {
        const s = await ctx.withPortal((em) => deactivateStaff(em, ctx.actor, email, { reason: f.reason }, { dryRun: f.dryRun }));
        ctx.out.result(s, `${wouldHave(s)}Deactivated ${s.email}; ${ended(s)}; assignments kept: ${s.assignments.join(', ') || 'none'}.`);
      }),
    );

  staff
    .command('reactivate')
    .description('let a deactivated staff member log in again, with the assignments they had')
    .argument('<email>', 'e-mail address')
    .option('--dry-run', 'show what would change, change nothing')
    .action(
      action(io, async (ctx, email: string, f: { dryRun?: boolean }) => {
        const s = await ctx.withPortal((em) => reactivateStaff(em, ctx.actor, email, { dryRun: f.dryRun }));
        ctx.out.result(s, `${wouldHave(s)}Reactivated ${s.email}; works at: ${s.assignments.join(', ') || 'nothing yet'}.`);
      }),
    );

  staff
    .command('remove')
    .description(
      'remove a leaver and their personal data: login, sessions and assignments end; what they wrote and uploaded stays, under "Oud-medewerker"',
    )
    .argument('<email>', 'e-mail address')
    .option('--dry-run', 'show what would be removed and kept, change nothing')
    .option('-y, --yes', 'do not ask for confirmation')
    .action(
      action(io, async (ctx, email: string, f: { dryRun?: boolean; yes?: boolean }) => {
        if (!f.dryRun) await ctx.confirm(`Remove staff member ${email} and their personal data? This cannot be undone.`, f.yes);
        const r = await ctx.withPortal((em) => removeStaff(em, ctx.actor, email, { dryRun: f.dryRun }));
        const lines = [
          `${r.dryRun ? 'Dry run (rolled back): removed' : 'Removed'} ${r.email} (${r.role}): ${r.sessionsEnded} session(s) and ${r.assignmentsEnded.length} assignment(s) ended.`,
          `Kept under "${r.shownAs}": ${r.messagesAnonymised} message(s), ${r.announcementsAnonymised} announcement(s), ${r.diaryEntriesAnonymised} schriftje entr(ies), ${r.photosKept} photo(s).`,
        ];
        if (r.locationsWithoutManager.length) lines.push(`No manager named any more at: ${r.locationsWithoutManager.join(', ')}.`);
        ctx.out.result(r, lines.join('\n'));
      }),
    );

  registerStaffAccountCommands(staff, io);
}

/** A dry run did everything and rolled it back: the same sentence, marked. */
const wouldHave = (s: StaffChange) => (s.dryRun ? 'Dry run (rolled back): ' : '');
const ended = (s: StaffChange) => `${s.sessionsEnded} session(s) ended`;
