import type { MiddlewareHandler } from 'hono';
import { DomainError, type ErrorDetail } from '../../core/errors.ts';
import { isStorableText, UNSTORABLE_TEXT, unstorableStrings } from '../../core/validation.ts';
import type { AppEnv } from '../env.ts';
import { API_PREFIX } from './session.ts';

/**
 * The edge's half of "bad text never reaches the database as a crash" (the other half: the text
 * schemas of core/validation.ts, which give a form its field error). Query strings, and bodies
 * sent as JSON or as an urlencoded form, are decoded strictly here: bytes that are not UTF-8
 * (the platform would quietly turn them into U+FFFD), a NUL byte (PostgreSQL refuses it in
 * text) or a lone surrogate (a JSON `"\ud800"`: no character at all) are answered with a 422
 * validation error naming the field, before any route runs.
 *
 * Pages are the exception for a NUL or a lone surrogate in a form body: a person can paste
 * those, and the form's schema then shows the error next to the field. Bytes that are not UTF-8
 * are never typed into a page of ours (the browser encodes the form as UTF-8), so a page gets
 * the 422 error page for those. Multipart bodies (uploads, messages with an attachment) stream
 * past; their text fields go through the same schemas, and core/db/errors.ts badTextError turns
 * anything the database still refuses into a 422.
 */

/** Longer query strings are no link of ours (the longest carry a reset token or a return path). */
export const MAX_QUERY_LENGTH = 4096;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

const problem = (path: string, message: string): ErrorDetail => ({ path, message });
const NOT_UTF8 = 'is not valid UTF-8';

/**
 * Percent-decodes as application/x-www-form-urlencoded (`+` is a space), each run of `%XX` as
 * strict UTF-8; null when a run is not UTF-8. The text around the runs is already a string (the
 * URL is ASCII, the body was decoded strictly).
 */
function decodeComponent(raw: string): string | null {
  let ok = true;
  const out = raw.replace(/\+/g, ' ').replace(/(?:%[0-9a-fA-F]{2})+/g, (run) => {
    try {
      return strictUtf8.decode(Uint8Array.from(run.slice(1).split('%'), (hex) => Number.parseInt(hex, 16)));
    } catch {
      ok = false;
      return '';
    }
  });
  return ok ? out : null;
}

/** The problems of an urlencoded string (a query string or a form body); `prefix` names where. */
function urlencodedProblems(encoded: string, prefix: string): ErrorDetail[] {
  const out: ErrorDetail[] = [];
  for (const pair of encoded.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const rawName = eq < 0 ? pair : pair.slice(0, eq);
    const name = decodeComponent(rawName);
    const value = eq < 0 ? '' : decodeComponent(pair.slice(eq + 1));
    // The field's name as sent, if it is readable; never its value (it may be personal data).
    const path = `${prefix}${name !== null && isStorableText(name) ? name : '(name)'}`;
    if (name === null || value === null) out.push(problem(path, NOT_UTF8));
    else if (!isStorableText(name) || !isStorableText(value)) out.push(problem(path, UNSTORABLE_TEXT));
  }
  return out;
}

/** Whether a media type is JSON (`application/json`, `application/problem+json`, with parameters). */
const isJson = (type: string) => /^application\/([\w.-]+\+)?json\b/i.test(type);
const isUrlencoded = (type: string) => /^application\/x-www-form-urlencoded\b/i.test(type);

export function textGuard(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const api = c.req.path.startsWith(API_PREFIX);
    const problems: ErrorDetail[] = [];

    const url = c.req.url;
    const q = url.indexOf('?');
    if (q >= 0) {
      const query = url.slice(q + 1).split('#')[0]!;
      if (query.length > MAX_QUERY_LENGTH) problems.push(problem('query', `is longer than ${MAX_QUERY_LENGTH} characters`));
      else problems.push(...urlencodedProblems(query, 'query.'));
    }

    const type = c.req.header('Content-Type') ?? '';
    if (problems.length === 0 && c.req.method !== 'GET' && c.req.method !== 'HEAD' && (isJson(type) || isUrlencoded(type))) {
      // After the body limit (app.ts), so at most that much is read; Hono keeps the bytes for the
      // route (c.req.json(), parseBody() read them from its cache).
      const bytes = new Uint8Array(await c.req.arrayBuffer());
      let text: string | null;
      try {
        text = strictUtf8.decode(bytes);
      } catch {
        text = null;
      }
      if (text === null) {
        problems.push(problem('body', NOT_UTF8));
      } else if (isUrlencoded(type)) {
        // Pages leave NUL and lone surrogates in a form to the form's schema (see above).
        const found = urlencodedProblems(text, '');
        problems.push(...(api ? found : found.filter((p) => p.message === NOT_UTF8)));
      } else if (text.trim() !== '') {
        // JSON escapes (`\u0000`, `\ud800`) only show once parsed. Malformed JSON is the route's
        // to refuse, as it always was.
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = undefined;
        }
        // Paths as the API's validation errors name them (`text`, `lines.0`; http/api/errors.ts).
        for (const path of unstorableStrings(parsed)) problems.push(problem(path || 'body', UNSTORABLE_TEXT));
      }
    }

    if (problems.length) {
      // Under /api/ the API's JSON 422 (http/api/errors.ts), elsewhere the 422 error page.
      throw new DomainError('validation', problems.map((p) => `${p.path}: ${p.message}`).join('; '), problems);
    }
    await next();
  };
}
