import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type PgBoss from 'pg-boss';
import { loggableMessage } from '../db/errors.ts';
import type { Logger } from '../log.ts';

/**
 * The durable job queue (pg-boss, in the `pgboss` schema of our own database). Jobs are
 * enqueued on the caller's transaction: if the change that causes a job rolls back, the job
 * never existed; if it commits, the job is there even when the process dies the next moment.
 */

export const QUEUE_SCHEMA = 'pgboss';
/** PostgreSQL's deadlock_detected. */
const DEADLOCK = '40P01';

export interface QueueSettings {
  retryLimit: number;
  retryDelaySeconds: number;
  /** Where jobs go after their last failed attempt. */
  deadLetter?: string;
  /**
   * How long a job may stay active before it counts as abandoned (its worker died) and is tried
   * again. pg-boss's default is 15 minutes; a queue without it keeps what is stored.
   */
  expireInSeconds?: number;
}

/**
 * pg-boss writes `$1, $2` placeholders; MikroORM's connection (knex) takes `?`. Rewrite them in
 * order of appearance so a job insert runs on the very connection of our transaction.
 */
export function toKnexBindings(sql: string, values: unknown[]): { sql: string; bindings: unknown[] } {
  const bindings: unknown[] = [];
  const text = sql.replace(/\$(\d+)/g, (_, n: string) => {
    bindings.push(values[Number(n) - 1]);
    return '?';
  });
  return { sql: text, bindings };
}

function transactionDb(em: EntityManager): PgBoss.Db {
  return {
    executeSql: async (text, values) => {
      const { sql, bindings } = toKnexBindings(text, values);
      const rows = await em.getConnection().execute(sql, bindings as never[], 'all', em.getTransactionContext());
      return { rows: rows as unknown[] as never[] };
    },
  };
}

export class JobQueue {
  private readonly created = new Set<string>();

  private constructor(
    readonly boss: PgBoss,
    private readonly log: Logger,
  ) {}

  /**
   * `supervise`: run pg-boss maintenance (expiring, archiving). Only the long-running server
   * does; a CLI command only adds jobs and, at most, works off its own.
   */
  static async start(url: string, log: Logger, options: { supervise: boolean }): Promise<JobQueue> {
    // Loaded here, not at import: a command that never queues a job (`portal db status`, the
    // nightly export) does not carry pg-boss and its dependencies.
    const { default: Boss } = await import('pg-boss');
    const boss = new Boss({
      connectionString: url,
      schema: QUEUE_SCHEMA,
      max: 3,
      supervise: options.supervise,
      schedule: false,
      migrate: true,
      application_name: 'ouderportaal-jobs',
    });
    boss.on('error', (err) => log.error(`job queue: ${err.message}`));
    await boss.start();
    return new JobQueue(boss, log);
  }

  /** Creates the queue with its retry policy once; later calls keep what is stored. */
  async ensureQueue(name: string, settings: QueueSettings): Promise<void> {
    if (this.created.has(name)) return;
    const policy = {
      retryLimit: settings.retryLimit,
      retryDelay: settings.retryDelaySeconds,
      retryBackoff: true,
      ...(settings.deadLetter ? { deadLetter: settings.deadLetter } : {}),
      ...(settings.expireInSeconds ? { expireInSeconds: settings.expireInSeconds } : {}),
    };
    if (settings.deadLetter && !(await this.boss.getQueue(settings.deadLetter))) {
      await this.createQueue(settings.deadLetter, { name: settings.deadLetter });
    }
    if (!(await this.boss.getQueue(name))) {
      await this.createQueue(name, { name, ...policy });
    } else {
      await this.boss.updateQueue(name, { name, ...policy });
    }
    this.created.add(name);
  }

