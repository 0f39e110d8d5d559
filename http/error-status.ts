import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ErrorCode } from '../core/errors.ts';

/**
 * How each domain error reaches the client. One table, so pages, htmx and the API agree. Its own
 * module: the web's error page (http/errors.ts) uses the API's JSON errors under /api/, and the
 * API uses this table, so neither of those two imports the other back.
 */
export const statusForCode: Record<ErrorCode, ContentfulStatusCode> = {
  not_found: 404,
  validation: 422,
  conflict: 409,
  forbidden: 403,
  unauthenticated: 401,
  rate_limited: 429,
};

/**
 * Seconds a client is asked to wait (Retry-After) while the database is out of reach: the page
 * says "try again in a minute", and a restarting database is usually back well within that.
 */
export const UNAVAILABLE_RETRY_AFTER_S = 30;
