import type { EntityManager } from '@mikro-orm/postgresql';
import type pg from 'pg';
import { clockOf } from '../clock.ts';
import { PORTAL_LOCK_CLASS } from '../db/migrate.ts';
import { withOwnConnection } from '../db/own-connection.ts';

/**
 * Periodic background work that must happen once per period however many `portal serve` nodes
 * run it: retention, housekeeping, the notification and push scans. Every node keeps its timers
 * (so the work goes on while any node is up); each tick asks here whether the task is due.
 *
 * A run holds a transaction-level advisory lock on the task (`pg_try_advisory_xact_lock`) for as
 * long as it works, and records its start in `periodic_run` before it commits. A second node that
 * ticks meanwhile does not get the lock and skips ('busy'); one that ticks after finds the mark
 * and skips ('not-due'). A run that fails rolls its mark back, so the next tick on any node tries
 * again. The lock and the mark are on a connection of their own, not one of the pool's: the task
 * works through the pool, which may be a single connection (database.poolMax).
 */

export interface PeriodicTask {
  /** The task's row in periodic_run, and its lock. */
  name: string;
  /** At most one run per this, across all nodes (counted from start to start). */
  periodMs: number;
  run(): Promise<void>;
}

export type PeriodicOutcome = 'ran' | 'busy' | 'not-due';

/**
 * Two nodes' timers tick out of step, and a timer may fire a little early: a tick this close to
 * the end of the period counts as due, or a 1-minute scan would often wait for its second tick.
 */
export function slackOf(periodMs: number): number {
  return Math.min(periodMs / 10, 60_000);
}

/** Whether a task last started at `last` is due at `now`. A mark from the future (a clock set back) by more than a period is stale. */
export function isDue(last: Date | null, now: Date, periodMs: number): boolean {
  if (last === null) return true;
  const age = now.getTime() - last.getTime();
  return age >= periodMs - slackOf(periodMs) || age < -periodMs;
}

/** Runs `task` if it is due and no other node runs it now; the time is the portal Clock's (of `em`). */
export async function runPeriodic(em: EntityManager, task: PeriodicTask): Promise<PeriodicOutcome> {
  return await withOwnConnection(em.config.get('clientUrl'), 'ouderportaal-periodic', async (client) => {
    await client.query('begin');
    try {
      const outcome = await underLock(client, em, task);
      await client.query('commit');
      return outcome;
    } catch (err) {
      await client.query('rollback').catch(() => {});
      throw err;
    }
  });
}

async function underLock(client: pg.Client, em: EntityManager, task: PeriodicTask): Promise<PeriodicOutcome> {
  const lock = await client.query<{ locked: boolean }>('select pg_try_advisory_xact_lock($1, hashtext($2)) as locked', [
    PORTAL_LOCK_CLASS,
    `periodic:${task.name}`,
  ]);
  if (!lock.rows[0]?.locked) return 'busy';
  const now = clockOf(em).now();
  // Read after the lock: a run that committed just before is seen (read committed).
  const mark = await client.query<{ last_run_at: Date | string }>('select last_run_at from periodic_run where name = $1', [task.name]);
  const last = mark.rows[0] ? new Date(mark.rows[0].last_run_at) : null;
  if (!isDue(last, now, task.periodMs)) return 'not-due';
  await task.run();
  await client.query(
    `insert into periodic_run (name, last_run_at) values ($1, $2)
     on conflict (name) do update set last_run_at = excluded.last_run_at`,
    [task.name, now],
  );
  return 'ran';
}
