import { z } from '@hono/zod-openapi';
import type { Context, ErrorHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { badTextError, databaseUnavailableReason, loggableError } from '../../core/db/errors.ts';
import { DomainError, type ErrorCode, type ErrorDetail, isDomainError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import { isStorageFull } from '../../core/storage/disk-full.ts';
import { isRefusal, type RefusalCode } from '../../core/schedule/refusal.ts';
import { statusForCode, UNAVAILABLE_RETRY_AFTER_S } from '../error-status.ts';
import { loggablePath } from '../middleware/request-context.ts';

/**
 * Every error of the app API has one shape, `{ error: { code, message, details? } }`, whatever
 * went wrong and wherever (a use case, validation, an unknown route, a malformed body, the
 * gate): an app switches on `code`, never on the text. `message` is English, for developers;
 * the app shows its own words per code.
 */

/**
 * Core's codes plus the reasons a token login can be refused after a correct password, and the
 * schedule's refusals (afmelden, ruilen), which keep their own stable code.
 */
export type ApiErrorCode = ErrorCode | RefusalCode | 'password_change_required' | 'second_factor_required' | 'account_suspended' | 'payload_too_large' | 'unavailable' | 'storage_full' | 'internal';

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'not_found' }),
      message: z.string(),
      details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
      params: z
        .record(z.string(), z.string())
        .optional()
        .openapi({ description: 'The values a refusal is about (a deadline time, a date), for the app to say it in its own words', example: { time: '09:00' } }),
    }),
  })
  .openapi('Error');

export function apiError(
  c: Context,
  status: ContentfulStatusCode,
  code: ApiErrorCode,
  message: string,
  details?: ErrorDetail[],
  params?: Record<string, string>,
): Response {
  // Errors are about one person's request: never cached, by anyone.
  c.header('Cache-Control', 'no-store');
  return c.json({ error: { code, message, ...(details?.length ? { details } : {}), ...(params && Object.keys(params).length ? { params } : {}) } }, status);
}

/** A refused request with nothing more to say: no or a dead token. */
export const unauthenticated = () => new DomainError('unauthenticated', 'a valid bearer token is required');

export function apiErrorResponse(c: Context, caught: Error, log: Logger): Response {
  // Text the database refused (a NUL byte a schema missed) is a 422, never a 500.
  const err = badTextError(caught) ?? caught;
  if (isRefusal(err)) {
    // A rule said no: the status is core's class (422 the rules, 409 the state of the day or the
    // request), the code the refusal's own, so an app can tell "too late" from "full".
    return apiError(c, statusForCode[err.code], err.reason, err.message, err.details, err.params);
  }
  if (isDomainError(err)) {
    if (err.code === 'unauthenticated') c.header('WWW-Authenticate', 'Bearer realm="ouderportaal"');
    return apiError(c, statusForCode[err.code], err.code, err.message, err.details);
  }
  if (err instanceof HTTPException) {
    // Hono's JSON reader throws 400 "Malformed JSON in request body": a validation problem.
    if (err.status === 400) return apiError(c, 422, 'validation', 'the request body is not valid JSON', [{ path: 'body', message: 'not valid JSON' }]);
    if (err.status === 413) return apiError(c, 413, 'payload_too_large', 'the request body is too large');
    return apiError(c, err.status as ContentfulStatusCode, err.status === 404 ? 'not_found' : 'validation', err.message || 'request refused');
  }
  if (isStorageFull(err)) {
    // The disk is full (http/errors.ts says why 507): the folder and the bytes go to the log only.
    log.error(`${c.req.method} ${loggablePath(c.req.path)}: ${err.message}`, { reqId: c.get('requestId') });
    return apiError(c, 507, 'storage_full', 'the server has no space left to store this; nothing was saved: try again later');
  }
  const unavailable = databaseUnavailableReason(err);
  if (unavailable) {
    // The database is out of reach: nothing wrong with the request, so 503 and when to try again.
    log.warn(`${c.req.method} ${loggablePath(c.req.path)}: database unavailable (${unavailable})`, { reqId: c.get('requestId') });
    c.header('Retry-After', String(UNAVAILABLE_RETRY_AFTER_S));
    return apiError(c, 503, 'unavailable', 'the service is temporarily unavailable; try again shortly');
  }
  // A database error without its statement and parameters (loggableError): they hold what was sent.
  log.error(`${c.req.method} ${loggablePath(c.req.path)} failed: ${loggableError(err)}`, { reqId: c.get('requestId') });
  return apiError(c, 500, 'internal', `something went wrong (reference ${c.get('requestId') ?? 'unknown'})`);
}

export const apiErrorHandler =
  (log: Logger): ErrorHandler =>
  (err, c) =>
    apiErrorResponse(c, err, log);

/** zod problems as `details`: the path as the app named the field, and what is wrong with it. */
export function validationDetails(issues: readonly { path: readonly PropertyKey[]; message: string }[]): ErrorDetail[] {
  return issues.map((i) => ({ path: i.path.map(String).join('.') || 'body', message: i.message }));
}
