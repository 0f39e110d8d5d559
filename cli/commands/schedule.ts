import type { Command } from 'commander';
import { findChild } from '../../core/directory/refs.ts';
import type { ForcedEncoding } from '../../core/import/encoding.ts';
import { formatProblem } from '../../core/import/report.ts';
import { SWAP_STATUSES, type SwapStatus } from '../../core/entities/schedule.ts';
import { takenFor } from '../../core/schedule/attendance.ts';
import { childSchedule } from '../../core/schedule/overview.ts';
import { type ResolvedRules, type RulesPatch, setRules, showRules } from '../../core/schedule/rules.ts';
import { importSchedule, SCHEDULE_COLUMNS } from '../../core/schedule/schedule-import.ts';
import { swapRequestsInScope } from '../../core/schedule/swaps.ts';
import { action } from '../context.ts';
import { ExitStatus, UsageError } from '../errors.ts';
import { encodingOption, openCsv } from './import.ts';
import type { CliIO } from '../io.ts';
import { formatDetails, formatTable } from '../output.ts';
import { terminalLine } from '../terminal-text.ts';

const PART_LABEL = { day: 'hele dag', morning: 'ochtend', afternoon: 'middag' } as const;
const columnsHelp = `\nColumns (Dutch or English headers; case, spaces and accents do not matter):\n${SCHEDULE_COLUMNS.map(
  (c) => `  ${c.nl.padEnd(11)} ${c.en.padEnd(13)} ${'required' in c && c.required ? 'required' : ''}`.trimEnd(),
).join('\n')}
Dag: ma, di, wo, do, vr (or maandag…vrijdag, Monday…Friday). Dagdeel: hele dag (default), ochtend, middag.
Vanaf/Tot: DD-MM-YYYY or YYYY-MM-DD, both optional (no Vanaf: from today, and an existing row keeps its start).
For every child in the file its contracted days are replaced by the file's rows; children not in the file keep theirs.
`;

const yesNo = (v: boolean) => (v ? 'yes' : 'no');
const from = (r: ResolvedRules, key: keyof ResolvedRules['source']) => (r.source[key] === 'default' ? ' (default)' : r.source[key] === 'organisation' ? ' (organisation)' : '');

const details = (r: ResolvedRules & { location: string | null }) =>
  formatDetails([
    ['Rules of', r.location ?? 'the organisation (locations without their own value)'],
    ['Cancel today before', `${r.cancelBefore}${from(r, 'cancelBefore')}`],
    ['Swap notice (days)', `${r.swapNoticeDays}${from(r, 'swapNoticeDays')}`],
    ['Credit valid (weeks)', `${r.creditValidWeeks}${from(r, 'creditValidWeeks')}`],
    ['Half days swappable', `${yesNo(r.halfDaysSwappable)}${from(r, 'halfDaysSwappable')}`],
    ['Closed on public holidays', `${yesNo(r.closedOnPublicHolidays)}${from(r, 'closedOnPublicHolidays')}`],
  ]);

interface RuleFlags {
  cancelBefore?: string;
  swapNoticeDays?: string;
  creditValidWeeks?: string;
  halfDays?: string;
  closedOnHolidays?: string;
}

