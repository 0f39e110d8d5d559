import { Migration20261125150000FaqDeletions } from './Migration20261125150000FaqDeletions.ts';
import { fileURLToPath } from 'node:url';
import type { PortalPlugin } from '../types.ts';
import { faqApi } from './api.ts';
import { faqCommands } from './commands.ts';
import { FaqEntry } from './entity.ts';
import { en, nl } from './messages.ts';
import { Migration20261125080000FaqEntries } from './Migration20261125080000FaqEntries.ts';
import { faqRoutes } from './routes.ts';
import { faqSection } from './section.ts';

/**
 * The FAQ about afmelden and ruilen: questions and answers in Markdown per organisation or
 * location (shipped defaults until the organisation imports its own), on Mijn vestiging and at
 * /p/faq with a server-side search. The numbers in the answers come from the rules the portal
 * enforces (core/schedule/rules.ts), so the two never disagree. `portal faq …` for admins.
 */
export const faqPlugin: PortalPlugin = {
  id: 'faq',
  entities: [FaqEntry],
  migrations: [{ name: 'Migration20261125080000FaqEntries', class: Migration20261125080000FaqEntries }, { name: 'Migration20261125150000FaqDeletions', class: Migration20261125150000FaqDeletions }],
  views: fileURLToPath(new URL('./views/', import.meta.url)),
  messages: { nl, en },
  routes: faqRoutes,
  locationSections: (ctx) => [faqSection(ctx)],
  commands: faqCommands,
  api: () => faqApi,
};
