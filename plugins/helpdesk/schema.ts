import type { PluginSchema } from '../types.ts';
import { HelpdeskRequest } from './entity.ts';
import { Migration20261125050000HelpdeskRequests } from './Migration20261125050000HelpdeskRequests.ts';
import { Migration20261125150000HelpdeskDeletions } from './Migration20261125150000HelpdeskDeletions.ts';

/**
 * What the database needs of this plugin, and nothing else: every command that opens the
 * database loads it (plugins/schema.ts), so it must not pull in routes, views or mail.
 */
export const helpdeskSchema: PluginSchema = {
  entities: [HelpdeskRequest],
  migrations: [{ name: 'Migration20261125050000HelpdeskRequests', class: Migration20261125050000HelpdeskRequests }, { name: 'Migration20261125150000HelpdeskDeletions', class: Migration20261125150000HelpdeskDeletions }],
};
