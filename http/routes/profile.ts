import { sideOf } from '../../core/access/index.ts';
import { Readable } from 'node:stream';
import type { Context, Hono } from 'hono';
import { listOwnApiTokens, revokeOwnApiToken } from '../../core/auth/api-tokens.ts';
import { mayDisableSecondFactor } from '../../core/auth/second-factor.ts';
import { isStaffAccount } from '../../core/auth/sessions.ts';
import type { Logger } from '../../core/log.ts';
import { DETAIL_FIELDS, type DetailsInput, getOwnProfile, updateOwnDetails, updateOwnLanguage } from '../../core/profile/details.ts';
import { confirmEmailChange, EMAIL_CHANGE_PATH, findEmailChange, requestEmailChange } from '../../core/profile/email-change.ts';
import { yearBookPath } from '../../core/yearbook/offer.ts';
import { yearBookChildren } from '../../core/yearbook/window.ts';
import { DATA_EXPORT_PATH, leavingChildren, openOwnDataExport, ownDataExportStatus, requestOwnDataExport } from '../../core/gdpr/self-service.ts';
import { DOWNLOAD_HISTORY_DAYS, downloadsOfMyChildren } from '../../core/photos/my-children-downloads.ts';
import { myLocations } from '../../core/profile/my-locations.ts';
import { findUnsubscribe, isNotificationMode, setNotificationMode, UNSUBSCRIBE_PATH, unsubscribe } from '../../core/profile/notifications.ts';
import { validityText } from '../../core/auth/password-reset.ts';
import { isLanguage, translator } from '../../views/i18n/index.ts';
import type { AppEnv, AuthedEnv } from '../env.ts';
import { setFlash } from '../flash.ts';
import { readForm } from '../forms.ts';
import type { LocationSection } from '../location-sections.ts';
import { LANGUAGE_QUERY } from '../middleware/language.ts';
import { clearSessionCookie, PATHS } from '../middleware/session.ts';
import type { Portal } from '../../core/portal.ts';
import type { AuthRouteDeps } from './login.ts';
import { PROFILE_PATH } from './password.ts';
import { clockTime, dayHeading, dayInSentence } from './photos.ts';
import { pushCard, pushRoutes } from './push.ts';
import { calendarFeedCard } from './calendar-feed.ts';

export const EMAIL_PATH = `${PROFILE_PATH}/e-mailadres`;
export const LANGUAGE_PATH = `${PROFILE_PATH}/taal`;
export const NOTIFICATIONS_PATH = `${PROFILE_PATH}/meldingen`;
export const LOCATION_PATH = '/mijn-vestiging';
export const DOWNLOADS_PATH = `${PROFILE_PATH}/downloads`;
export const DATA_EXPORT_REQUEST_PATH = `${PROFILE_PATH}/gegevens-downloaden`;
/** POST `${APPS_PATH}/<token id>/afmelden`: signs the app out on one device. */
export const APPS_PATH = `${PROFILE_PATH}/apps`;

export interface ProfileRouteDeps extends AuthRouteDeps {
  /** Plus the exports store: the ZIP behind a mailed link may have been built on another node. */
  portal: AuthRouteDeps['portal'] & Pick<Portal, 'exports'>;
  log: Logger;
  locationSections: readonly LocationSection[];
  /** The hashed URL of views/static/push.js (the "on this device" button). */
  pushScript?: string;
}

type Errors = Record<string, string>;

/** "18:00" for notifications.digestHour 18. */
const hourText = (hour: number) => `${String(hour).padStart(2, '0')}:00`;

/**
 * Mijn gegevens and mijn vestiging (behind the login gate). Every form acts on the logged-in
 * person only: no form carries an id, so there is nothing to change into someone else's.
 */
