import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { Logger } from '../../core/log.ts';
import type { AppEnv } from '../env.ts';

const REQUEST_ID_HEADER = 'X-Request-Id';
const acceptableId = /^[\w.:-]{1,100}$/;

/** Paths that carry a secret: /wachtwoord-herstellen/<token> is logged as /wachtwoord-herstellen/***. */
export function loggablePath(path: string): string {
  return path.replace(/^(\/wachtwoord-herstellen\/)[^/]+/, '$1***');
}

/**
 * Gives each request an id (echoed in X-Request-Id, printed on error pages, `reqId` in log
 * lines) and logs one line per request. An id sent by the client is only believed from
 * a trusted proxy: otherwise anyone could make their requests look like someone else's in
 * the logs. Paths are logged without the query string, and a reset link's token is masked.
 */
export function requestContext(log: Logger, trustProxy: boolean): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const incoming = trustProxy ? c.req.header(REQUEST_ID_HEADER) : undefined;
    const id = incoming && acceptableId.test(incoming) ? incoming : randomUUID();
    c.set('requestId', id);
    const started = performance.now();
    await next();
    c.res.headers.set(REQUEST_ID_HEADER, id);
    // The access log: ids and technical facts only (no query string, no user names or addresses).
    log.info('request', {
      reqId: id,
      method: c.req.method,
      path: loggablePath(c.req.path),
      status: c.res.status,
      ms: Math.round(performance.now() - started),
      account: c.var.session?.account.id,
    });
  };
}
