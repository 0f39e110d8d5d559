import type { MikroORM } from '@mikro-orm/core';
import type { Migrator } from '@mikro-orm/migrations';
import { withOwnConnection } from './own-connection.ts';

/**
 * The advisory lock (two-key form, so it can never be one of pg-boss's one-key locks) that one
 * migration run holds: classid 0x4f50 ("OP", the portal's locks), objid 1. core/jobs/periodic.ts
 * uses the same classid with other objids.
 */
export const PORTAL_LOCK_CLASS = 0x4f50;
const MIGRATION_LOCK = 1;

export interface MigrationStatus {
  executed: string[];
  pending: string[];
  /** Applied to the database but unknown to this code: the database is from a newer version. */
  unknown: string[];
}

/** Refusing to run on a database a newer version has migrated keeps us from corrupting it. */
export class DatabaseAheadError extends Error {
  constructor(readonly unknown: string[]) {
    super(
      `the database has migrations this version of the portal does not know (${unknown.join(', ')}); ` +
        'it was migrated by a newer version: upgrade the portal, or restore a backup that matches this version',
    );
    this.name = 'DatabaseAheadError';
  }
}

export class MigrationsPendingError extends Error {
  constructor(readonly pending: string[]) {
    super(`the database needs ${pending.length} migration(s) (${pending.join(', ')}): run \`portal db migrate\``);
    this.name = 'MigrationsPendingError';
  }
}

function migrator(orm: MikroORM): Migrator {
  return orm.getMigrator() as unknown as Migrator;
}

export async function migrationStatus(orm: MikroORM): Promise<MigrationStatus> {
  const m = migrator(orm);
  // getExecutedMigrations creates the bookkeeping table when it is missing (empty database).
  const executed = (await m.getExecutedMigrations()).map((r) => r.name.replace(/\.[jt]s$/, ''));
  // Core's and the plugins' migrations, as the ORM was configured (orm.ts).
  const list = (orm.config.get('migrations').migrationsList ?? []) as { name: string }[];
  const known = new Set(list.map((x) => x.name));
  const done = new Set(executed);
  return {
    executed,
    pending: list.map((x) => x.name).filter((n) => !done.has(n)),
    unknown: executed.filter((n) => !known.has(n)),
  };
}

/**
 * Apply every pending migration in one transaction (all or nothing). Returns their names.
 *
 * Nodes that start together (a deploy of several `portal serve`) each call this: they queue on
 * one session-level advisory lock, taken on a connection of its own (not one of the pool's,
 * which the migrator needs), and each looks at what is pending only once it holds the lock. The
 * first applies the migrations; the others then find nothing pending. Even the bookkeeping
 * table is created under the lock: two `create table if not exists` at once can collide.
 */
export async function migrateUp(orm: MikroORM): Promise<string[]> {
  return await withMigrationLock(orm, async () => {
    const status = await migrationStatus(orm);
    if (status.unknown.length) throw new DatabaseAheadError(status.unknown);
    if (!status.pending.length) return [];
    await migrator(orm).up();
    return status.pending;
  });
}

async function withMigrationLock<T>(orm: MikroORM, fn: () => Promise<T>): Promise<T> {
  return await withOwnConnection(orm.config.get('clientUrl'), 'ouderportaal-migrate', async (client) => {
    await client.query('select pg_advisory_lock($1, $2)', [PORTAL_LOCK_CLASS, MIGRATION_LOCK]);
    try {
      return await fn();
    } finally {
      // Ending the session would release it too; unlocking first hands it over at once.
      await client.query('select pg_advisory_unlock($1, $2)', [PORTAL_LOCK_CLASS, MIGRATION_LOCK]).catch(() => {});
    }
  });
}
