import type { EntitySchema, MigrationObject, MikroORM } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { PortalConfig } from '../config/schema.ts';
import { type Clock, systemClock } from './clock.ts';
import { EmbeddedPostgres, type EmbeddedPostgresHandle } from './db/embedded-postgres.ts';
import { superviseEmbeddedPostgres, type EmbeddedSupervisor } from './db/embedded-supervisor.ts';
import { DatabaseMissingError } from './db/errors.ts';
import { MigrationsPendingError, migrateUp, migrationStatus } from './db/migrate.ts';
import { openOrm } from './db/orm.ts';
import { createPasswordHasher, type PasswordHasher } from './auth/passwords.ts';
import { JobQueue } from './jobs/queue.ts';
import { watchQueueReachability } from './jobs/queue-reachability.ts';
import { createLogger, type Logger } from './log.ts';
import { createMailTransport, type MailTransport } from './mail/transport.ts';
import type { PhotoStore } from './photos/store.ts';
import { rethrowAfterCleanup } from './storage/after-cleanup.ts';
import { openConfiguredStorage, type Storage } from './storage/open.ts';


export interface CreatePortalOptions {
  log?: Logger;
  /**
   * auto: apply pending migrations when config allows it (the default for server and CLI);
   * check: refuse to start when migrations are pending; none: do not look (`portal db status`).
   * A database that is ahead of the code is refused in auto and check mode.
   */
  migrate?: 'auto' | 'check' | 'none';
  /**
   * Entities and migrations beside core's: the installed plugins' (plugins/schema.ts
   * installedSchema()). Every caller on the same database must pass the same, or the database
   * looks ahead of the code.
   */
  extensions?: { entities?: EntitySchema[]; migrations?: MigrationObject[] };
  /** The time the portal runs on: the system clock, or a pinned one in tests and benchmarks. */
  clock?: Clock;
  /**
   * Create the database on the server in PORTAL_DATABASE_URL when it is missing: only `portal
   * init` and `portal db create` pass it. Everything else refuses a missing database
   * (DatabaseMissingError), so a typo in the URL never becomes a new, empty portal. The embedded
   * PostgreSQL's database is always created (see EmbeddedPostgres.acquire).
   */
  createDatabase?: boolean;
  /**
   * Start the embedded PostgreSQL again when it dies (embedded-supervisor.ts): the long-running
   * server (`portal serve`) asks for it; a CLI command that dies with it is simply run again.
   */
  superviseDatabase?: boolean;
}

/** `unreachable`: started, but its connections fail now (a database outage); it carries on once they answer. */
export type JobsState = 'not_started' | 'starting' | 'running' | 'unreachable' | 'failed' | 'stopped';

export interface Portal {
  readonly config: Readonly<PortalConfig>;
  readonly log: Logger;
  readonly orm: MikroORM;
  /** `created`: this start created the database on the server (createDatabase). */
  readonly database: { embedded: boolean; url: string; created: boolean };
  /** The only source of the time for core (see core/clock.ts); also `clockOf(em)` for any unit of work. */
  readonly clock: Clock;
  /** argon2id hashing with a cap on concurrent work. */
  readonly hasher: PasswordHasher;
  /** SMTP, or .eml files in dataDir/mail without PORTAL_SMTP_URL. */
  readonly mail: MailTransport;
  /** Processed photos (metadata stripped): what is stored and served. */
  readonly photos: PhotoStore;
  /** Uploads as received, until the processing job has made the stripped versions; never served. */
  readonly incoming: PhotoStore;
  /** Attachments of messages and announcements (PDF, images without metadata), content-addressed. */
  readonly attachments: PhotoStore;
  /** The parents' data-export ZIPs until their link expires (core/gdpr/self-service.ts), content-addressed. */
  readonly exports: PhotoStore;
  /**
   * The job queue, started on first use (a provisioning command that sends nothing never
   * connects it). `supervise` (maintenance) is for the long-running server.
   */
  jobs(options?: { supervise?: boolean }): Promise<JobQueue>;
  /** A fresh unit of work: one per request, per CLI command, per job. */
  em(): EntityManager;
  /** Whether the database answers, for /readyz. */
  ping(): Promise<boolean>;
  /** Where the job queue is: for /readyz (the server starts it; a CLI command may never). */
  jobsState(): JobsState;
  close(): Promise<void>;
}

