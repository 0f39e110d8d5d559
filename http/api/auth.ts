import type { MiddlewareHandler } from 'hono';
import type { ApiRateLimit } from '../../core/auth/api-rate-limit.ts';
import { lookupApiToken } from '../../core/auth/api-tokens.ts';
import { DomainError } from '../../core/errors.ts';
import type { AuthedApiEnv } from './env.ts';
import { unauthenticated } from './errors.ts';

const BEARER = /^Bearer[ ]+([^\s]+)[ ]*$/i;

/**
 * The token gate of every API operation but the login (the group behind it in http/api/app.ts):
 * `Authorization: Bearer <token>`, checked against core on every request (revoked, expired,
 * suspended: refused at once), then counted against the token's rate limit. A cookie is never
 * looked at, so a browser's ambient session opens nothing here; that is also why the API needs
 * no CSRF token (see http/app.ts).
 */
export function bearerAuth(rateLimit: ApiRateLimit): MiddlewareHandler<AuthedApiEnv> {
  return async (c, next) => {
    const token = BEARER.exec(c.req.header('Authorization') ?? '')?.[1];
    const info = token ? await lookupApiToken(c.var.em, token) : undefined;
    if (!info) throw unauthenticated();
    const verdict = await rateLimit.take(info.tokenId);
    if (!verdict.allowed) {
      c.header('Retry-After', String(verdict.retryAfterSeconds));
      throw new DomainError('rate_limited', `too many requests; try again in ${verdict.retryAfterSeconds} seconds`);
    }
    c.header('RateLimit-Limit', String(rateLimit.window.points));
    c.header('RateLimit-Remaining', String(verdict.remaining));
    c.set('api', info);
    await next();
  };
}
