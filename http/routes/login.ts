import type { Context, Hono } from 'hono';
import { login, logout } from '../../core/auth/login.ts';
import type { Throttle } from '../../core/auth/throttle.ts';
import { getOrganisation } from '../../core/directory/organisation.ts';
import type { Portal } from '../../core/portal.ts';
import type { AppEnv } from '../env.ts';
import { setFlash } from '../flash.ts';
import { readForm } from '../forms.ts';
import { clearSessionCookie, landingPath, PATHS, setSessionCookie } from '../middleware/session.ts';
import type { Pages } from '../render.ts';

/** An e-mail address is at most 320 characters; anything longer is not worth echoing back. */
const MAX_EMAIL = 320;

export interface AuthRouteDeps {
  portal: Pick<Portal, 'config' | 'hasher' | 'em' | 'jobs'>;
  pages: Pages;
  throttle: Throttle;
  /** https: Secure and `__Host-` cookies. */
  secure: boolean;
}

type LoginProblem = 'invalid' | 'throttled' | 'suspended';

/**
 * The https address to use instead, when this request came over plain http while the portal is
 * set up for https: its cookies are `__Host-` and Secure, which a browser keeps only over https,
 * so logging in here would silently lead back to this page. The scheme is the request's own,
 * or the proxy's X-Forwarded-Proto when the proxy is trusted (as the CSRF check reads it).
 * For the admin setting the portal up; parents never reach it over http behind a correct proxy.
 */
function httpsInstead(c: Context<AppEnv>, secure: boolean, trustProxy: boolean, publicUrl: string | null | undefined): string | null {
  if (!secure || !publicUrl) return null;
  const forwarded = trustProxy ? c.req.header('X-Forwarded-Proto')?.split(',')[0]?.trim().toLowerCase() : undefined;
  const scheme = forwarded || new URL(c.req.url).protocol.replace(/:$/, '');
  return scheme === 'http' ? `${publicUrl.replace(/\/+$/, '')}${PATHS.login}` : null;
}

/**
 * Logging in and out. Public routes: the login page must work without a session, and logging
 * out must work with a dead one. One message whether the address is unknown or the password
 * wrong, so the form tells strangers nothing about who has an account.
 */
export function loginRoutes(app: Hono<AppEnv>, deps: AuthRouteDeps): void {
  const { portal, pages, throttle, secure } = deps;

  app.get(PATHS.login, async (c) => {
    const session = c.var.session;
    if (session) return c.redirect(landingPath(session), 303);
    const organisation = await getOrganisation(c.var.em);
    return pages.render(c, 'pages/login', {
      organisation: organisation.name,
      email: '',
      failed: false,
      httpsInstead: httpsInstead(c, secure, portal.config.server.trustProxy, portal.config.server.publicUrl ?? organisation.publicUrl),
    });
  });

  app.post(PATHS.login, async (c) => {
    const form = await readForm(c);
    const email = (form['email'] ?? '').trim().slice(0, MAX_EMAIL);
    const result = await login(
      { em: c.var.em, settings: portal.config.auth, hasher: portal.hasher, throttle, mail: portal },
      {
        email,
        password: form['password'] ?? '',
        ip: c.var.clientIp,
        userAgent: c.req.header('User-Agent') ?? null,
        previousToken: c.var.sessionToken,
      },
    );
    if (result.outcome === 'ok') {
      setSessionCookie(c, result.token, secure);
      c.var.rotateCsrf();
      const next =
        result.secondFactor === 'verify'
          ? PATHS.secondFactorCheck
          : result.mustChangePassword
            ? PATHS.changePassword
            : result.secondFactor === 'enrol'
              ? PATHS.secondFactor
              : PATHS.home;
      return c.redirect(next, 303);
    }
    // The old cookie (if any) was ended by the attempt only on success; a failed attempt
    // leaves a logged-in browser as it was.
    const organisation = await getOrganisation(c.var.em);
    const failed: LoginProblem = result.outcome;
    if (result.outcome === 'throttled') c.header('Retry-After', String(result.retryAfterSeconds));
    const status = result.outcome === 'throttled' ? 429 : result.outcome === 'suspended' ? 403 : 401;
    return pages.render(
      c,
      'pages/login',
      {
        organisation: organisation.name,
        email,
        failed,
        httpsInstead: httpsInstead(c, secure, portal.config.server.trustProxy, portal.config.server.publicUrl ?? organisation.publicUrl),
      },
      status,
    );
  });

  app.post(PATHS.logout, async (c) => {
    await logout(c.var.em, c.var.sessionToken, c.var.session, c.var.clientIp);
    clearSessionCookie(c, secure);
    c.var.rotateCsrf();
    setFlash(c, 'logged_out', secure);
    return c.redirect(PATHS.login, 303);
  });
}