/** postgres://user:secret@host/db -> postgres://user:***@host/db, for logs and status output. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

/**
 * The composition root. Server, CLI, tests and benchmarks all build the portal here, so they
 * run the same database setup, migrations and services.
 */
export async function createPortal(config: Readonly<PortalConfig>, options: CreatePortalOptions = {}): Promise<Portal> {
  const log = options.log ?? createLogger(config.log.level, undefined, config.log.format);
  const clock = options.clock ?? systemClock;
  let embedded: EmbeddedPostgresHandle | undefined;
  let url = config.database.url;
  let cluster: EmbeddedPostgres | undefined;
  if (!url) {
    cluster = new EmbeddedPostgres({
      dataDir: config.dataDir,
      port: config.database.embeddedPort,
      log: (m) => log.info(m),
      debug: (m) => log.debug(m),
    });
    embedded = await cluster.acquire();
    url = embedded.url;
  }

  let orm: MikroORM;
  let created = false;
  try {
    orm = await openOrm({
      url,
      poolMax: config.database.poolMax,
      ...options.extensions,
      clock,
      createDatabase: options.createDatabase ?? false,
      onDatabaseCreated: ({ database, server }) => {
        created = true;
        log.info(`created database "${database}" on ${server}`);
      },
    });
  } catch (err) {
    await embedded?.release().catch(() => {});
    if (err instanceof DatabaseMissingError) throw err;
    throw new Error(`cannot connect to PostgreSQL at ${redactUrl(url)}: ${(err as Error).message}`);
  }

  let jobs: Promise<JobQueue> | undefined;
  let jobsState: JobsState = 'not_started';
  let unwatchJobs: (() => void) | undefined;
  const mail = createMailTransport(config.mail.smtpUrl, config.dataDir, clock);
  // Photos, uploads and attachments: the data folder, or where storage.url says (core/storage/open.ts).
  let storage: Storage | undefined;
  let supervisor: EmbeddedSupervisor | undefined;
  const close = async () => {
    unwatchJobs?.();
    if (jobs) await (await jobs.catch(() => undefined))?.stop();
    if (jobs) jobsState = 'stopped';
    mail.close();
    storage?.close();
    await orm.close(true);
    // Before the release: a stop of the server must not look like a crash to restart from.
    await supervisor?.stop();
    await embedded?.release();
  };

  try {
    storage = await openConfiguredStorage(config);
    const mode = options.migrate ?? 'auto';
    if (mode === 'auto' && config.database.autoMigrate) {
      // Looks at what is pending under the migration lock (migrate.ts): nodes starting together
      // take turns, and only the first has anything to apply.
      const applied = await migrateUp(orm);
      if (applied.length) log.info(`database migrated: ${applied.join(', ')}`);
    } else if (mode !== 'none') {
      const status = await migrationStatus(orm);
      if (status.unknown.length) await migrateUp(orm); // throws DatabaseAheadError
      if (status.pending.length) throw new MigrationsPendingError(status.pending);
    }
  } catch (err) {
    // A failing close (the lock file on a full disk) must not hide why the start failed.
    return await rethrowAfterCleanup(err, close, (closeErr) => log.warn(`closing after a failed start failed too: ${(closeErr as Error).message}`));
  }

  if (cluster && embedded && options.superviseDatabase) supervisor = superviseEmbeddedPostgres(cluster, embedded.port, { log });

  return {
    config,
    log,
    orm,
    database: { embedded: embedded !== undefined, url: redactUrl(url), created },
    clock,
    hasher: createPasswordHasher(config.auth),
    mail,
    photos: storage.photos,
    incoming: storage.incoming,
    attachments: storage.attachments,
    exports: storage.exports,
    jobs: (options = {}) => {
      if (!jobs) {
        jobsState = 'starting';
        jobs = JobQueue.start(url, log, { supervise: options.supervise ?? false });
        jobs.then(
          (queue) => {
            if (jobsState !== 'starting') return;
            jobsState = 'running';
            unwatchJobs = watchQueueReachability(queue.boss, (reachable) => {
              if (jobsState === 'running' || jobsState === 'unreachable') jobsState = reachable ? 'running' : 'unreachable';
            });
          },
          () => {
            jobsState = 'failed';
          },
        );
      }
      return jobs;
    },
    em: () => orm.em.fork() as EntityManager,
    ping: async () => {
      try {
        await orm.em.getConnection().execute('select 1');
        return true;
      } catch {
        return false;
      }
    },
    jobsState: () => jobsState,
    close,
  };
}
