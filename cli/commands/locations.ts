import type { Command } from 'commander';
import {
  addLocation,
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
}

const withFields = (cmd: Command) =>
  cmd
    .option('--address <text>', 'street, postcode and town')
    .option('--phone <number>', 'phone number parents call for urgent matters')
    .option('--email <address>', "the location's e-mail address")
    .option('--opening-hours <text>', 'e.g. "ma-vr 7:00-18:30"')
    .option('--messages-read-at <HH:MM>', 'when staff read messages, told to parents who write one (default 12:00)')
    .option('--manager <email>', 'e-mail of the location manager (a staff member with role manager); "" to clear');

export function registerLocations(program: Command, io: CliIO): void {
  const locations = program.command('locations').description('locations (vestigingen) of the organisation');

  withFields(locations.command('add').description('add a location').requiredOption('--name <name>', 'name, unique'))
    .action(
      action(io, async (ctx, flags: LocationFlags) => {
        const l = await ctx.withPortal((em) => addLocation(em, ctx.actor, { ...flags, name: flags.name! }));
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
  ).action(
    action(io, async (ctx, ref: string, flags: LocationFlags) => {
      const l = await ctx.withPortal((em) => updateLocation(em, ctx.actor, ref, flags));
      ctx.out.result(l, `Location "${l.name}" updated.`);
    }),
  );
}