export function profileRoutes(app: Hono<AuthedEnv>, deps: ProfileRouteDeps): void {
  const { portal, pages, throttle, secure } = deps;

  const profilePage = async (c: Context<AuthedEnv>, values?: DetailsInput, errors: Errors = {}, status: 200 | 422 = 200) => {
    const session = c.var.session;
    const profile = await getOwnProfile(c.var.em, session.actor);
    const staff = isStaffAccount(session.account);
    const isParent = sideOf(session.actor) === 'parent';
    const exportStatus = isParent ? await ownDataExportStatus(c.var.em, session.actor) : null;
    const leaving = isParent ? await leavingChildren(c.var.em, session.actor, portal.config.retention.leaverGraceDays) : [];
    const yearBooks = isParent ? await yearBookChildren(c.var.em, session.actor, portal.config.retention.leaverGraceDays) : [];
    const date = (iso: string) => dayInSentence(c, `${iso}T12:00:00Z`);
    // Mid-sentence: "vandaag om 14:03", "maandag 23 november om 9:30" (but English "Monday").
    const when = (d: Date) => c.var.t('profile.when', { day: dayInSentence(c, d.toISOString()), time: clockTime(d) });
    return pages.render(
      c,
      'pages/profile',
      {
        profile,
        values: values ?? profile,
        errors,
        digestHour: hourText(portal.config.notifications.digestHour),
        staff,
        secondFactorOn: Boolean(session.account.totpEnabledAt),
        secondFactorRequired: staff && !mayDisableSecondFactor(portal.config.auth, session),
        yearBooks: yearBooks.map((b) => ({ child: b.firstName, href: yearBookPath(b.id) })),
        leaving: leaving.map((l) => ({ child: l.firstName, leftOn: date(l.leftOn), until: date(l.availableUntil) })),
        dataExport: exportStatus && {
          at: when(exportStatus.requestedAt),
          readyAt: exportStatus.readyAt,
          until: exportStatus.expiresAt ? when(exportStatus.expiresAt) : '',
        },
        appTokens: (await listOwnApiTokens(c.var.em, session.actor)).map((t) => ({
          id: t.id,
          name: t.name,
          created: dayHeading(c, t.createdAt.toISOString()),
          lastUsedDay: dayHeading(c, t.lastUsedAt.toISOString()),
          lastUsedTime: clockTime(t.lastUsedAt),
        })),
        push: { ...(await pushCard(c)), script: deps.pushScript ?? '' },
        calendarFeed: isParent ? await calendarFeedCard(c) : null,
      },
      status,
    );
  };

  app.get(PROFILE_PATH, (c) => profilePage(c));
  pushRoutes(app, { secure, renderProfile: (c, errors) => profilePage(c, undefined, errors, 422) });

  app.post(DATA_EXPORT_REQUEST_PATH, async (c) => {
    await requestOwnDataExport(c.var.em, portal, c.var.actor);
    setFlash(c, 'data_export_requested', secure);
    return c.redirect(PROFILE_PATH, 303);
  });

  // The mailed link: only for the logged-in parent it was made for (core says 404 otherwise).
  app.get(`${DATA_EXPORT_PATH}:token`, async (c) => {
    const file = await openOwnDataExport(c.var.em, portal, c.var.actor, c.req.param('token'));
    return c.body(Readable.toWeb(await file.open()) as ReadableStream, 200, {
      'Content-Type': 'application/zip',
      'Content-Length': String(file.size),
      'Content-Disposition': `attachment; filename="${file.filename}"`,
      'Cache-Control': 'no-store',
    });
  });

  // "Afmelden op dit apparaat": core revokes only the person's own token; any other id is a no-op.
  app.post(`${APPS_PATH}/:id/afmelden`, async (c) => {
    const id = c.req.param('id');
    if (/^\d{1,9}$/.test(id) && (await revokeOwnApiToken(c.var.em, c.var.actor, Number(id), c.var.clientIp))) {
      setFlash(c, 'app_signed_out', secure);
    }
    return c.redirect(PROFILE_PATH, 303);
  });

  // Who downloaded photos of my child: parents only (core refuses anyone else).
  app.get(DOWNLOADS_PATH, async (c) => {
    const downloads = await downloadsOfMyChildren(c.var.em, c.var.actor);
    return pages.render(c, 'pages/my-downloads', {
      days: DOWNLOAD_HISTORY_DAYS,
      downloads: downloads.map((d) => ({
        child: d.childFirstName,
        day: dayHeading(c, d.at.toISOString()),
        time: clockTime(d.at),
        by: `downloads.by.${d.by}`,
        photoDay: dayHeading(c, d.photoTakenAt.toISOString()),
        photoHref: `/fotos/${d.photoId}`,
      })),
    });
  });

  app.post(PROFILE_PATH, async (c) => {
    const session = c.var.session;
    if (sideOf(session.actor) !== 'parent') return c.redirect(PROFILE_PATH, 303);
    const form = await readForm(c, 300);
    const input: DetailsInput = {};
    for (const f of DETAIL_FIELDS) input[f] = form[f] ?? '';
    const result = await updateOwnDetails(c.var.em, session.actor, input, { ip: c.var.clientIp });
    if (!result.ok) {
      const errors: Errors = {};
      for (const [field, problem] of Object.entries(result.problems)) errors[field] = `profile.problem.${problem}`;
      for (const f of ['firstName', 'lastName'] as const) {
        if (result.problems[f] === 'required') errors[f] = `profile.problem.${f}Required`;
      }
      return profilePage(c, input, errors, 422);
    }
    setFlash(c, 'details_saved', secure);
    return c.redirect(PROFILE_PATH, 303);
  });

  app.post(LANGUAGE_PATH, async (c) => {
    const session = c.var.session;
    const language = (await readForm(c))['language'];
    if (isLanguage(language)) {
      await updateOwnLanguage(c.var.em, session.actor, language);
      setFlash(c, 'language_saved', secure);
    }
    return c.redirect(PROFILE_PATH, 303);
  });

  app.post(NOTIFICATIONS_PATH, async (c) => {
    const session = c.var.session;
    const mode = (await readForm(c))['notificationMode'];
    if (sideOf(session.actor) === 'parent' && isNotificationMode(mode)) {
      await setNotificationMode(c.var.em, session.actor, mode, { ip: c.var.clientIp });
      setFlash(c, 'notifications_saved', secure);
    }
    return c.redirect(PROFILE_PATH, 303);
  });

  const emailPage = async (c: Context<AuthedEnv>, newEmail: string, errors: Errors, status: 200 | 422 | 429 = 200) => {
    const session = c.var.session;
    return pages.render(
      c,
      'pages/email-change',
      {
        email: session.account.email,
        newEmail,
        errors,
        validity: validityText(c.var.lang, portal.config.auth.emailChangeLinkHours * 60),
      },
      status,
    );
  };

  app.get(EMAIL_PATH, async (c) => {
    if (!c.var.session.account.parent) return c.redirect(PROFILE_PATH, 303);
    return emailPage(c, '', {});
  });

  app.post(EMAIL_PATH, async (c) => {
    const session = c.var.session;
    if (!session.account.parent) return c.redirect(PROFILE_PATH, 303);
    const form = await readForm(c);
    const newEmail = (form['newEmail'] ?? '').trim().slice(0, 320);
    const result = await requestEmailChange({ em: c.var.em, mail: portal, hasher: portal.hasher, throttle }, session, {
      newEmail,
      currentPassword: form['currentPassword'] ?? '',
      ip: c.var.clientIp,
    });
    if (!result.ok) {
      const errors: Errors = {};
      if (result.problems.newEmail) errors['newEmail'] = `emailChange.problem.${result.problems.newEmail}`;
      if (result.problems.currentPassword) errors['currentPassword'] = `password.problem.${result.problems.currentPassword}`;
      return emailPage(c, newEmail, errors, result.problems.newEmail === 'throttled' ? 429 : 422);
    }
    setFlash(c, 'email_change_sent', secure);
    return c.redirect(PROFILE_PATH, 303);
  });

  app.get(LOCATION_PATH, async (c) => {
    const session = c.var.session;
    const locations = await myLocations(c.var.em, session.actor);
    const sections = await Promise.all(
      locations.map(async (location) => {
        const out: { id: string; heading: string; body: string }[] = [];
        for (const section of deps.locationSections) {
          try {
            const content = await section.render(c, location);
            if (content) out.push({ id: section.id, heading: content.heading, body: String(await content.body) });
          } catch (err) {
            deps.log.error(`location section "${section.id}" failed: ${(err as Error).message}`, { reqId: c.var.requestId });
          }
        }
        return out;
      }),
    );
    return pages.render(c, 'pages/my-locations', {
      locations: locations.map((l, i) => ({ ...l, sections: sections[i] })),
      parent: sideOf(session.actor) === 'parent',
    });
  });
}

