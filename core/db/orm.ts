import { type EntitySchema, type MigrationObject, MikroORM, type Options } from '@mikro-orm/core';
import { Migrator } from '@mikro-orm/migrations';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';
import { attachClock, type Clock } from '../clock.ts';
import { coreEntities } from '../entities/index.ts';
import { coreMigrations } from './migrations/index.ts';

export type { EntityManager } from '@mikro-orm/postgresql';

export interface OrmOptions {
  url: string;
  poolMax?: number;
  debug?: boolean;
  /** Plugins' entities, added beside core's. */
  entities?: EntitySchema[];
  /** Plugins' migrations, run after core's (see plugins/host.ts pluginSchema). */
  migrations?: MigrationObject[];
  /** The portal's clock, for use cases and entity timestamps (`clockOf(em)`); the system clock without one. */
  clock?: Clock;
}

/** The one MikroORM configuration: server, CLI, tests and the migration tooling all use it. */
export function ormOptions(options: OrmOptions): Options<PostgreSqlDriver> {
  return {
    driver: PostgreSqlDriver,
    clientUrl: options.url,
    entities: [...coreEntities, ...(options.entities ?? [])],
    extensions: [Migrator],
    pool: { min: 0, max: options.poolMax ?? 10 },
    debug: options.debug ?? false,
    // Entities are plain schemas from defineEntity: nothing to reflect or discover on disk.
    discovery: { warnWhenNoEntities: false },
    // Fail loudly on a typo in a populate/where instead of silently returning everything.
    strict: true,
    validate: true,
    forceUtcTimezone: true,
    allowGlobalContext: false,
    migrations: {
      tableName: 'mikro_orm_migrations',
      migrationsList: [...coreMigrations, ...(options.migrations ?? [])],
      transactional: true,
      allOrNothing: true,
      snapshot: false,
      path: 'core/db/migrations',
      emit: 'ts',
      // We report applied migrations through our own logger (stderr), never on stdout.
      silent: true,
    },
  };
}

export async function openOrm(options: OrmOptions): Promise<MikroORM<PostgreSqlDriver>> {
  const orm = await MikroORM.init(ormOptions(options));
  if (options.clock) attachClock(orm.config, options.clock);
  return orm;
}
