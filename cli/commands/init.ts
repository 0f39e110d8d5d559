import type { Command } from 'commander';
import { checkOrganisationField, getOrganisation, initOrganisation } from '../../core/directory/organisation.ts';
import { vapidKeys } from '../../core/push/vapid.ts';
import { action } from '../context.ts';
import { UsageError } from '../errors.ts';
import type { CliIO } from '../io.ts';
import { formatDetails } from '../output.ts';

interface InitFlags {
  name?: string;
  url?: string;
  helpdeskEmail?: string;
  language?: string;
}

/** Besides `portal db create`, the one command that may create the database: a new portal starts here (see DatabaseMissingError). */
const SETS_UP_THE_DATABASE = { createDatabase: true };

export function registerInit(program: Command, io: CliIO): void {
  program
    .command('init')
    .description(
      'set up the organisation (asks on a terminal; in scripts give every flag); run again to change it. Creates the database in PORTAL_DATABASE_URL when it is missing',
    )
    .option('--name <name>', "the organisation's name, shown on every page")
    .option('--url <url>', 'the address parents use, e.g. https://ouders.example.nl')
    .option('--helpdesk-email <address>', 'where help requests go')
    .option('--language <nl|en>', 'default language for new parents', undefined)
    .action(
      action(io, async (ctx, flags: InitFlags) => {
        const org = await ctx.withPortal(async (em) => {
          const current = await getOrganisation(em);
          const answers = { ...flags };
          const missing = (['name', 'url', 'helpdeskEmail'] as const).filter((k) => !answers[k]);
          if (missing.length && !ctx.io.isTTY) {
            const fallback = current.configured
              ? { name: current.name, url: current.publicUrl ?? undefined, helpdeskEmail: current.helpdeskEmail ?? undefined }
              : {};
            for (const k of missing) answers[k] = fallback[k];
            const still = missing.filter((k) => !answers[k]);
            if (still.length) {
              const flag = { name: '--name', url: '--url', helpdeskEmail: '--helpdesk-email' };
              throw new UsageError(`missing ${still.map((k) => flag[k]).join(', ')} (no terminal to ask on)`);
            }
          }
          if (ctx.io.isTTY) {
            const { input, select } = await import('@inquirer/prompts');
            // Each answer is checked as it is typed, by core's own rules: a typo is asked again
            // on the spot instead of failing the whole init at the end.
            const ask = (message: string, field: 'name' | 'publicUrl' | 'helpdeskEmail', previous: string | null | undefined) =>
              input({ message, default: previous ?? undefined, required: true, validate: (v) => checkOrganisationField(field, v) });
            answers.name ??= await ask('Name of the organisation', 'name', current.configured ? current.name : undefined);
            answers.url ??= await ask('Portal address (https://…)', 'publicUrl', current.publicUrl);
            answers.helpdeskEmail ??= await ask('Helpdesk e-mail address', 'helpdeskEmail', current.helpdeskEmail);
            answers.language ??= await select({
              message: 'Default language for parents',
              choices: [
                { name: 'Nederlands', value: 'nl' },
                { name: 'English', value: 'en' },
              ],
              default: current.defaultLanguage,
            });
          }
          // The Web Push key pair (core/push/vapid.ts), kept in the database with the other
          // signing keys; made once, so running init again keeps every device subscribed.
          await vapidKeys(em);
          return await initOrganisation(em, ctx.actor, {
            name: answers.name!,
            publicUrl: answers.url!,
            helpdeskEmail: answers.helpdeskEmail!,
            defaultLanguage: (answers.language ?? current.defaultLanguage) as 'nl' | 'en',
          });
        }, SETS_UP_THE_DATABASE);
        ctx.out.result(
          org,
          `${org.created ? 'Organisation set up' : 'Organisation updated'}:\n` +
            formatDetails([
              ['Name', org.name],
              ['Portal URL', org.publicUrl],
              ['Helpdesk', org.helpdeskEmail],
              ['Language', org.defaultLanguage],
            ]).trimEnd(),
        );
      }),
    );
}
