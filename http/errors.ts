import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { badTextError, databaseUnavailableReason, loggableError } from '../core/db/errors.ts';
import { isDomainError } from '../core/errors.ts';
import { isStorageFull } from '../core/storage/disk-full.ts';
import type { Logger } from '../core/log.ts';
import { DEFAULT_LANGUAGE, translate } from '../views/i18n/index.ts';
import type { AppEnv } from './env.ts';
import { apiErrorResponse } from './api/errors.ts';
import { statusForCode, UNAVAILABLE_RETRY_AFTER_S } from './error-status.ts';
import { CsrfError } from './middleware/csrf.ts';
import { API_PREFIX } from './middleware/session.ts';
import { loggablePath } from './middleware/request-context.ts';
import type { Pages } from './render.ts';

/** Statuses with their own text in the catalogues (`error.<kind>.title/.text`); others fall back to 400 or 500. */
export const ERROR_KINDS = ['400', '401', '403', 'csrf', '404', '409', '413', '422', '429', '500', '503', '507'] as const;
export type ErrorKind = (typeof ERROR_KINDS)[number];

function kindFor(status: number): ErrorKind {
  const exact = ERROR_KINDS.find((k) => k === String(status));
  if (exact) return exact;
  return status >= 500 ? '500' : '400';
}

/**
 * Renders an error as a page, or for htmx as just the message (htmx 4 swaps 4xx/5xx responses
 * into the target, so a whole page there would nest a page inside a page).
 */
export function renderError(
  c: Context<AppEnv>,
  pages: Pages,
  status: ContentfulStatusCode,
  kind: ErrorKind = kindFor(status),
): Promise<Response> {
  const htmx = c.req.header('HX-Request') === 'true';
  return pages.render(
    c,
    htmx ? 'partials/error' : 'pages/error',
    { kind, showReference: status >= 500 },
    status,
  );
}

/**
 * The database is out of reach: a calm 503 page with Retry-After, rendered from what the request
 * already holds. The navigation's unread count would ask the database, so it is left out.
 */
async function renderUnavailable(c: Context<AppEnv>, pages: Pages): Promise<Response> {
  c.header('Retry-After', String(UNAVAILABLE_RETRY_AFTER_S));
  c.header('Cache-Control', 'no-store');
  c.set('navCounts', {});
  const htmx = c.req.header('HX-Request') === 'true';
  // "Try again" reloads the page asked for; after a form's POST (whose path may have no page) it
  // goes home, and the page says what was sent may have to be sent again.
  const retryHref = c.req.method === 'GET' || c.req.method === 'HEAD' ? c.req.path : '/';
  return pages.render(c, htmx ? 'partials/error' : 'pages/unavailable', { kind: '503', showReference: false, retryHref }, 503);
}

export function errorHandler(log: Logger, pages: Pages): ErrorHandler<AppEnv> {
  return async (caught, c) => {
    // Text the database refused (a NUL byte a schema missed) is a 422, never a 500.
    const err = badTextError(caught) ?? caught;
    // Under /api/ (e.g. the body limit, which runs before the API's own handler): the API's JSON.
    if (c.req.path.startsWith(API_PREFIX)) return apiErrorResponse(c, err, log);
    const unavailable = databaseUnavailableReason(err);
    if (unavailable) {
      // One line, no stack: during an outage every request ends here, and the reason is all there is to say.
      log.warn(`${c.req.method} ${loggablePath(c.req.path)}: database unavailable (${unavailable})`, { reqId: c.get('requestId') });
      try {
        return await renderUnavailable(c, pages);
      } catch (renderErr) {
        log.error(`unavailable page failed: ${loggableError(renderErr)}`, { reqId: c.get('requestId') });
        return c.text(translate(c.get('lang') ?? DEFAULT_LANGUAGE, 'error.503.title'), 503, { 'Retry-After': String(UNAVAILABLE_RETRY_AFTER_S) });
      }
    }
    let status: ContentfulStatusCode = 500;
    let kind: ErrorKind | undefined;
    if (err instanceof CsrfError) {
      log.info(`${c.req.method} ${loggablePath(c.req.path)} refused: ${err.reason}`, { reqId: c.get('requestId') });
      status = 403;
      kind = 'csrf';
    } else if (isDomainError(err)) {
      status = statusForCode[err.code];
    } else if (err instanceof HTTPException) {
      status = err.status as ContentfulStatusCode;
    } else if (isStorageFull(err)) {
      // 507 Insufficient Storage: exactly this, and unlike a 503 no promise that a retry soon
      // helps. The folder and the bytes go to the log for the administrator, not to the page.
      log.error(`${c.req.method} ${loggablePath(c.req.path)}: ${err.message}`, { reqId: c.get('requestId') });
      status = 507;
    } else {
      // Unexpected: the stack goes to the log (with the request id the visitor sees), never to the page.
      // A database error without its statement and parameters (loggableError): they hold what was typed.
      log.error(`${c.req.method} ${loggablePath(c.req.path)} failed: ${loggableError(err)}`, { reqId: c.get('requestId') });
    }
    try {
      // Awaited, so a page that fails while rendering lands in the catch below.
      return await renderError(c, pages, status, kind);
    } catch (renderErr) {
      log.error(`error page failed: ${(renderErr as Error).stack ?? renderErr}`, { reqId: c.get('requestId') });
      return c.text(translate(c.get('lang') ?? DEFAULT_LANGUAGE, 'error.500.title'), 500);
    }
  };
}

export function notFoundHandler(pages: Pages): NotFoundHandler<AppEnv> {
  return (c) => renderError(c, pages, 404);
}
