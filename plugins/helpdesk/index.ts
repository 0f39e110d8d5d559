import { projectPath } from '../../core/project-root.ts';
import type { PortalPlugin } from '../types.ts';
import { helpdeskApi } from './api.ts';
import { helpdeskCommands } from './commands.ts';
import { helpdeskSchema } from './schema.ts';
import { startHelpdeskMailWorker } from './mail.ts';
import { en, nl } from './messages.ts';
import { routesOf } from './routes.ts';
import { type HelpdeskConfig, helpdeskSettings } from './settings.ts';

/**
 * The helpdesk: the Help link on every page leads to a short form (public, so it works from
 * the login page); questions are stored, mailed to the organisation's helpdesk address with
 * Reply-To the requester, and confirmed with a reference number. `portal helpdesk …` for admins.
 */
export const helpdeskPlugin: PortalPlugin<HelpdeskConfig> = {
  id: 'helpdesk',
  configSchema: helpdeskSettings,
  ...helpdeskSchema,
  views: projectPath('plugins', 'helpdesk', 'views'),
  messages: { nl, en },
  helpPath: '/',
  publicRoutes: routesOf,
  commands: helpdeskCommands,
  api: (ctx) => helpdeskApi(ctx),
  start: (ctx) => startHelpdeskMailWorker(ctx.portal).then(() => {}),
};
