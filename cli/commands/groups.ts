import type { Command } from 'commander';
import { addGroup, listGroups, removeGroup, updateGroup } from '../../core/directory/groups.ts';
import { action } from '../context.ts';
import type { CliIO } from '../io.ts';

const GROUP_REF = 'group: "Location/Group", a name that is unique in the organisation, or an id';

export function registerGroups(program: Command, io: CliIO): void {
  const groups = program.command('groups').description('groups (groepen) of a location');

  groups
    .command('add')
    .description('add a group to a location')
    .requiredOption('--location <location>', 'location name or id')
    .requiredOption('--name <name>', 'group name, unique within the location')
    .option('--capacity <n>', 'places in the group')
    .action(
      action(io, async (ctx, flags: { location: string; name: string; capacity?: string }) => {
        const g = await ctx.withPortal((em) => addGroup(em, ctx.actor, flags));
        ctx.out.result(g, `Group "${g.location}/${g.name}" added (id ${g.id}).`);
      }),
    );

  groups
    .command('list')
    .description('list groups with their number of children today')
    .option('--location <location>', 'only this location')
    .option('--all', 'include removed (archived) groups')
    .action(
      action(io, async (ctx, flags: { location?: string; all?: boolean }) => {
        const rows = await ctx.withPortal((em) =>
          listGroups(em, ctx.actor, { location: flags.location, includeArchived: flags.all }),
        );
        ctx.out.table(
          rows,
          [
            { header: 'ID', value: (g) => g.id },
            { header: 'LOCATION', value: (g) => g.location },
            { header: 'GROUP', value: (g) => g.name + (g.archived ? ' (removed)' : '') },
            { header: 'CHILDREN', value: (g) => g.children },
            { header: 'CAPACITY', value: (g) => g.capacity },
          ],
          'No groups yet. Add one with: portal groups add --location "…" --name "…"',
        );
      }),
    );

  groups
    .command('update')
    .description('rename a group or change its capacity')
    .argument('<group>', GROUP_REF)
    .option('--location <location>', 'the location the group belongs to, when its name is not unique')
    .option('--name <name>', 'new name')
    .option('--capacity <n>', 'places in the group')
    .action(
      action(io, async (ctx, ref: string, flags: { location?: string; name?: string; capacity?: string }) => {
        const g = await ctx.withPortal((em) =>
          updateGroup(em, ctx.actor, ref, { name: flags.name, capacity: flags.capacity }, flags.location),
        );
        ctx.out.result(g, `Group "${g.location}/${g.name}" updated.`);
      }),
    );

  groups
    .command('remove')
    .description('remove a group that has no current or planned children (it is archived, history stays)')
    .argument('<group>', GROUP_REF)
    .option('--location <location>', 'the location the group belongs to, when its name is not unique')
    .option('-y, --yes', 'do not ask for confirmation')
    .action(
      action(io, async (ctx, ref: string, flags: { location?: string; yes?: boolean }) => {
        await ctx.confirm(`Remove group "${ref}"?`, flags.yes);
        const g = await ctx.withPortal((em) => removeGroup(em, ctx.actor, ref, flags.location));
        ctx.out.result(g, `Group "${g.location}/${g.name}" removed.`);
      }),
    );
}
