import { z } from '@hono/zod-openapi';
import { invalid } from '../../core/errors.ts';
import { formatPageCursor, type Page, parsePageCursor } from '../../core/paging.ts';
import { ErrorSchema } from './errors.ts';

/**
 * Schemas shared by the API's route modules, and the cursor helpers. Every list answers
 * `{ items, nextCursor }`; a cursor is opaque to the app (base64url of core's own cursor, so
 * the album's and the schriftje's paging rules stay core's) and null on the last page.
 */

export function encodeCursor(raw: string): string {
  return Buffer.from(raw, 'utf8').toString('base64url');
}

/** The raw cursor, or undefined when none was sent; a cursor that does not decode is a 422. */
export function decodeCursor<T>(cursor: string | undefined, parse: (raw: string) => T | undefined): T | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  const parsed = /^[A-Za-z0-9_-]{1,200}$/.test(cursor) ? parse(Buffer.from(cursor, 'base64url').toString('utf8')) : undefined;
  if (parsed === undefined) throw invalid('cursor', 'not a cursor from this API');
  return parsed;
}

export const CursorQuery = z.object({
  cursor: z.string().max(200).optional().openapi({ description: 'nextCursor of the previous page; omit for the first page' }),
});

/** A cursor and a page size, for the lists core pages by time and id (core/paging.ts). */
export const PageQuery = CursorQuery.extend({
  limit: z.coerce.number().int().min(1).max(100).optional().openapi({ description: 'items per page (default 30, at most 100)' }),
});

export const pageQuery = (query: z.infer<typeof PageQuery>) => ({ before: decodeCursor(query.cursor, parsePageCursor), limit: query.limit });

/** Core's page as the API's `{ items, nextCursor }`. */
export const pageBody = <T>(found: Page<T>) => ({ items: found.items, nextCursor: found.next ? encodeCursor(formatPageCursor(found.next)) : null });

export const page = <T extends z.ZodTypeAny>(item: T, name: string) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable() }).openapi(name);

export const IdParam = z.object({ id: z.string().openapi({ param: { name: 'id', in: 'path' }, example: '6f1c2d3e-…' }) });
export const ChildParam = z.object({
  child: z.coerce.number().int().positive().openapi({ param: { name: 'child', in: 'path' }, example: 12 }),
});

/**
 * The 503 every operation can give: the database is out of reach for a moment (restarting, or
 * refusing connections; see http/api/errors.ts). One response under components, registered by
 * createApi; each operation refers to it.
 */
export const UNAVAILABLE_RESPONSE = {
  name: 'Unavailable',
  response: {
    description: 'Temporarily unavailable (the database is out of reach, e.g. restarting); nothing was done: try again after Retry-After seconds',
    headers: { 'Retry-After': { description: 'Seconds to wait before trying again', schema: { type: 'integer' as const, example: 30 } } },
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  },
  ref: { $ref: '#/components/responses/Unavailable' },
};

/** The error responses a protected route can give, documented once (503: UNAVAILABLE_RESPONSE). */
export const errors = (...statuses: (401 | 403 | 404 | 409 | 413 | 422 | 429)[]) => {
  const text: Record<number, string> = {
    401: 'No valid bearer token (missing, revoked, expired, or the account was suspended)',
    403: 'Not allowed for this account',
    404: 'Not found, or not visible to this account (the API never says which)',
    409: 'Conflict',
    413: 'Body too large',
    422: 'Validation failed; details per field',
    429: 'Too many requests; see Retry-After',
  };
  const documented: Record<string, { description: string; content: { 'application/json': { schema: typeof ErrorSchema } } } | { $ref: string }> = Object.fromEntries(
    [...new Set<number>([401, 429, ...statuses])].map((s) => [s, { description: text[s]!, content: { 'application/json': { schema: ErrorSchema } } }]),
  );
  documented[503] = UNAVAILABLE_RESPONSE.ref;
  return documented;
};

export const json = <T extends z.ZodTypeAny>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});
