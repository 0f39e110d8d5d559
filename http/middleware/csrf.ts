import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { HTTPException } from 'hono/http-exception';
import type { AppEnv } from '../env.ts';

export const CSRF_COOKIE = 'portal-csrf';
export const CSRF_FIELD = '_csrf';
export const CSRF_HEADER = 'X-CSRF-Token';

const TOKEN_BYTES = 32;
const tokenShape = /^[A-Za-z0-9_-]{43}$/; // 32 bytes, base64url
const maskedShape = /^[A-Za-z0-9_-]{86}$/; // a pad and the token XOR the pad: 64 bytes

/**
 * The token as a page carries it: a fresh random pad, then the token XOR that pad, so the bytes
 * differ on every page while they unmask to the same token. Pages are compressed, and a page
 * that repeats what a visitor typed (a search) beside a constant secret would let its compressed
 * length give the secret away, character by character (BREACH).
 */
export function maskToken(token: string): string {
  const raw = Buffer.from(token, 'base64url');
  const pad = randomBytes(raw.length);
  const masked = Buffer.alloc(raw.length);
  for (let i = 0; i < raw.length; i++) masked[i] = raw[i]! ^ pad[i]!;
  return Buffer.concat([pad, masked]).toString('base64url');
}

/** The token a page sent: unmasked, or as it is when a script sends the cookie's value itself. */
function unmask(sent: string): string | undefined {
  if (tokenShape.test(sent)) return sent;
  if (!maskedShape.test(sent)) return undefined;
  const bytes = Buffer.from(sent, 'base64url');
  const pad = bytes.subarray(0, TOKEN_BYTES);
  const masked = bytes.subarray(TOKEN_BYTES);
  const raw = Buffer.alloc(TOKEN_BYTES);
  for (let i = 0; i < TOKEN_BYTES; i++) raw[i] = masked[i]! ^ pad[i]!;
  return raw.toString('base64url');
}
const safeMethods = new Set(['GET', 'HEAD']);

/** A request refused by the CSRF check; the error handler shows the "form expired" page. */
export class CsrfError extends HTTPException {
  constructor(readonly reason: string) {
    super(403, { message: `CSRF check failed: ${reason}` });
    this.name = 'CsrfError';
  }
}

export interface CsrfOptions {
  /** Served over https: the cookie becomes `__Host-portal-csrf` (Secure, Path=/, no Domain). */
  secure: boolean;
  /** Origin of server.publicUrl, e.g. https://ouders.example.nl. */
  publicOrigin: string | undefined;
  /** Believe X-Forwarded-Proto/-Host when working out the request's own origin. */
  trustProxy: boolean;
  /**
   * Paths whose multipart bodies are streamed (photo uploads). Their token is checked by the
   * route's multipart reader (http/multipart.ts) from the first form field, before any file is
   * accepted: reading it here would mean buffering the whole upload in memory.
   */
  streamingPaths?: readonly string[];
  /**
   * Paths whose POSTs carry their own authorization instead of a session cookie, so there is
   * no ambient authority to forge (the signed one-click unsubscribe link, RFC 8058, which a mail
   * program posts without our cookie). Keep this list short and each entry argued.
   */
  exempt?: (path: string) => boolean;
}

/**
 * Two independent locks on every request that is not GET/HEAD:
 * 1. the browser says where the request comes from (Sec-Fetch-Site, Origin): anything but
 *    this site is refused, which stops cross-site forms in every current browser;
 * 2. a double-submit token: a random value in an HttpOnly SameSite=Lax cookie that the page
 *    repeats in the `_csrf` field or the X-CSRF-Token header (htmx). Another site can neither
 *    read our cookie nor, thanks to the `__Host-` prefix, plant one from a sibling subdomain.
 * Tokens are compared in constant time. Requests without Origin and Sec-Fetch-Site (old
 * browsers, scripts) still need the token.
 */
export function csrf(options: CsrfOptions): MiddlewareHandler<AppEnv> {
  const prefix = options.secure ? ('host' as const) : undefined;
  return async (c, next) => {
    const fromCookie = getCookie(c, CSRF_COOKIE, prefix);
    let token = fromCookie && tokenShape.test(fromCookie) ? fromCookie : undefined;
    const issue = () => {
      token = randomBytes(TOKEN_BYTES).toString('base64url');
      setCookie(c, CSRF_COOKIE, token, { path: '/', httpOnly: true, sameSite: 'Lax', secure: options.secure, prefix });
      return token;
    };
    c.set('csrfToken', () => maskToken(token ?? issue()));
    // A new token when who is behind the browser changes (login, logout, password change): a
    // token seen or planted before the login is worth nothing after it.
    c.set('rotateCsrf', issue);

    if (safeMethods.has(c.req.method)) return next();
    if (options.exempt?.(c.req.path)) return next();

    const site = c.req.header('Sec-Fetch-Site');
    if (site !== undefined && site !== 'same-origin' && site !== 'none') throw new CsrfError(`Sec-Fetch-Site ${site}`);
    const origin = c.req.header('Origin');
    if (origin !== undefined && !allowedOrigins(c, options).includes(origin)) throw new CsrfError(`Origin ${origin}`);

    if (!token) throw new CsrfError('no token cookie');
    const header = c.req.header(CSRF_HEADER);
    const expected = token;
    if (header === undefined && isStreamedUpload(c, options)) {
      c.set('verifyCsrf', (sent: string) => sameToken(sent, expected));
      return next();
    }
    const sent = header ?? (await tokenFromForm(c));
    if (!sent) throw new CsrfError('no token sent');
    if (!sameToken(sent, token)) throw new CsrfError('token mismatch');
    await next();
  };
}

/**
 * The configured public origin and the origin the request itself was addressed to (behind a
 * trusted proxy: as the proxy saw it). The second keeps a test install on http://127.0.0.1
 * working; it is safe because a cross-site page cannot make the browser send our Host with
 * its own Origin.
 */
function allowedOrigins(c: Context<AppEnv>, options: CsrfOptions): string[] {
  const url = new URL(c.req.url);
  if (options.trustProxy) {
    const proto = c.req.header('X-Forwarded-Proto')?.split(',')[0]?.trim();
    const host = c.req.header('X-Forwarded-Host')?.split(',')[0]?.trim();
    if (proto === 'http' || proto === 'https') url.protocol = `${proto}:`;
    if (host) url.host = host;
  }
  return options.publicOrigin ? [options.publicOrigin, url.origin] : [url.origin];
}

function isStreamedUpload(c: Context<AppEnv>, options: CsrfOptions): boolean {
  return (
    (options.streamingPaths?.includes(c.req.path) ?? false) && /^multipart\/form-data\b/i.test(c.req.header('Content-Type') ?? '')
  );
}

async function tokenFromForm(c: Context<AppEnv>): Promise<string | undefined> {
  const type = c.req.header('Content-Type') ?? '';
  if (!/^(application\/x-www-form-urlencoded|multipart\/form-data)\b/i.test(type)) return undefined;
  try {
    // Hono keeps the parsed form, so the route's own parseBody() does not read the body twice.
    const value = (await c.req.parseBody())[CSRF_FIELD];
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined; // a body that does not parse carries no token either
  }
}

function sameToken(sent: string, expected: string): boolean {
  const token = unmask(sent);
  if (token === undefined) return false;
  const a = Buffer.from(token);
  const b = Buffer.from(expected);
  // The length of a token is no secret (always 43), so returning early on it leaks nothing.
  return a.length === b.length && timingSafeEqual(a, b);
}
