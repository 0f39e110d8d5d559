import type { Command } from 'commander';
import { audit } from '../../core/audit.ts';
import { migrateUp, migrationStatus } from '../../core/db/migrate.ts';
import { databaseExists, databaseTarget } from '../../core/db/orm.ts';
import { action } from '../context.ts';
import { EXIT, ExitStatus } from '../errors.ts';
import type { CliIO } from '../io.ts';
import { formatDetails } from '../output.ts';

export function registerDb(program: Command, io: CliIO): void {
  const db = program.command('db').description('the database: create, migrations and status');

  db.command('create')
    .description('create the database in PORTAL_DATABASE_URL on its server and migrate it (no other command creates one)')
    .option('--dry-run', 'say whether it would be created, change nothing')
    .addHelpText(
      'after',
      '\nThe user in the URL needs CREATEDB. Without PORTAL_DATABASE_URL the portal uses its own embedded\nPostgreSQL in the data folder, whose database is created on first start: nothing to do then.',
    )
    .action(
      action(io, async (ctx, f: { dryRun?: boolean }) => {
        const { config } = ctx.loadConfig();
        const url = config.database.url;
        if (!url) {
          ctx.out.result(
            { embedded: true, created: false },
            'No PORTAL_DATABASE_URL: the embedded PostgreSQL in the data folder is used, and its database is created on first start.',
          );
          return;
        }
        const { database, server } = databaseTarget(url);
        if (f.dryRun) {
          const exists = await databaseExists(url);
          ctx.out.result(
            { database, server, exists, created: false, dryRun: true },
            exists ? `Database "${database}" already exists on ${server}: nothing to do.` : `Would create database "${database}" on ${server} and migrate it.`,
          );
          return;
        }
        const r = await ctx.withPortal(
          async (em, portal) => {
            if (!portal.database.created) return { created: false, applied: [] as string[] };
            const applied = await migrateUp(portal.orm);
            audit(em, { type: 'database.created', actor: ctx.actor, details: { database, server, migrations: applied.length } });
            await em.flush();
            return { created: true, applied };
          },
          { createDatabase: true, migrate: 'none' },
        );
        ctx.out.result(
          { database, server, ...r },
          r.created
            ? `Created database "${database}" on ${server} and applied ${r.applied.length} migration(s).`
            : `Database "${database}" already exists on ${server}: nothing changed (\`portal db status\` shows its migrations).`,
        );
      }),
    );

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
