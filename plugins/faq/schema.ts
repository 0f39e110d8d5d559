import type { PluginSchema } from '../types.ts';
import { FaqEntry } from './entity.ts';
import { Migration20261125080000FaqEntries } from './Migration20261125080000FaqEntries.ts';
import { Migration20261125150000FaqDeletions } from './Migration20261125150000FaqDeletions.ts';

/**
 * What the database needs of this plugin, and nothing else: every command that opens the
 * database loads it (plugins/schema.ts), so it must not pull in routes, views or mail.
 */
export const faqSchema: PluginSchema = {
  entities: [FaqEntry],
  migrations: [{ name: 'Migration20261125080000FaqEntries', class: Migration20261125080000FaqEntries }, { name: 'Migration20261125150000FaqDeletions', class: Migration20261125150000FaqDeletions }],
};
