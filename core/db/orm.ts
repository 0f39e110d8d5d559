import { type EntitySchema, type MigrationObject, MikroORM, type Options } from '@mikro-orm/core';
import { Migrator } from '@mikro-orm/migrations';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';
import pg from 'pg';
import { attachClock, type Clock } from '../clock.ts';
import { coreEntities } from '../entities/index.ts';
import { DatabaseMissingError, isMissingDatabase } from './errors.ts';
import { coreMigrations } from './migrations/index.ts';

export type { EntityManager } from '@mikro-orm/postgresql';

export interface OrmOptions {
  url: string;
  poolMax?: number;
  debug?: boolean;
  /** Plugins' entities, added beside core's. */
  entities?: EntitySchema[];
  /** Plugins' migrations, run after core's (see plugins/schema.ts). */
  migrations?: MigrationObject[];
  /** The portal's clock, for use cases and entity timestamps (`clockOf(em)`); the system clock without one. */
  clock?: Clock;
  /**
   * Create the database when the server does not have it (`portal init`, `portal db create`).
   * Without it a missing database is a DatabaseMissingError, never a new empty one.
   */
  createDatabase?: boolean;
  /** Told when createDatabase did create it (to log it, and for `portal db create` to say so). */
  onDatabaseCreated?: (target: { database: string; server: string }) => void;
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
    // Never create the database on the way: a typo in PORTAL_DATABASE_URL would become a new,
    // empty, migrated portal. openOrm decides (see createDatabase there).
    ensureDatabase: false,
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
  try {
    await orm.em.getConnection().execute('select 1');
  } catch (err) {
    const missing = isMissingDatabase(err);
    if (!missing || !options.createDatabase) {
      await orm.close(true);
      throw missing ? missingDatabaseError(options.url) : err;
    }
    if (await createDatabase(options.url)) options.onDatabaseCreated?.(databaseTarget(options.url));
  }
  if (options.clock) attachClock(orm.config, options.clock);
  return orm;
}

/** The parts of a postgres:// URL that say which database where, without the credentials. */
export function databaseTarget(url: string): { database: string; server: string } {
  const u = new URL(url);
  return { database: decodeURIComponent(u.pathname.slice(1)), server: `${u.hostname}:${u.port || '5432'}` };
}

function missingDatabaseError(url: string): DatabaseMissingError {
  const { database, server } = databaseTarget(url);
  return new DatabaseMissingError(database, server);
}

/** The same server and credentials, another database: where CREATE DATABASE is run from. */
function maintenanceUrl(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

async function onMaintenanceDatabase<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  let lastError: unknown;
  // `postgres` is there on every ordinary server; `template1` when someone dropped it.
  for (const database of ['postgres', 'template1']) {
    const client = new pg.Client({ connectionString: maintenanceUrl(url, database), connectionTimeoutMillis: 10_000 });
    try {
      await client.connect();
    } catch (err) {
      await client.end().catch(() => {});
      if (!isMissingDatabase(err)) throw err;
      lastError = err;
      continue;
    }
    try {
      return await fn(client);
    } finally {
      await client.end().catch(() => {});
    }
  }
  throw lastError;
}

/** Whether the server in the URL has its database (false, not an error, when it is missing). */
export async function databaseExists(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  try {
    await client.connect();
    return true;
  } catch (err) {
    if (isMissingDatabase(err)) return false;
    throw err;
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * CREATE DATABASE for the URL's database, as the URL's user (who needs CREATEDB). True when it
 * was created, false when it was already there (also when another process made it just now).
 */
export async function createDatabase(url: string): Promise<boolean> {
  const { database } = databaseTarget(url);
  return await onMaintenanceDatabase(url, async (client) => {
    try {
      await client.query(`create database ${client.escapeIdentifier(database)}`);
      return true;
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === '42P04') return false; // duplicate_database
      if (code === '42501') {
        const { server } = databaseTarget(url);
        const user = decodeURIComponent(new URL(url).username) || 'the user in PORTAL_DATABASE_URL';
        throw new DatabaseMissingError(database, server, `${user} may not create databases (grant CREATEDB, or have it created for you)`);
      }
      throw err;
    }
  });
}
