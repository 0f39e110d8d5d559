import type { Command } from 'commander';
import { describeCatalogue } from '../../core/access/index.ts';
import { action } from '../context.ts';
import type { CliIO } from '../io.ts';

/**
 * `portal access actions`: the catalogue of what anyone may do in the portal (core/access/), in
 * words, so an admin answering "why can this parent not see that photo?" reads the rule the
 * portal applies rather than guessing at it.
 */
export function registerAccess(program: Command, io: CliIO): void {
  const access = program.command('access').description('who may do what: the catalogue of actions the portal checks');
  access
    .command('actions')
    .description('every action, the kind of object it is about, and who may take it (any one rule suffices)')
    .action(
      action(io, async (ctx) => {
        ctx.out.table(
          describeCatalogue(),
          [
            { header: 'ACTION', value: (a) => a.action },
            { header: 'ON', value: (a) => a.target },
            { header: 'WHAT', value: (a) => a.does },
            { header: 'WHO', value: (a) => a.who.join('; ') },
          ],
          'No actions.',
        );
      }),
    );
}