  /**
   * Creates a queue that another process may be creating at the same moment (two nodes starting
   * together). The loser's error is fine when the queue exists. Each queue is a partition of
   * pg-boss's job table, and two processes attaching partitions at once can deadlock: PostgreSQL
   * then aborts one of them, whose queue does not exist yet, so that one tries again.
   */
  private async createQueue(name: string, options: PgBoss.Queue): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.boss.createQueue(name, options);
        return;
      } catch (err) {
        if (await this.boss.getQueue(name)) return;
        if ((err as { code?: string }).code !== DEADLOCK || attempt >= 5) throw err;
        await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 100 * attempt));
      }
    }
  }

  /** Enqueue on the transaction of `em` (call inside `em.transactional`). */
  async send(em: EntityManager, name: string, data: object, options: PgBoss.SendOptions = {}): Promise<string> {
    const id = await this.boss.send(name, data, { ...options, db: transactionDb(em) });
    if (!id) throw new Error(`job queue refused a job for ${name}`);
    return id;
  }

  /** Many jobs in one statement, on the transaction of `em`; returns their ids in order. */
  async sendMany(em: EntityManager, name: string, data: object[]): Promise<string[]> {
    if (data.length === 0) return [];
    const jobs = data.map((d) => ({ id: randomUUID(), name, data: d }));
    for (let i = 0; i < jobs.length; i += 5000) {
      await this.boss.insert(jobs.slice(i, i + 5000), { db: transactionDb(em) });
    }
    return jobs.map((j) => j.id);
  }

  async work<T>(name: string, options: PgBoss.WorkOptions, handler: (jobs: PgBoss.Job<T>[]) => Promise<void>) {
    return await this.boss.work<T>(name, options, handler);
  }

  /**
   * Works a queue job by job: a job whose handler throws is marked failed on its own (retried
   * with backoff, dead-lettered after the last retry) while the rest of its batch completes.
   * `describe` names the job in the warning ("mail to parent 12").
   */
  async workEach<T>(
    name: string,
    options: PgBoss.WorkOptions,
    handler: (data: T) => Promise<unknown>,
    warn: (message: string) => void,
    describe: (data: T) => string,
  ): Promise<string> {
    return await this.work<T>(name, options, async (batch) => {
      for (const job of batch) {
        try {
          await handler(job.data);
        } catch (err) {
          // Not the raw message: a database error's holds the statement with its values.
          const message = loggableMessage(err);
          warn(`${describe(job.data)} failed: ${message}`);
          await this.boss.fail(name, job.id, { message });
        }
      }
    });
  }

  /**
   * Gives the queue's abandoned jobs (active past their expiry: the worker that took them died)
   * back at once, instead of at pg-boss's next maintenance (every two minutes, and only in a
   * server). pg-boss 10 has no worker heartbeat, so expiry is the only sign of a dead worker; a
   * short expiry with this makes a crash cost the expiry, not minutes more. The attempt counts
   * as a failed one (after the last retry the job is dead-lettered, as pg-boss would), but its
   * retry is due now: the backoff is for a failing mail server, not for our own crash.
   */
  async reapExpired(name: string): Promise<number> {
    const { rows } = (await this.boss.getDb().executeSql(
      `select id from ${QUEUE_SCHEMA}.job where name = $1 and state = 'active' and started_on + expire_in < now()`,
      [name],
    )) as { rows: { id: string }[] };
    if (rows.length === 0) return 0;
    const ids = rows.map((r) => r.id);
    // One by one: pg-boss 10's types take a message for a single id only (a dead worker held a batch or two).
    for (const id of ids) await this.boss.fail(name, id, { message: 'the worker stopped mid-job (crash or kill); tried again' });
    await this.boss
      .getDb()
      .executeSql(`update ${QUEUE_SCHEMA}.job set start_after = now() where name = $1 and id = any($2::uuid[]) and state = 'retry'`, [
        name,
        ids,
      ]);
    return ids.length;
  }

  private readonly timers = new Set<NodeJS.Timeout>();

  /**
   * Runs `task` every `ms` until the queue stops (an infrastructure timer, not domain time).
   * Returns a function that ends it sooner.
   */
  every(ms: number, task: () => Promise<unknown>): () => void {
    let running = false;
    const timer = setInterval(() => {
      if (running) return;
      running = true;
      task()
        .catch((err: Error) => this.log.warn(`job queue: ${loggableMessage(err)}`))
        .finally(() => {
          running = false;
        });
    }, ms);
    timer.unref();
    this.timers.add(timer);
    return () => {
      clearInterval(timer);
      this.timers.delete(timer);
    };
  }

  async stop(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    this.timers.clear();
    await this.boss.stop({ graceful: true, wait: true, timeout: 10_000 });
    this.log.debug('job queue stopped');
  }
}
