import { projectPath } from '../../core/project-root.ts';
import type { PortalPlugin } from '../types.ts';
import { faqApi } from './api.ts';
import { faqCommands } from './commands.ts';
import { faqSchema } from './schema.ts';
import { en, nl } from './messages.ts';
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
  ...faqSchema,
  views: projectPath('plugins', 'faq', 'views'),
  messages: { nl, en },
  routes: faqRoutes,
  locationSections: (ctx) => [faqSection(ctx)],
  commands: faqCommands,
  api: () => faqApi,
};
