import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { RESET_PATH } from '../../core/auth/password-reset.ts';
import { CALENDAR_FEED_PATH } from '../../core/calendar-feed/links.ts';
import { DATA_EXPORT_PATH } from '../../core/gdpr/self-service.ts';
import type { Logger } from '../../core/log.ts';
import { EMAIL_CHANGE_PATH } from '../../core/profile/email-change.ts';
import { UNSUBSCRIBE_PATH } from '../../core/profile/notifications.ts';
import type { AppEnv } from '../env.ts';

const REQUEST_ID_HEADER = 'X-Request-Id';
const acceptableId = /^[\w.:-]{1,100}$/;

/**
 * The routes whose path carries a secret (a link from a mail: reset, e-mail confirmation,
 * unsubscribe, data-export download; a parent's calendar feed), as registered with the router. Each `:param` of these is
 * logged as `[param]`: /e-mailadres-bevestigen/<token> becomes /e-mailadres-bevestigen/[token].
 * A new route with a secret in its path belongs here (http/logging.test.ts checks each one).
 */
export const SECRET_ROUTES: readonly string[] = [
  `${RESET_PATH}:token`,
  `${EMAIL_CHANGE_PATH}:token`,
  `${UNSUBSCRIBE_PATH}:token`,
  `${DATA_EXPORT_PATH}:token`,
  `${CALENDAR_FEED_PATH}:token`,
];

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A route pattern as a prefix matcher, and what its path looks like in the log. */
const secretRoutes = SECRET_ROUTES.map((route) => {
  const parts = route.split(/(:[A-Za-z_]\w*)/);
  const source = parts.map((part) => (part.startsWith(':') ? '[^/]*' : escapeRegExp(part))).join('');
  const masked = parts.map((part) => (part.startsWith(':') ? `[${part.slice(1)}]` : part)).join('');
  // The pattern at the start of the path; anything after it (a longer, unknown path) is dropped too.
  return { match: new RegExp(`^${source}(?:/.*)?$`, 's'), masked };
});

/** The path as it may be logged: the secret parameters of SECRET_ROUTES replaced by their names. */
export function loggablePath(path: string): string {
  // Routing ignores repeated and trailing slashes in places; so does the mask.
  const normalised = `/${path.replace(/^[/\\]+/, '')}`;
  for (const route of secretRoutes) if (route.match.test(normalised)) return route.masked;
  return path;
}

/**
 * Gives each request an id (echoed in X-Request-Id, printed on error pages, `reqId` in log
 * lines) and logs one line per request. An id sent by the client is only believed from
 * a trusted proxy: otherwise anyone could make their requests look like someone else's in
 * the logs. Paths are logged without the query string, and the secret in a mailed link's path
 * (SECRET_ROUTES) is masked.
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
      account: c.var.session?.account.id ?? c.var.servedAccount,
    });
  };
}
