import type { Hono } from 'hono';
import type { Portal } from '../../core/portal.ts';
import type { AppEnv } from '../env.ts';

/** A health check must answer even when the database hangs, so the load balancer can act on it. */
const PING_TIMEOUT_MS = 3_000;

async function databaseAnswers(portal: Pick<Portal, 'ping'>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), PING_TIMEOUT_MS);
  });
  try {
    return await Promise.race([portal.ping().catch(() => false), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** GET /healthz: 200 when the web process and its database work, 503 otherwise. Public, never cached. */
export function healthRoutes(app: Hono<AppEnv>, portal: Pick<Portal, 'ping'>): void {
  app.get('/healthz', async (c) => {
    c.header('Cache-Control', 'no-store');
    if (await databaseAnswers(portal)) return c.json({ status: 'ok', database: 'ok' });
    return c.json({ status: 'unavailable', database: 'unreachable' }, 503);
  });
}
