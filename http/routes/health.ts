import type { Hono } from 'hono';
import { migrationStatus } from '../../core/db/migrate.ts';
import type { Portal } from '../../core/portal.ts';
import type { AppEnv } from '../env.ts';

/** A probe must answer even when the database hangs, so the load balancer can act on it. */
const CHECK_TIMEOUT_MS = 3_000;

async function within<T>(work: Promise<T>, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback), CHECK_TIMEOUT_MS);
  });
  try {
    return await Promise.race([work.catch(() => fallback), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export interface Readiness {
  status: 'ready' | 'unavailable';
  database: 'ok' | 'unreachable';
  /** 'pending': this code expects migrations the database lacks; 'ahead': a newer version migrated it. */
  migrations: 'current' | 'pending' | 'ahead' | 'unknown';
  jobs: ReturnType<Portal['jobsState']>;
}

async function migrationsState(portal: Pick<Portal, 'orm'>): Promise<Readiness['migrations']> {
  const status = await migrationStatus(portal.orm);
  return status.unknown.length ? 'ahead' : status.pending.length ? 'pending' : 'current';
}

/**
 * What /readyz checks: the database answers, its schema is the one this code has, the job queue
 * runs and reaches its database ('unreachable' during an outage, core/jobs/queue-reachability.ts).
 * After an outage it is 200 again by itself: the pools reconnect, and a dead embedded PostgreSQL
 * is started again by its supervisor (core/db/embedded-supervisor.ts).
 */
export async function readiness(portal: Pick<Portal, 'ping' | 'orm' | 'jobsState'>): Promise<Readiness> {
  const database = (await within(portal.ping(), false)) ? 'ok' : 'unreachable';
  const migrations = database === 'ok' ? await within(migrationsState(portal), 'unknown' as const) : 'unknown';
  const jobs = portal.jobsState();
  const ready = database === 'ok' && migrations === 'current' && jobs === 'running';
  return { status: ready ? 'ready' : 'unavailable', database, migrations, jobs };
}

/**
 * GET /healthz: the process is up and serving (liveness: restart it when this fails).
 * GET /readyz: it can do its work (readiness: send it traffic only when this is 200).
 * Both public and never cached; neither says anything about users or data.
 */
export function healthRoutes(app: Hono<AppEnv>, portal: Pick<Portal, 'ping' | 'orm' | 'jobsState'>): void {
  app.get('/healthz', (c) => {
    c.header('Cache-Control', 'no-store');
    return c.json({ status: 'ok' });
  });
  app.get('/readyz', async (c) => {
    c.header('Cache-Control', 'no-store');
    const report = await readiness(portal);
    return c.json(report, report.status === 'ready' ? 200 : 503);
  });
}
