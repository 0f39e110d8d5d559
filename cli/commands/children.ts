import type { Command } from 'commander';
import { addDays } from '../../core/dates.ts';
import {
  addChild,
  type ChildDetail,
  type ChildLeave,
  type ChildUpdate,
  leaveChild,
  listChildren,
  moveChild,
  showChild,
  updateChild,
} from '../../core/directory/children.ts';
import { type MentorChange, setChildMentor } from '../../core/directory/mentor.ts';
import { offerYearBooks, type YearBookOffer } from '../../core/yearbook/offer.ts';
import { action } from '../context.ts';
import { UsageError } from '../errors.ts';
import type { CliIO } from '../io.ts';
import { formatDetails, formatTable } from '../output.ts';

const consentText = (c: ChildDetail['consent']) =>
  c ? `internal ${c.internal ? 'yes' : 'no'}, external ${c.external ? 'yes' : 'no'}` : 'not recorded (counts as no)';

const details = (c: ChildDetail) =>
  formatDetails([
    ['Child', c.name],
    ['Child number', c.childNumber],
    ['Earlier numbers', c.previousNumbers.join(', ')],
    ['Birth date', c.birthDate],
    ['Group', c.group],
    ['Left on', c.leftOn],
    ['Photo consent', consentText(c.consent)],
    ['Parents', c.parents.map((p) => `${p.name} <${p.email}>`).join(', ')],
    ['Mentor', c.mentor && `${c.mentor.name} <${c.mentor.email}>${c.mentor.shownToParents ? '' : ' (not shown to parents: inactive or no longer in the group)'}`],
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

const show = (v: string | null) => (v === null ? '(none)' : `"${v}"`);

function updateMessage(c: ChildUpdate): string {
  if (c.changes.length === 0) return `Child ${c.childNumber}: nothing to change, the given values are already there.`;
  const lines = c.changes.map((ch) => `  ${ch.field}: ${show(ch.from)} → ${show(ch.to)}`);
  const head = c.dryRun ? `Dry run: child ${c.childNumber} would change (nothing saved):` : `Child ${c.childNumber} changed:`;
  const renumbered = c.changes.find((ch) => ch.field === 'childNumber');
  const note = renumbered
    ? [`An import that still uses ${renumbered.from} is refused and names ${renumbered.to}: correct the number in the planning system too.`]
    : [];
  return [head, ...lines, ...note].join('\n');
}

function mentorMessage(m: MentorChange): string {
  const none = '(none)';
  if (!m.changed) return `Child ${m.childNumber}: the mentor is already ${m.to ?? none}.`;
  const head = m.dryRun ? `Dry run: child ${m.childNumber} would change (nothing saved):` : `Child ${m.childNumber} changed:`;
  return `${head}\n  mentor: ${m.from ?? none} → ${m.to ?? none}`;
}

/** What leaving means for the parents, from the access rules and the retention period. */
function leaveMessage(c: ChildLeave, offer: YearBookOffer | null): string {
  const verb = c.dryRun ? 'would leave' : 'leaves';
  const lines = [
    `${c.dryRun ? 'Dry run: ' : ''}Child ${c.childNumber} (${c.name}) ${verb} on ${c.leftOn}: ${c.placementsEnded} placement(s) end that day` +
      (c.plannedRemoved ? `, ${c.plannedRemoved} planned placement(s) are removed.` : '.'),
    'What happens next:',
    `  From ${addDays(c.leftOn, 1)} the parents see no new photos, announcements or conversations of the group through ${c.firstName}, and cannot write in the schriftje or reply.`,
  ];
  if (c.archiveUntil) {
    lines.push(
      `  Until ${c.archiveUntil} (retention.leaverGraceDays after the last day) they can still read ${c.firstName}'s schriftje and conversations, and download them with the photos ${c.firstName} is tagged in (Mijn gegevens, "Download mijn gegevens"). The retention run after that day removes them.`,
    );
  }
  for (const p of c.parentsAfter) {
    lines.push(
      p.stillPlaced.length
        ? `  ${p.email}: still has ${p.stillPlaced.join(', ')}.`
        : `  ${p.email}: no other child placed; keeps the login for the archive above, and nothing more.`,
    );
  }
  if (c.parents.length === 0) lines.push('  The child has no parents in the portal.');
  if (offer?.mailed.length) {
    lines.push(
      `  Year book (herinneringenboek) offered to ${offer.mailed.join(', ')}: a mail with the link to ${c.firstName}'s photos and schriftje as one ZIP, until ${offer.availableUntil} (queued; the running server sends it).`,
    );
  } else if (offer) {
    lines.push('  No year book offer mailed now (every parent with a login was offered it before, or none has one).');
  }
  lines.push('  Sessions stay: every request is checked against the placements of that day, so nothing stale remains to end.');
  return lines.join('\n');
}

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
    .command('update')
    .description('correct a child\'s details; the old values stay in the audit log, an old number stays known')
    .argument('<childNumber>', 'the current child number')
    .option('--first-name <name>', 'first name (roepnaam)')
    .option('--infix <infix>', 'tussenvoegsel; "" to clear')
    .option('--last-name <name>', 'last name')
    .option('--birth-date <date>', 'YYYY-MM-DD or DD-MM-YYYY')
    .option('--child-number <number>', 'the corrected child number (unique)')
    .option('--mentor <email>', "the child's mentor: a staff member assigned to one of the child's groups")
    .option('--no-mentor', 'the child has no mentor any more')
    .option('--dry-run', 'check and show what would change; change nothing')
    .action(
      action(
        io,
        async (
          ctx,
          number: string,
          f: {
            firstName?: string;
            infix?: string;
            lastName?: string;
            birthDate?: string;
            childNumber?: string;
            mentor?: string | false;
            dryRun?: boolean;
          },
        ) => {
          const { dryRun, mentor, ...input } = f;
          // The mentor alone is a change of its own: updateChild would find "nothing to change".
          if (mentor !== undefined && Object.values(input).every((v) => v === undefined)) {
            const m = await ctx.withPortal((em) =>
              setChildMentor(em, ctx.actor, { number }, mentor === false ? null : { email: mentor }, { dryRun }),
            );
            ctx.out.result(m, mentorMessage(m));
            return;
          }
          if (mentor !== undefined) throw new UsageError('change the mentor in a command of its own (--mentor or --no-mentor alone)');
          const c = await ctx.withPortal((em) => updateChild(em, ctx.actor, number, input, { dryRun }));
          ctx.out.result(c, updateMessage(c));
        },
      ),
    );

  children
    .command('leave')
    .description('a child leaves the organisation: the placement ends on the given (last) day; says what that means for the parents')
    .argument('<childNumber>', 'child number')
    .option('--date <date>', 'last day (default today)')
    .option('--dry-run', 'show what would happen; change nothing')
    .option('-y, --yes', 'do not ask for confirmation')
    .action(
      action(io, async (ctx, number: string, f: { date?: string; yes?: boolean; dryRun?: boolean }) => {
        // A dry run changes nothing, so there is nothing to confirm.
        if (!f.dryRun) await ctx.confirm(`End the placement of child ${number}?`, f.yes);
        const { c, offer } = await ctx.withPortal(async (em, portal) => {
          const c = await leaveChild(em, ctx.actor, number, { date: f.date }, { dryRun: f.dryRun, leaverGraceDays: portal.config.retention.leaverGraceDays });
          // The year book before access ends: one mail per parent, once (core/yearbook/offer.ts).
          return { c, offer: c.dryRun ? null : await offerYearBooks(em, portal, ctx.actor, c.childNumber) };
        });
        ctx.out.result({ ...c, yearBookOffer: offer }, leaveMessage(c, offer));
      }),
    );
}
