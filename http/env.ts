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
}

export type AppEnv = { Variables: AppVariables };
