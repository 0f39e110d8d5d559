import type { Command } from 'commander';
import { migrateUp, migrationStatus } from '../../core/db/migrate.ts';
import { action } from '../context.ts';
import { EXIT, ExitStatus } from '../errors.ts';
import type { CliIO } from '../io.ts';
import { formatDetails } from '../output.ts';

export function registerDb(program: Command, io: CliIO): void {
  const db = program.command('db').description('the database: migrations and status');

  db.command('migrate')
    .description('apply pending migrations (the server also does this at start unless PORTAL_AUTO_MIGRATE=false)')
    .action(
      action(io, async (ctx) => {
        const applied = await ctx.withPortal((_em, portal) => migrateUp(portal.orm), { migrate: 'none' });
        ctx.out.result(
          { applied },
          applied.length ? `Applied ${applied.length} migration(s): ${applied.join(', ')}` : 'The database is up to date.',
        );
      }),
    );

  db.command('status')
    .description('show which database is used and which migrations are applied or pending')
    .action(
      action(io, async (ctx) => {
        const status = await ctx.withPortal(
          async (_em, portal) => ({
            database: portal.database.url,
            embedded: portal.database.embedded,
            ...(await migrationStatus(portal.orm)),
          }),
          { migrate: 'none' },
        );
        const state = status.unknown.length
          ? 'AHEAD of this code (migrated by a newer version)'
          : status.pending.length
            ? 'migrations pending: run `portal db migrate`'
            : 'up to date';
        ctx.out.print(status, (s) =>
          formatDetails([
            ['Database', `${s.database}${s.embedded ? ' (embedded)' : ''}`],
            ['State', state],
            ['Applied', s.executed.join(', ')],
            ['Pending', s.pending.join(', ')],
            ...(s.unknown.length ? ([['Unknown', s.unknown.join(', ')]] as [string, unknown][]) : []),
          ]),
        );
        if (status.unknown.length || status.pending.length) throw new ExitStatus(EXIT.database);
      }),
    );
}
