import type { Command } from 'commander';
import {
  addLocation,
  type LocationUpdate,
  type LocationView,
  listLocations,
  showLocation,
  updateLocation,
} from '../../core/directory/locations.ts';
import { action } from '../context.ts';
import type { CliIO } from '../io.ts';
import { formatDetails } from '../output.ts';

const details = (l: LocationView) =>
  formatDetails([
    ['Location', l.name],
    ['Id', l.id],
    ['Address', l.address],
    ['Phone (urgent)', l.phone],
    ['E-mail', l.email],
    ['Opening hours', l.openingHours],
    ['LRK number', l.lrk],
    ['Messages read at', l.messagesReadAt],
    ['Manager', l.manager ? `${l.manager.name} <${l.manager.email}>` : null],
    ['Groups', l.groups],
  ]);

interface LocationFlags {
  name?: string;
  address?: string;
  phone?: string;
  email?: string;
  openingHours?: string;
  messagesReadAt?: string;
  manager?: string;
  /** false from --no-lrk: clear it. */
  lrk?: string | false;
}

/** The flags as the use case takes them: --no-lrk clears the number, like --lrk "". */
const input = ({ lrk, ...rest }: LocationFlags) => ({ ...rest, ...(lrk === undefined ? {} : { lrk: lrk === false ? null : lrk }) });

function updateMessage(l: LocationUpdate): string {
  if (l.changes.length === 0) return `Location "${l.name}": nothing to change, the given values are already there.`;
  const show = (v: string | null) => (v === null ? '(none)' : `"${v}"`);
  const head = l.dryRun ? `Dry run: location "${l.name}" would change (nothing saved):` : `Location "${l.name}" updated:`;
  return [head, ...l.changes.map((c) => `  ${c.field}: ${show(c.from)} → ${show(c.to)}`)].join('\n');
}

const withFields = (cmd: Command) =>
  cmd
    .option('--address <text>', 'street, postcode and town')
    .option('--phone <number>', 'phone number parents call for urgent matters')
    .option('--email <address>', "the location's e-mail address")
    .option('--opening-hours <text>', 'e.g. "ma-vr 7:00-18:30"')
    .option('--messages-read-at <HH:MM>', 'when staff read messages, told to parents who write one (default 12:00)')
    .option('--manager <email>', 'e-mail of the location manager (a staff member with role manager); "" to clear')
    .option('--lrk <number>', 'registration number in the Landelijk Register Kinderopvang (9 digits); shown on mijn vestiging');

export function registerLocations(program: Command, io: CliIO): void {
  const locations = program.command('locations').description('locations (vestigingen) of the organisation');

  withFields(locations.command('add').description('add a location').requiredOption('--name <name>', 'name, unique'))
    .action(
      action(io, async (ctx, flags: LocationFlags) => {
        const l = await ctx.withPortal((em) => addLocation(em, ctx.actor, { ...input(flags), name: flags.name! }));
        ctx.out.result(l, `Location "${l.name}" added (id ${l.id}).`);
      }),
    );

  locations
    .command('list')
    .description('list all locations')
    .action(
      action(io, async (ctx) => {
        const rows = await ctx.withPortal((em) => listLocations(em, ctx.actor));
        ctx.out.table(
          rows,
          [
            { header: 'ID', value: (l) => l.id },
            { header: 'NAME', value: (l) => l.name },
            { header: 'PHONE', value: (l) => l.phone },
            { header: 'LRK', value: (l) => l.lrk },
            { header: 'MANAGER', value: (l) => l.manager?.email },
            { header: 'GROUPS', value: (l) => l.groups },
          ],
          'No locations yet. Add one with: portal locations add --name "…"',
        );
      }),
    );

  locations
    .command('show')
    .description('show one location')
    .argument('<location>', 'name or id')
    .action(
      action(io, async (ctx, ref: string) => {
        ctx.out.print(await ctx.withPortal((em) => showLocation(em, ctx.actor, ref)), details);
      }),
    );

  withFields(
    locations
      .command('update')
      .description('change a location; only the given fields change')
      .argument('<location>', 'name or id')
      .option('--name <name>', 'new name'),
  )
    .option('--no-lrk', 'clear the LRK number (as --lrk "")')
    .option('--dry-run', 'check and show what would change; change nothing')
    .action(
      action(io, async (ctx, ref: string, flags: LocationFlags & { dryRun?: boolean }) => {
        const { dryRun, ...fields } = flags;
        const l = await ctx.withPortal((em) => updateLocation(em, ctx.actor, ref, input(fields), { dryRun }));
        ctx.out.result(l, updateMessage(l));
      }),
    );
}
