import type { MikroORM } from '@mikro-orm/core';
import type { Migrator } from '@mikro-orm/migrations';

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

/** Apply every pending migration in one transaction (all or nothing). Returns their names. */
export async function migrateUp(orm: MikroORM): Promise<string[]> {
  const status = await migrationStatus(orm);
  if (status.unknown.length) throw new DatabaseAheadError(status.unknown);
  if (!status.pending.length) return [];
  await migrator(orm).up();
  return status.pending;
}
