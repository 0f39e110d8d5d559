import { faqPlugin } from './faq/index.ts';
import { helpdeskPlugin } from './helpdesk/index.ts';
import type { PortalPlugin } from './types.ts';

/**
 * The installed plugins, in the order their routes, navigation and migrations are added.
 * Each is switched on or off with `plugins.<id>.enabled` (default on); see README "Plugins".
 */
export const installedPlugins: readonly PortalPlugin[] = [helpdeskPlugin as PortalPlugin, faqPlugin];