/** `portal schedule …`: the rules for afmelden and ruilen, and the contracted days. */
export function registerSchedule(program: Command, io: CliIO): Command {
  const schedule = program.command('schedule').description('contracted days, and the rules for cancelling and swapping them');

  schedule
    .command('rules')
    .description('show or change the rules for cancelling and swapping days (the FAQ quotes them)')
    .argument('[location]', 'name or id of a location; without it, the organisation-wide rules')
    .option('--cancel-before <HH:MM>', 'latest time to cancel a day on the day itself')
    .option('--swap-notice-days <n>', 'days a swap must be requested in advance (0: the same day)')
    .option('--credit-valid-weeks <n>', 'weeks a credit from a cancelled day stays usable')
    .option('--half-days <yes|no>', 'whether half days can be cancelled and swapped on their own')
    .option('--closed-on-holidays <yes|no>', 'closed on Dutch public holidays (no credit, no swaps into them)')
    .addHelpText('after', '\nGive "inherit" as a value to drop a location\'s own value and follow the organisation again.')
    .action(
      action(io, async (ctx, location: string | undefined, flags: RuleFlags) => {
        const patch: RulesPatch = {
          ...(flags.cancelBefore !== undefined && { cancelBefore: flags.cancelBefore }),
          ...(flags.swapNoticeDays !== undefined && { swapNoticeDays: flags.swapNoticeDays }),
          ...(flags.creditValidWeeks !== undefined && { creditValidWeeks: flags.creditValidWeeks }),
          ...(flags.halfDays !== undefined && { halfDaysSwappable: flags.halfDays }),
          ...(flags.closedOnHolidays !== undefined && { closedOnPublicHolidays: flags.closedOnHolidays }),
        };
        const result = await ctx.withPortal(async (em) => {
          if (Object.keys(patch).length > 0) await setRules(em, ctx.actor, location, patch);
          return showRules(em, ctx.actor, location);
        });
        ctx.out.print(result, details);
      }),
    );
  schedule
    .command('import')
    .description("replace the contracted days of the children in a CSV file (the planning system's export)")
    .argument('<file>', 'CSV file, one row per child, weekday and day part')
    .option('--dry-run', 'check the file and report what would change; write nothing')
    .option('--map <header=key>', 'name a column the import does not recognise (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
    .addOption(encodingOption())
    .addHelpText('after', columnsHelp)
    .action(
      action(io, async (ctx, file: string, flags: { dryRun?: boolean; map?: string[]; encoding?: ForcedEncoding }) => {
        // The planning system's export may be Windows-1252: detected (or forced) as in `portal import`.
        const { source, close } = await openCsv(ctx, file, flags.encoding);
        const report = await ctx
          .withPortal((em) => importSchedule(em, ctx.actor, { source, map: flags.map }, { dryRun: flags.dryRun }))
          .finally(close);
        // Problems quote the file's headers and cells: escaped, so the file cannot steer the terminal.
        const stderr = (line: string) => ctx.io.stderr(`${terminalLine(line)}\n`);
        for (const w of report.warnings) stderr(`warning: ${formatProblem(w)}`);
        if (report.rowErrors.length) {
          for (const e of report.rowErrors) stderr(formatProblem(e));
          stderr(`portal: ${report.rowErrors.length} problem(s) in ${file}; nothing was imported`);
          throw new ExitStatus(1);
        }
        const c = report.children;
        const what = c.created + c.updated === 0 ? 'no changes' : `${c.created} child(ren) given contracted days, ${c.updated} changed (${report.days} day rows)`;
        ctx.out.result(report, `${report.dryRun ? 'Dry run, nothing written: ' : ''}${report.rows.read} row(s) read; ${what}; ${c.unchanged} child(ren) unchanged`);
      }),
    );

  schedule
    .command('show')
    .description("a child's contracted days (next four weeks), credits and swap requests")
    .argument('<child-number>', "the planning system's child number")
    .action(
      action(io, async (ctx, childNumber: string) => {
        const result = await ctx.withPortal(async (em) => childSchedule(em, ctx.actor, (await findChild(em, childNumber)).id));
        ctx.out.print(result, (r) => {
          const parts = [
            formatDetails([
              ['Child', r.child.name],
              ['Group', r.groupName ? `${r.groupName} (${r.location?.name ?? '-'})` : null],
              ['Credits available', r.balance.available],
              ['Next expiry', r.balance.nextExpiry],
            ]),
            '\nContracted days (next 4 weeks):\n',
            r.days.length
              ? formatTable(r.days, [
                  { header: 'DATE', value: (d) => d.date },
                  { header: 'PART', value: (d) => PART_LABEL[d.part] },
                  { header: 'STATUS', value: (d) => (d.swap ? 'swap day' : d.cancelled ? 'cancelled' : d.refusal?.code === 'holiday' ? `closed (${d.refusal.params.name})` : '') },
                ])
              : '(none)\n',
            '\nCredits:\n',
            r.credits.length
              ? formatTable(r.credits, [
                  { header: 'FROM', value: (x) => x.sourceDate },
                  { header: 'PART', value: (x) => PART_LABEL[x.part] },
                  { header: 'EXPIRES', value: (x) => x.expiresOn },
                  { header: 'STATE', value: (x) => x.state },
                ])
              : '(none)\n',
            '\nSwap requests:\n',
            r.requests.length
              ? formatTable(r.requests, [
                  { header: 'ID', value: (x) => x.id },
                  { header: 'DATE', value: (x) => x.date },
                  { header: 'PART', value: (x) => PART_LABEL[x.part] },
                  { header: 'STATUS', value: (x) => x.status },
                  { header: 'REASON', value: (x) => x.reason },
                ])
              : '(none)\n',
          ];
          return parts.join('');
        });
      }),
    );

  schedule
    .command('requests')
    .description('swap requests, open ones first with the occupancy of the day asked for')
    .option('--location <name>', 'only this location (name or id)')
    .option('--status <status>', `only this status: ${SWAP_STATUSES.join(', ')}`)
    .action(
      action(io, async (ctx, flags: { location?: string; status?: string }) => {
        if (flags.status !== undefined && !(SWAP_STATUSES as readonly string[]).includes(flags.status)) {
          throw new UsageError(`--status: use one of ${SWAP_STATUSES.join(', ')}`);
        }
        const rows = await ctx.withPortal((em) =>
          swapRequestsInScope(em, ctx.actor, { status: flags.status as SwapStatus | undefined, location: flags.location }),
        );
        ctx.out.table(
          rows,
          [
            { header: 'ID', value: (r) => r.id },
            { header: 'CHILD', value: (r) => `${r.childName} (${r.childNumber})` },
            { header: 'GROUP', value: (r) => `${r.locationName}/${r.groupName}` },
            { header: 'DATE', value: (r) => r.date },
            { header: 'PART', value: (r) => PART_LABEL[r.part] },
            { header: 'STATUS', value: (r) => r.status },
            {
              header: 'OCCUPANCY',
              value: (r) => (r.occupancy ? `${takenFor(r.occupancy, r.part)} of ${r.occupancy.capacity ?? 'no maximum'}` : ''),
            },
            { header: 'REASON', value: (r) => r.reason },
          ],
          'No swap requests.',
        );
      }),
    );
  return schedule;
}
