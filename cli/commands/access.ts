import type { Command } from 'commander';
import { describeCatalogue, whyMay } from '../../core/access/index.ts';
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

  access
    .command('can')
    .description('may this person take this action on that object now, and by which rule (the helpdesk\'s "why can she not see it?")')
    .argument('<email>', 'the login address of a parent or staff member')
    .argument('<action>', 'an action from `portal access actions`, e.g. photo.view')
    .argument('[id]', 'the object: a child number (K1), or the id of a photo, thread, group, …')
    .action(
      action(io, async (ctx, email: string, name: string, id: string | undefined) => {
        const r = await ctx.withPortal((em) => whyMay(em, ctx.actor, { email, action: name, id }));
        const about = r.id ? ` on ${r.id}` : '';
        const text = r.allowed
          ? `${r.email} may ${r.action}${about}: ${r.by.join('; ')}.`
          : `${r.email} may not ${r.action}${about}${r.suspended ? ' (the account is suspended)' : ''}. It would take one of: ${r.rules.join('; ')}.`;
        ctx.out.result(r, text);
      }),
    );
}