/**
 * The pages reached from a mail, without logging in: confirming a new e-mail address (the link
 * is the proof of the new mailbox) and switching notifications off (the signed link is the
 * authorization; see core/profile/notifications.ts). GET only shows; a button POSTs, so a mail
 * scanner that opens links changes nothing.
 */
export function publicProfileRoutes(app: Hono<AppEnv>, deps: AuthRouteDeps): void {
  const { portal, pages, secure } = deps;

  const confirmPage = async (c: Context<AppEnv>, state: 'confirm' | 'invalid' | 'taken', newEmail = '', status: 200 | 409 | 410 = 200) =>
    pages.render(
      c,
      'pages/email-confirm',
      {
        state,
        newEmail,
        validity: validityText(c.var.lang, portal.config.auth.emailChangeLinkHours * 60),
      },
      status,
    );

  app.get(`${EMAIL_CHANGE_PATH}:token`, async (c) => {
    const row = await findEmailChange(c.var.em, c.req.param('token'));
    if (!row) return confirmPage(c, 'invalid', '', 410);
    return confirmPage(c, 'confirm', row.newEmail);
  });

  app.post(`${EMAIL_CHANGE_PATH}:token`, async (c) => {
    const result = await confirmEmailChange({ em: c.var.em, mail: portal }, { token: c.req.param('token'), ip: c.var.clientIp });
    if (!result.ok) return confirmPage(c, result.reason, '', result.reason === 'taken' ? 409 : 410);
    // Every session of the account has ended: this browser logs in again too, with the new address.
    clearSessionCookie(c, secure);
    c.var.rotateCsrf();
    setFlash(c, 'email_changed', secure);
    return c.redirect(PATHS.login, 303);
  });

  const unsubscribePage = async (c: Context<AppEnv>, token: string, state: 'confirm' | 'done' | 'invalid', status: 200 | 404 = 200) => {
    const view = state === 'invalid' ? undefined : await findUnsubscribe(c.var.em, token);
    if (view && !isLanguage(c.req.query(LANGUAGE_QUERY))) {
      // The page speaks the parent's language, whatever browser opened the mail (unless the
      // visitor uses the language switch on it).
      c.set('lang', view.language);
      c.set('t', translator(view.language));
    }
    return pages.render(
      c,
      'pages/unsubscribe',
      { state, token, maskedEmail: view?.maskedEmail ?? '', loggedIn: Boolean(c.var.session) },
      status,
    );
  };

  app.get(`${UNSUBSCRIBE_PATH}:token`, async (c) => {
    const token = c.req.param('token');
    const view = await findUnsubscribe(c.var.em, token);
    if (!view) return unsubscribePage(c, token, 'invalid', 404);
    return unsubscribePage(c, token, c.req.query('klaar') !== undefined && view.mode === 'off' ? 'done' : 'confirm');
  });

  // Exempt from the CSRF check (see app.ts): a mail program's one-click POST (RFC 8058) has no
  // cookie and no form token. The signed token is the whole authorization, and all it can do is
  // switch one parent's notifications off.
  app.post(`${UNSUBSCRIBE_PATH}:token`, async (c) => {
    const token = c.req.param('token');
    const form = await readForm(c, 100).catch(() => ({}) as Record<string, string>);
    const oneClick = form['List-Unsubscribe'] === 'One-Click';
    if (!(await unsubscribe(c.var.em, token, { ip: c.var.clientIp, oneClick }))) return unsubscribePage(c, token, 'invalid', 404);
    if (oneClick) return unsubscribePage(c, token, 'done');
    return c.redirect(`${UNSUBSCRIBE_PATH}${token}?klaar`, 303);
  });
}
