import type { Context, Hono } from 'hono';
import {
  beginEnrolment,
  confirmEnrolment,
  disableSecondFactor,
  mayDisableSecondFactor,
  regenerateRecoveryCodes,
  verifySecondFactor,
} from '../../core/auth/second-factor.ts';
import { isStaffAccount, type SessionInfo } from '../../core/auth/sessions.ts';
import { RecoveryCode } from '../../core/entities/account.ts';
import { getOrganisation } from '../../core/directory/organisation.ts';
import type { AuthedEnv } from '../env.ts';
import { setFlash } from '../flash.ts';
import { readForm } from '../forms.ts';
import { landingPath, PATHS, setSessionCookie } from '../middleware/session.ts';
import type { AuthRouteDeps } from './login.ts';

const DISABLE_PATH = `${PATHS.secondFactor}/uitschakelen`;
const CODES_PATH = `${PATHS.secondFactor}/herstelcodes`;

/**
 * Second factor for staff: set up (key to type into an authenticator app, or the otpauth:// link
 * that opens the app on the same phone), the code after the password at login, recovery codes,
 * switching off. Behind the login gate; a session whose login waits for its code reaches only
 * the check page.
 */
export function secondFactorRoutes(app: Hono<AuthedEnv>, deps: AuthRouteDeps): void {
  const { portal, pages, throttle, secure } = deps;
  const sfDeps = (c: Context<AuthedEnv>) => ({ em: c.var.em, throttle });

  const checkPage = async (c: Context<AuthedEnv>, error?: string, status: 200 | 422 | 429 = 200) => {
    return pages.render(c, 'pages/second-factor-check', { error }, status);
  };

  app.get(PATHS.secondFactorCheck, (c) => {
    if (!c.var.session.secondFactorPending) return c.redirect(landingPath(c.var.session), 303);
    return checkPage(c);
  });

  app.post(PATHS.secondFactorCheck, async (c) => {
    const session = c.var.session;
    if (!session.secondFactorPending) return c.redirect(landingPath(session), 303);
    const form = await readForm(c, 100);
    const result = await verifySecondFactor(sfDeps(c), session, {
      code: form['code'] ?? '',
      ip: c.var.clientIp,
      userAgent: c.req.header('User-Agent') ?? null,
    });
    if (!result.ok) {
      return checkPage(c, `secondFactor.problem.${result.problem}`, result.problem === 'throttled' ? 429 : 422);
    }
    setSessionCookie(c, result.token, secure);
    c.var.rotateCsrf();
    const next = session.mustChangePassword ? PATHS.changePassword : PATHS.home;
    return c.redirect(next, 303);
  });

  const settingsPage = async (
    c: Context<AuthedEnv>,
    session: SessionInfo,
    error?: string,
    status: 200 | 422 | 429 = 200,
    codesError?: string,
  ) => {
    const account = session.account;
    if (!account.totpEnabledAt) {
      // The authenticator app shows this name beside the code.
      const organisation = await getOrganisation(c.var.em);
      const enrolment = await beginEnrolment(c.var.em, session, organisation.name);
      return pages.render(
        c,
        'pages/second-factor-enrol',
        { enrolment, required: session.mustEnrolSecondFactor, error },
        status,
      );
    }
    const codesLeft = await c.var.em.count(RecoveryCode, { account: account.id, usedAt: null });
    return pages.render(
      c,
      'pages/second-factor-status',
      {
        codesLeft,
        mayDisable: mayDisableSecondFactor(portal.config.auth, session),
        error,
        codesError,
      },
      status,
    );
  };

  const staffOnly = (c: Context<AuthedEnv>) => isStaffAccount(c.var.session.account);

  app.get(PATHS.secondFactor, (c) => {
    if (!staffOnly(c)) return c.notFound();
    return settingsPage(c, c.var.session);
  });

  app.post(PATHS.secondFactor, async (c) => {
    const session = c.var.session;
    if (!staffOnly(c)) return c.notFound();
    if (session.account.totpEnabledAt) return c.redirect(PATHS.secondFactor, 303);
    const form = await readForm(c, 100);
    const result = await confirmEnrolment(sfDeps(c), session, { code: form['code'] ?? '', ip: c.var.clientIp });
    if (!result.ok) {
      return settingsPage(c, session, `secondFactor.problem.${result.problem}`, result.problem === 'throttled' ? 429 : 422);
    }
    // Shown once, straight in the answer to this POST: the codes are stored only as hashes.
    return pages.render(c, 'pages/second-factor-codes', {
      codes: result.recoveryCodes,
      enabled: true,
    });
  });

  app.post(CODES_PATH, async (c) => {
    const session = c.var.session;
    if (!staffOnly(c) || !session.account.totpEnabledAt) return c.notFound();
    // Only with the password or an app code, now or in the last five minutes: not with the cookie alone.
    const form = await readForm(c);
    const result = await regenerateRecoveryCodes({ em: c.var.em, throttle, hasher: portal.hasher }, session, {
      proof: form['codesProof'] ?? '',
      ip: c.var.clientIp,
    });
    if (!result.ok) {
      const status = result.problem === 'throttled' ? 429 : 422;
      return settingsPage(c, session, undefined, status, `secondFactor.problem.${result.problem}`);
    }
    return pages.render(c, 'pages/second-factor-codes', { codes: result.codes, enabled: false });
  });

  app.post(DISABLE_PATH, async (c) => {
    const session = c.var.session;
    if (!staffOnly(c) || !session.account.totpEnabledAt || !mayDisableSecondFactor(portal.config.auth, session)) {
      return c.notFound();
    }
    const form = await readForm(c);
    const result = await disableSecondFactor(
      { em: c.var.em, throttle, hasher: portal.hasher, settings: portal.config.auth },
      session,
      { currentPassword: form['currentPassword'] ?? '', ip: c.var.clientIp },
    );
    if (!result.ok) {
      return settingsPage(c, session, `secondFactor.problem.${result.problem}`, result.problem === 'throttled' ? 429 : 422);
    }
    setFlash(c, 'second_factor_disabled', secure);
    return c.redirect(PATHS.secondFactor, 303);
  });
}

export { CODES_PATH, DISABLE_PATH };
