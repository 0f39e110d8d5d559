import type { EntityManager } from '@mikro-orm/postgresql';
import type { Context } from 'hono';
import type { Actor } from '../core/actor.ts';
import type { SessionInfo } from '../core/auth/sessions.ts';
import type { Language, Translate } from '../views/i18n/index.ts';

/**
 * What the middleware puts on every request's context. Route modules and (later) plugins are
 * typed `Hono<AppEnv>`, so they read these with `c.var.…` without casts.
 */
export interface AppVariables {
  /** Random per request (or the proxy's X-Request-Id when server.trustProxy is on); shown on 500 pages and in logs. */
  requestId: string;
  lang: Language;
  t: Translate;
  /**
   * The CSRF token for forms (`_csrf`) and htmx (`X-CSRF-Token`). Issues the cookie on first
   * use, so only responses that render a form or page carry a Set-Cookie, never the assets.
   */
  csrfToken: () => string;
  /** Issues a new CSRF token (cookie and value) at once: on login, logout and password change. */
  rotateCsrf: () => string;
  /**
   * Set only on a streamed multipart request whose token the CSRF middleware could not read
   * without buffering the body (see CsrfOptions.streamingPaths): the route's multipart reader
   * checks the `_csrf` field with it before accepting any file.
   */
  verifyCsrf?: (sent: string) => boolean;
  /** The name in the page header (http/branding.ts): configured, or the organisation's. */
  siteName?: string;
  /** This request's unit of work (one `em.fork()` per request). */
  em: EntityManager;
  /** The browser's address: the socket's, or X-Forwarded-For's first hop behind a trusted proxy. */
  clientIp: string | null;
  /** The account a request was served to without loading the session (the thumbnail's hot path), for the access log. */
  servedAccount?: number;
  /** The logged-in session, if the cookie holds a live one. */
  session: SessionInfo | undefined;
  /** The session cookie's value as sent (live or not); to end it on logout or login. */
  sessionToken: string | undefined;
  /** Small numbers beside navigation items (unread messages), by href; set for full pages only. */
  navCounts?: Record<string, number>;
  /** How to count the navigation's unread number when no route set `navCounts` (http/nav.ts). */
  navCount?: () => Promise<number>;
}

export type AppEnv = { Variables: AppVariables };

/** What the login gate (requireLogin in http/middleware/session.ts) guarantees to every route after it. */
export interface AuthedVariables {
  /** The logged-in session (it may still owe a step: the gate lets such a session reach only that step's page). */
  session: SessionInfo;
  /** The session's actor, the first argument of every use case. */
  actor: Actor;
}

/**
 * The context of the routes behind the login gate: session and actor are there by type, so no
 * route asserts that a session is there. Only the gate produces a `Hono<AuthedEnv>` (behindLogin), and
 * the route modules of logged-in pages and the plugins' `routes` take one.
 */
export type AuthedEnv = { Variables: AppVariables & AuthedVariables };

/**
 * A request of either kind, for the helpers that public and logged-in routes share (rendering a
 * page, reading a form). Hono's Context is invariant in its env, so a `Context<AuthedEnv>` is not
 * a `Context<AppEnv>`; such a helper takes this union and reads `c.var` (both carry AppVariables).
 */
export type WebContext = Context<AppEnv> | Context<AuthedEnv>;
