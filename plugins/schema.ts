import { faqSchema } from './faq/schema.ts';
import { helpdeskSchema } from './helpdesk/schema.ts';
import type { PluginSchema } from './types.ts';

/**
 * The installed plugins' entities and migrations, in plugins/index.ts's order: pass as
 * createPortal's `extensions`. Its own module, importing only each plugin's schema.ts, so a
 * command that just opens the database (`portal db status`, the nightly export) does not load
 * the plugins' routes, views and mail, nor what those pull in (hono, sharp). A test holds it
 * equal to what the plugins themselves declare.
 */
const installed: readonly PluginSchema[] = [helpdeskSchema, faqSchema];

export const installedSchema = (): PluginSchema => ({
  entities: installed.flatMap((s) => s.entities),
  migrations: installed.flatMap((s) => s.migrations),
});
