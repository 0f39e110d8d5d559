import type { Context, Hono } from 'hono';
import { feedEvents, type TalkSource } from '../../core/calendar-feed/events.ts';
import { renderIcs } from '../../core/calendar-feed/ics.ts';
import { CALENDAR_FEED_PATH, createOwnFeed, feedOwner, feedPath, ownFeedStatus, revokeOwnFeed } from '../../core/calendar-feed/links.ts';
import { createFeedRateLimit } from '../../core/calendar-feed/rate-limit.ts';
import type { Window } from '../../core/auth/throttle.ts';
import { clockOf } from '../../core/clock.ts';
import { getOrganisation } from '../../core/directory/organisation.ts';
import type { Portal } from '../../core/portal.ts';
import { translator } from '../../views/i18n/index.ts';
import { clientIp } from '../client-ip.ts';
import type { AppEnv, AuthedEnv } from '../env.ts';
import { setFlash } from '../flash.ts';
import type { Pages } from '../render.ts';
import { PROFILE_PATH } from './password.ts';
import { dayInSentence } from './photos.ts';

/**
 * The agenda-koppeling (core/calendar-feed). The feed itself is public: a calendar app fetches
 * /agenda/<token>.ics without a cookie, and the token is its whole authorization. It is answered
 * before the CSRF and session middleware (app.ts), so it reads no session and sets no cookie,
 * and its token is masked in the access log (request-context.ts SECRET_ROUTES). Making, renewing
 * and revoking the link are POSTs behind the login gate and the CSRF check, for the parent's own
 * link only (no form carries an id).
 */

export const CALENDAR_FEED_SETTINGS_PATH = `${PROFILE_PATH}/agenda-koppeling`;
export const CALENDAR_FEED_REVOKE_PATH = `${CALENDAR_FEED_SETTINGS_PATH}/intrekken`;

const FEED_FILE = /^([A-Za-z0-9_-]{43})\.ics$/;

export interface CalendarFeedDeps {
  portal: Pick<Portal, 'em' | 'config'>;
  /** The portal's public URL (server.publicUrl): the base of the URL shown; else the request's origin. */
  publicUrl: string | undefined;
  /** Fetches per IP (default DEFAULT_FEED_WINDOW); tests lower it. */
  rateLimit?: Window;
  /** Booked talks, once a module provides them (core/calendar-feed/events.ts TalkSource). */
  talkSources?: readonly TalkSource[];
}

const notFound = (c: Context) => c.text('Not found', 404, { 'Cache-Control': 'private, no-store' });

/** GET /agenda/<token>.ics: registered before the CSRF and session middleware. */
export function calendarFeedRoutes(app: Hono<AppEnv>, deps: CalendarFeedDeps): void {
  const limit = createFeedRateLimit(deps.portal.em(), deps.rateLimit);
  app.get(`${CALENDAR_FEED_PATH}:file`, async (c) => {
    const verdict = await limit.take(clientIp(c, deps.portal.config.server.trustProxy));
    if (!verdict.allowed) {
      return c.text('Too many requests', 429, { 'Retry-After': String(verdict.retryAfterSeconds), 'Cache-Control': 'private, no-store' });
    }
    const token = FEED_FILE.exec(c.req.param('file'))?.[1];
    if (!token) return notFound(c);
    const em = deps.portal.em();
    const owner = await feedOwner(em, token);
    if (!owner) return notFound(c);
    const now = clockOf(em).now();
    const events = await feedEvents(em, owner.actor, { now, language: owner.language, talkSources: deps.talkSources });
    const organisation = await getOrganisation(em);
    const body = renderIcs(events, {
      name: translator(owner.language)('calendarFeed.calendarName', { organisation: organisation.name }),
      now,
      uidDomain: new URL(deps.publicUrl ?? c.req.url).host,
    });
    return c.body(body, 200, {
      'Content-Type': 'text/calendar; charset=utf-8',
      'Content-Disposition': 'inline; filename="agenda.ics"',
      'Cache-Control': 'private, no-store',
    });
  });
}

/** What the profile page's card shows: whether there is a link (never the URL: that is shown once). */
export async function calendarFeedCard(c: Context<AuthedEnv>) {
  const status = await ownFeedStatus(c.var.em, c.var.actor);
  return {
    active: status.active,
    since: status.createdAt ? dayInSentence(c, status.createdAt.toISOString()) : '',
    action: CALENDAR_FEED_SETTINGS_PATH,
    revoke: CALENDAR_FEED_REVOKE_PATH,
  };
}

/** POST: make or renew the link (the answer shows the URL, once); POST …/intrekken: revoke it. */
export function calendarFeedSettingsRoutes(app: Hono<AuthedEnv>, deps: Pick<CalendarFeedDeps, 'publicUrl'> & { pages: Pages; secure: boolean }): void {
  app.post(CALENDAR_FEED_SETTINGS_PATH, async (c) => {
    const { token, renewed } = await createOwnFeed(c.var.em, c.var.actor, { ip: c.var.clientIp });
    const url = new URL(feedPath(token), deps.publicUrl ?? c.req.url).href;
    return deps.pages.render(c, 'pages/calendar-feed', {
      url,
      webcal: url.replace(/^https?:/, 'webcal:'),
      renewed,
      back: PROFILE_PATH,
      revoke: CALENDAR_FEED_REVOKE_PATH,
    });
  });

  app.post(CALENDAR_FEED_REVOKE_PATH, async (c) => {
    if (await revokeOwnFeed(c.var.em, c.var.actor, { ip: c.var.clientIp })) setFlash(c, 'calendar_feed_revoked', deps.secure);
    return c.redirect(PROFILE_PATH, 303);
  });
}
