import type { Context, Hono } from 'hono';
import { changePassword, checkNewPassword } from '../../core/auth/password-change.ts';
import { findResetToken, RESET_PATH, requestPasswordReset, resetPassword, validityText } from '../../core/auth/password-reset.ts';
import { recentlyReauthenticated, type SessionInfo } from '../../core/auth/sessions.ts';
import { clockOf } from '../../core/clock.ts';
import type { AppEnv, AuthedEnv } from '../env.ts';
import { setFlash } from '../flash.ts';
import { isHtmx, readForm, seeOther } from '../forms.ts';
import { PATHS, setSessionCookie } from '../middleware/session.ts';
import type { AuthRouteDeps } from './login.ts';

export const FORGOT_PATH = '/wachtwoord-vergeten';
export const PROFILE_PATH = '/mijn-gegevens';

/** Field name → message key; what a form template shows next to each field. */
type Errors = Partial<Record<'currentPassword' | 'newPassword' | 'confirmPassword' | 'email', string>>;

const problemKey = (problem: string) => `password.problem.${problem}`;

/** A plausible address: something@something.something. The real check is whether it has an account. */
const EMAIL_SHAPE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** The password pages that need no session: "forgot password" and the link from its mail. */
export function passwordResetRoutes(app: Hono<AppEnv>, deps: AuthRouteDeps): void {
  const { portal, pages, throttle, secure } = deps;
  const validity = (c: Context<AppEnv>) => validityText(c.var.lang, portal.config.auth.resetLinkMinutes);

  const forgotPage = async (c: Context<AppEnv>, email: string, errors: Errors, status: 200 | 422 = 200) => {
    return pages.render(
      c,
      'pages/forgot-password',
      { email, errors, flashParams: { validity: validity(c) } },
      status,
    );
  };

  app.get(FORGOT_PATH, (c) => forgotPage(c, '', {}));

  app.post(FORGOT_PATH, async (c) => {
    const form = await readForm(c);
    const email = (form['email'] ?? '').trim().slice(0, 320);
    if (email === '') return forgotPage(c, email, { email: 'forgot.problem.required' }, 422);
    if (!EMAIL_SHAPE.test(email)) return forgotPage(c, email, { email: 'forgot.problem.invalid' }, 422);
    await requestPasswordReset({ em: c.var.em, mail: portal, throttle }, { email, ip: c.var.clientIp });
    // The same redirect and message whether or not the address is known.
    setFlash(c, 'reset_requested', secure);
    return c.redirect(FORGOT_PATH, 303);
  });

  const resetPage = async (c: Context<AppEnv>, token: string, email: string, errors: Errors, status: 200 | 422 = 200) => {
    return pages.render(c, 'pages/reset-password', { token, email, errors }, status);
  };
  const invalidLink = async (c: Context<AppEnv>) => {
    return pages.render(c, 'pages/reset-invalid', { validity: validity(c) }, 410);
  };

  app.get(`${RESET_PATH}:token`, async (c) => {
    const token = c.req.param('token');
    const account = await findResetToken(c.var.em, token);
    if (!account) return invalidLink(c);
    return resetPage(c, token, account.email, {});
  });

  app.post(`${RESET_PATH}:token`, async (c) => {
    const token = c.req.param('token');
    const form = await readForm(c);
    const newPassword = form['newPassword'] ?? '';
    const confirm = form['confirmPassword'] ?? '';
    const account = await findResetToken(c.var.em, token);
    if (!account) return invalidLink(c);
    if (newPassword !== confirm) {
      const policy = await checkNewPassword(c.var.em, account, newPassword);
      const errors: Errors = { confirmPassword: problemKey('mismatch') };
      if (policy) errors.newPassword = problemKey(policy);
      return resetPage(c, token, account.email, errors, 422);
    }
    const result = await resetPassword(
      { em: c.var.em, hasher: portal.hasher, throttle },
      { token, newPassword, ip: c.var.clientIp },
    );
    if (result.ok) {
      setFlash(c, 'password_reset', secure);
      return c.redirect(PATHS.login, 303);
    }
    if (result.invalidToken) return invalidLink(c);
    const errors: Errors = {};
    for (const p of result.problems) errors[p.field] = problemKey(p.problem);
    return resetPage(c, token, account.email, errors, 422);
  });
}

/**
 * Changing one's own password (behind the login gate). The same page serves the forced change
 * after a generated password (no current password asked) and the change from "Mijn gegevens".
 * With htmx the form is swapped in place, errors included (htmx 4 swaps 422 responses).
 */
export function passwordChangeRoutes(app: Hono<AuthedEnv>, deps: AuthRouteDeps): void {
  const { portal, pages, throttle, secure } = deps;

  const render = async (c: Context<AuthedEnv>, session: SessionInfo, errors: Errors, status: 200 | 422 = 200) => {
    const data = {
      forced: session.mustChangePassword,
      askCurrent: !recentlyReauthenticated(session, clockOf(c.var.em).now()),
      email: session.account.email,
      errors,
    };
    if (isHtmx(c)) return pages.render(c, 'partials/password-change-form', data, status);
    return pages.render(c, 'pages/password-change', data, status);
  };

  app.get(PATHS.changePassword, (c) => render(c, c.var.session, {}));

  app.post(PATHS.changePassword, async (c) => {
    const session = c.var.session;
    const form = await readForm(c);
    const newPassword = form['newPassword'] ?? '';
    const confirm = form['confirmPassword'] ?? '';
    if (newPassword !== confirm) {
      // Nothing is changed (or checked against the current password) until both fields agree.
      const policy = await checkNewPassword(c.var.em, session.account, newPassword);
      const errors: Errors = { confirmPassword: problemKey('mismatch') };
      if (policy) errors.newPassword = problemKey(policy);
      return render(c, session, errors, 422);
    }
    const wasForced = session.mustChangePassword;
    const result = await changePassword({ em: c.var.em, hasher: portal.hasher, throttle }, session, {
      currentPassword: form['currentPassword'] ?? '',
      newPassword,
      ip: c.var.clientIp,
      userAgent: c.req.header('User-Agent') ?? null,
    });
    if (!result.ok) {
      const errors: Errors = {};
      for (const p of result.problems) errors[p.field] = problemKey(p.problem);
      return render(c, session, errors, 422);
    }
    setSessionCookie(c, result.token, secure);
    c.var.rotateCsrf();
    setFlash(c, 'password_changed', secure);
    const next = session.mustEnrolSecondFactor ? PATHS.secondFactor : wasForced ? PATHS.home : PROFILE_PATH;
    return seeOther(c, next);
  });
}
