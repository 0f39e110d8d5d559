import type { Command } from 'commander';
import { type ResolvedRules, type RulesPatch, setRules, showRules } from '../../core/schedule/rules.ts';
import { action } from '../context.ts';
import type { CliIO } from '../io.ts';
import { formatDetails } from '../output.ts';

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
  return schedule;
}
