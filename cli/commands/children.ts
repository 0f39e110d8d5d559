import type { Command } from 'commander';
import {
  addChild,
  type ChildDetail,
  leaveChild,
  listChildren,
  moveChild,
  showChild,
} from '../../core/directory/children.ts';
import { action } from '../context.ts';
import type { CliIO } from '../io.ts';
import { formatDetails, formatTable } from '../output.ts';

const consentText = (c: ChildDetail['consent']) =>
  c ? `internal ${c.internal ? 'yes' : 'no'}, external ${c.external ? 'yes' : 'no'}` : 'not recorded (counts as no)';

const details = (c: ChildDetail) =>
  formatDetails([
    ['Child', c.name],
    ['Child number', c.childNumber],
    ['Birth date', c.birthDate],
    ['Group', c.group],
    ['Left on', c.leftOn],
    ['Photo consent', consentText(c.consent)],
    ['Parents', c.parents.map((p) => `${p.name} <${p.email}>`).join(', ')],
  ]) +
  '\nPlacements:\n' +
  (c.placements.length
    ? formatTable(c.placements, [
        { header: 'LOCATION', value: (p) => p.location },
        { header: 'GROUP', value: (p) => p.group },
        { header: 'FROM', value: (p) => p.startDate },
        { header: 'UNTIL', value: (p) => p.endDate ?? 'open' },
      ])
    : 'none\n');

export function registerChildren(program: Command, io: CliIO): void {
  const children = program.command('children').description('children (kinderen) and their group placements');

  children
    .command('add')
    .description('add a child, optionally placed in a group')
    .requiredOption('--number <childNumber>', "the planning system's child number (unique)")
    .requiredOption('--first-name <name>', 'first name (roepnaam)')
    .option('--infix <infix>', 'tussenvoegsel, e.g. "van den"')
    .requiredOption('--last-name <name>', 'last name')
    .requiredOption('--birth-date <date>', 'YYYY-MM-DD or DD-MM-YYYY')
    .option('--group <group>', 'place in this group ("Location/Group" or a unique name)')
    .option('--start <date>', 'first day in the group (default today)')
    .action(
      action(
        io,
        async (
          ctx,
          f: { number: string; firstName: string; infix?: string; lastName: string; birthDate: string; group?: string; start?: string },
        ) => {
          const c = await ctx.withPortal((em) =>
            addChild(em, ctx.actor, {
              childNumber: f.number,
              firstName: f.firstName,
              infix: f.infix,
              lastName: f.lastName,
              birthDate: f.birthDate,
              group: f.group,
              startDate: f.start,
            }),
          );
          ctx.out.result(c, `Child ${c.childNumber} (${c.name}) added${c.group ? ` to ${c.group}` : ''}.`);
        },
      ),
    );

  children
    .command('list')
    .description('list children with their group today and photo consent')
    .option('--group <group>', 'only this group')
    .option('--location <location>', 'only this location')
    .option('--all', 'include children who have left')
    .action(
      action(io, async (ctx, f: { group?: string; location?: string; all?: boolean }) => {
        const rows = await ctx.withPortal((em) =>
          listChildren(em, ctx.actor, { group: f.group, location: f.location, includeLeft: f.all }),
        );
        ctx.out.table(
          rows,
          [
            { header: 'NUMBER', value: (c) => c.childNumber },
            { header: 'NAME', value: (c) => c.name },
            { header: 'BORN', value: (c) => c.birthDate },
            { header: 'GROUP', value: (c) => c.group ?? (c.leftOn ? `left ${c.leftOn}` : null) },
            { header: 'INTERNAL', value: (c) => c.consent?.internal ?? false },
            { header: 'EXTERNAL', value: (c) => c.consent?.external ?? false },
          ],
          'No children found.',
        );
      }),
    );

  children
    .command('show')
    .description('show a child with placements, consent and parents')
    .argument('<childNumber>', 'child number')
    .action(
      action(io, async (ctx, number: string) => {
        ctx.out.print(await ctx.withPortal((em) => showChild(em, ctx.actor, number)), details);
      }),
    );

  children
    .command('move')
    .description('move a child to another group from a date; the old placement ends the day before')
    .argument('<childNumber>', 'child number')
    .requiredOption('--group <group>', 'the new group')
    .option('--date <date>', 'first day in the new group (default today)')
    .action(
      action(io, async (ctx, number: string, f: { group: string; date?: string }) => {
        const c = await ctx.withPortal((em) => moveChild(em, ctx.actor, number, f));
        ctx.out.result(c, `Child ${c.childNumber} moves to ${f.group} from ${f.date ?? 'today'}.`);
      }),
    );

  children
    .command('leave')
    .description('a child leaves the organisation: the placement ends on the given (last) day')
    .argument('<childNumber>', 'child number')
    .option('--date <date>', 'last day (default today)')
    .option('-y, --yes', 'do not ask for confirmation')
    .action(
      action(io, async (ctx, number: string, f: { date?: string; yes?: boolean }) => {
        await ctx.confirm(`End the placement of child ${number}?`, f.yes);
        const c = await ctx.withPortal((em) => leaveChild(em, ctx.actor, number, f));
        ctx.out.result(c, `Child ${c.childNumber} leaves on ${c.leftOn}.`);
      }),
    );
}
