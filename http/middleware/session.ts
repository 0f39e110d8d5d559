import type { Context, Hono, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { lookupSession, type SessionInfo, type SessionSettings } from '../../core/auth/sessions.ts';
import type { Portal } from '../../core/portal.ts';
import { isLanguage, translator } from '../../views/i18n/index.ts';
import { clientIp } from '../client-ip.ts';
import type { AppEnv, AuthedEnv, WebContext } from '../env.ts';
import { setFlash } from '../flash.ts';
import { LANGUAGE_QUERY } from './language.ts';

/**
 * The session cookie: `__Host-portal-session` over https (Secure, Path=/, no Domain, so no
 * sibling subdomain can set or read it), `portal-session` on a plain-http test install. HttpOnly
 * and SameSite=Lax always. No Max-Age: the browser forgets it when it closes; the server ends
 * it after auth.sessionIdleMinutes without a request or auth.sessionAbsoluteHours after login.
 */
export const SESSION_COOKIE = 'portal-session';

/** Everything under it is the JSON API: bearer tokens, never this cookie, never a redirect. */
export const API_PREFIX = '/api/';

export const PATHS = {
  login: '/login',
  logout: '/uitloggen',
  home: '/',
  changePassword: '/wachtwoord-wijzigen',
  secondFactor: '/tweestapsverificatie',
  secondFactorCheck: '/tweestapsverificatie/controle',
} as const;

export function setSessionCookie(c: WebContext, token: string, secure: boolean): void {
  setCookie(c, SESSION_COOKIE, token, {
    path: '/',
    httpOnly: true,
    sameSite: 'Lax',
    secure,
    prefix: secure ? 'host' : undefined,
  });
  // `sessionToken` is the same variable, of the same type, before and behind the gate.
  (c as Context<AppEnv>).set('sessionToken', token);
}

export function clearSessionCookie(c: WebContext, secure: boolean): void {
  deleteCookie(c, SESSION_COOKIE, { path: '/', secure, prefix: secure ? 'host' : undefined });
}

/**
 * Where a session has to go first: the second factor of a login in progress, then the change
 * of a generated password, then (where required) setting up a second factor; else home.
 */
export function landingPath(session: SessionInfo): string {
  if (session.secondFactorPending) return PATHS.secondFactorCheck;
  if (session.mustChangePassword) return PATHS.changePassword;
  if (session.mustEnrolSecondFactor) return PATHS.secondFactor;
  return PATHS.home;
}

/** The only paths a session that still owes a step may use (besides logging out). */
function allowedWhileGated(session: SessionInfo): string | undefined {
  const landing = landingPath(session);
  return landing === PATHS.home ? undefined : landing;
}

export interface SessionOptions {
  secure: boolean;
  trustProxy: boolean;
}

/**
 * On every request: a fresh unit of work, the client's IP, and the session behind the cookie
 * (timeouts, suspension and all are decided in core/auth/sessions.ts). A cookie that no longer
 * opens a session is removed. For a logged-in person the profile language wins over cookie and
 * browser; the language switch (a POST) changes the profile.
 */
export function sessionLoader(
  portal: Pick<Portal, 'em'> & { config: { auth: SessionSettings } },
  options: SessionOptions,
): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const em = portal.em();
    c.set('em', em);
    c.set('clientIp', clientIp(c, options.trustProxy));
    const token = getCookie(c, SESSION_COOKIE, options.secure ? 'host' : undefined);
    c.set('sessionToken', token);
    const session = token ? await lookupSession(em, portal.config.auth, token) : undefined;
    c.set('session', session);
    if (token && !session) clearSessionCookie(c, options.secure);
    if (session) {
      // `?lang=` changes this response only; saving it takes a POST (http/routes/language.ts).
      const asked = c.req.query(LANGUAGE_QUERY);
      const lang = isLanguage(asked) ? asked : session.language;
      c.set('lang', lang);
      c.set('t', translator(lang));
    }
    await next();
  };
}

/**
 * The gate in front of every route registered after it (all but the public pages): no session
 * → 303 to the login page (htmx: 401 with HX-Redirect, so the whole page goes there); a session
 * that owes a step (second factor, forced password change, second-factor set-up) reaches only
 * that step's page.
 */
export function requireLogin(options: { secure: boolean }): MiddlewareHandler<AuthedEnv> {
  // Typed for what it hands on (session and actor present); what it reads is what the session
  // loader left, which may be no session at all: that is what it checks.
  return async (c, next) => {
    const session = (c.var as AppEnv['Variables']).session;
    const htmx = c.req.header('HX-Request') === 'true';
    if (c.req.path.startsWith(API_PREFIX)) {
      // The API answers before this gate (http/app.ts); should a path slip through, an app gets
      // JSON, never the login page, and a cookie opens nothing under /api/.
      return c.json({ error: { code: 'unauthenticated', message: 'a valid bearer token is required' } }, 401);
    }
    if (!session) {
      // A cookie was sent but opens nothing any more: say why on the login page.
      if (c.var.sessionToken) setFlash(c, 'session_ended', options.secure);
      if (htmx) {
        c.header('HX-Redirect', PATHS.login);
        return c.body(null, 401);
      }
      return c.redirect(PATHS.login, 303);
    }
    const only = allowedWhileGated(session);
    if (only && c.req.path !== only) {
      if (htmx) {
        c.header('HX-Redirect', only);
        return c.body(null, 403);
      }
      return c.redirect(only, 303);
    }
    c.set('actor', session.actor);
    await next();
  };
}

/**
 * Puts the login gate in front of every route registered on `app` after this call, and returns
 * the same app typed for those routes: session and actor present (AuthedEnv). Register the
 * logged-in routes on what it returns, never on `app` itself.
 */
export function behindLogin(app: Hono<AppEnv>, options: { secure: boolean }): Hono<AuthedEnv> {
  return app.use(requireLogin(options));
}
