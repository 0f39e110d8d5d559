import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { createThrottle, type ThrottleLimits, throttleLimitsOf, type Window } from '../core/auth/throttle.ts';
import type { Portal } from '../core/portal.ts';
import { UNSUBSCRIBE_PATH } from '../core/profile/notifications.ts';
import { API_BASE, createApi } from './api/app.ts';
import { apiError } from './api/errors.ts';
import { wellKnownRoutes } from './api/well-known.ts';
import { loadAssets } from './assets.ts';
import { inlineStyle } from './inline-style.ts';
import { type Branding, siteNameMiddleware } from './branding.ts';
import type { AppEnv } from './env.ts';
import { errorHandler, notFoundHandler } from './errors.ts';
import type { LocationSection } from './location-sections.ts';
import { csrf } from './middleware/csrf.ts';
import { language } from './middleware/language.ts';
import { languageRoutes } from './routes/language.ts';
import { requestContext } from './middleware/request-context.ts';
import { noStoreHtml, securityHeaders } from './middleware/security-headers.ts';
import { textGuard } from './middleware/text-guard.ts';
import { compression } from './middleware/compression.ts';
import { createShell, shellAssetRoutes, shellPageRoutes } from './shell.ts';
import { navCounts } from './nav.ts';
import { API_PREFIX, behindLogin, sessionLoader } from './middleware/session.ts';
import { createPages } from './render.ts';
import { installedPlugins } from '../plugins/index.ts';
import { preparePlugins } from '../plugins/mount.ts';
import type { PortalPlugin } from '../plugins/types.ts';
import { assetRoutes } from './routes/assets.ts';
import { diaryRoutes } from './routes/diary.ts';
import { healthRoutes } from './routes/health.ts';
import { homeRoutes, publicPageRoutes } from './routes/home.ts';
import { MESSAGES_PATH, messageRoutes } from './routes/messages.ts';
import { confirmationRoutes } from './routes/confirmations.ts';
import { talkRoutes } from './routes/talks.ts';
import { loginRoutes } from './routes/login.ts';
import { passwordChangeRoutes, passwordResetRoutes } from './routes/password.ts';
import { photoRoutes, THUMB_PATH, thumbHotPath } from './routes/photos.ts';
import { profileRoutes, publicProfileRoutes } from './routes/profile.ts';
import { secondFactorRoutes } from './routes/second-factor.ts';
import { staffPhotoRoutes, UPLOAD_PATH } from './routes/staff-photos.ts';
import { swapRoutes, swapSection } from './routes/swaps.ts';
import { todayRoutes } from './routes/today.ts';
import { childDayRoutes } from './routes/child-day.ts';
import { calendarFeedRoutes, calendarFeedSettingsRoutes } from './routes/calendar-feed.ts';
import { talkFeedSource } from '../core/talks/feed.ts';
import { mentorRoutes } from './routes/mentor.ts';
import { yearBookRoutes } from './routes/yearbook.ts';

export type { AppEnv } from './env.ts';

/**
 * Largest request body. Forms are a few kilobytes; the limit sits in front of the CSRF check
 * because that check reads the form. Photo uploads have their own (see uploadBodyLimit).
 */
export const MAX_BODY_BYTES = 1024 * 1024;

/** An upload: the configured number of files at their size limit, plus room for the form fields. */
const uploadBodyLimit = (portal: Portal) =>
  portal.config.photos.maxFilesPerUpload * (portal.config.photos.maxUploadBytes + 64 * 1024) + MAX_BODY_BYTES;
/** Under /berichten a form may carry one attachment (messages.maxAttachmentBytes) besides its text. */
export const messageBodyLimit = (maxAttachmentBytes: number) => maxAttachmentBytes + 128 * 1024;

export interface AppOptions {
  /**
   * Overrides server.publicUrl, e.g. with the organisation's URL from `portal init` when the
   * config leaves it empty (startServer does that). Decides Secure/`__Host-` cookies, HSTS and
   * the allowed Origin.
   */
  publicUrl?: string;
  /** Login brake limits (tests lower or raise them); default DEFAULT_LIMITS in core/auth/throttle.ts. */
  throttle?: Partial<ThrottleLimits>;
  /** Sections added to Mijn vestiging besides the plugins' own (see location-sections.ts); tests use it. */
  locationSections?: LocationSection[];
  /** The installed plugins (default plugins/index.ts); switched on and off by `plugins.<id>.enabled`. */
  plugins?: readonly PortalPlugin[];
  /** Requests per app token and window (default DEFAULT_API_WINDOW in core/auth/api-rate-limit.ts). */
  apiRateLimit?: Window;
  /** The organisation's name, logo and colour, read by startServer (loadBranding); default: ours. */
  branding?: Branding;
  /** Calendar feed fetches per IP (default DEFAULT_FEED_WINDOW in core/calendar-feed/rate-limit.ts). */
  calendarFeedRateLimit?: Window;
}

/** The web app: middleware, then one route module per area. Opens no port; see server.ts. */
export function createApp(portal: Portal, options: AppOptions = {}): Hono<AppEnv> {
  const publicUrl = options.publicUrl ?? portal.config.server.publicUrl;
  const https = publicUrl?.startsWith('https:') ?? false;
  const assets = loadAssets();
  // Plugins (plugins/mount.ts): their navigation and Help page go into every page.
  const plugins = preparePlugins(portal, options.plugins ?? installedPlugins, () => pages);
  const branding = options.branding ?? {};
  const shell = createShell(assets, branding);
  // Our stylesheet and the organisation's colours, inlined in every page; the CSP allows it by hash.
  const style = inlineStyle(assets.css, branding.theme);
  const pages = createPages(assets, { nav: plugins.nav, helpHref: plugins.helpHref, branding, shell: shell.links, style });

  const app = new Hono<AppEnv>();
  app.use(requestContext(portal.log, portal.config.server.trustProxy));
  // Outermost but for the request context: it sees each response as finally sent.
  app.use(compression());
  app.use(securityHeaders({ https, styleHashes: [style.hash] }));
  app.use(noStoreHtml());
  app.use(language());
  const throttle = createThrottle(portal.em(), { ...throttleLimitsOf(portal.config), ...options.throttle });
  const formLimit = bodyLimit({ maxSize: MAX_BODY_BYTES });
  const uploadLimit = bodyLimit({ maxSize: uploadBodyLimit(portal) });
  const messageLimit = bodyLimit({ maxSize: Math.max(MAX_BODY_BYTES, messageBodyLimit(portal.config.messages.maxAttachmentBytes)) });
  // One limit per request, chosen by path: two limits in a row would hold every path to the
  // smaller (a message with a 2 MB attachment was refused by the forms' 1 MB). The upload streams
  // (http/multipart.ts), each file also held to photos.maxUploadBytes.
  app.use((c, next) => {
    const path = c.req.path;
    const message = path.startsWith(`${MESSAGES_PATH}/`) || path.startsWith(`${API_BASE}/threads`);
    const limit = path === UPLOAD_PATH ? uploadLimit : message ? messageLimit : formLimit;
    return limit(c, next);
  });
  // After the limit (it reads the body): query strings and JSON/form bodies that are not valid
  // UTF-8 or carry text PostgreSQL cannot store are a 422, never a 500 from the INSERT.
  app.use(textGuard());

  // The app API, before the cookie machinery (CSRF, session loader, login gate) and so out of its
  // reach: it authenticates with `Authorization: Bearer`, which a browser never adds by itself to
  // a cross-site request, and it never reads the session cookie. With no ambient credential there
  // is nothing for a forged request to ride on, so it needs no CSRF token; a POST that carries
  // only a cookie is simply 401. Security headers and the body limit above still apply.
  app.route(
    API_BASE,
    createApi(portal, {
      throttle,
      rateLimit: options.apiRateLimit,
      trustProxy: portal.config.server.trustProxy,
      cssHref: assets.css.url,
      pluginModules: plugins.apiModules,
    }),
  );
  // Other versions or typos under /api/: JSON too, never a login redirect or an HTML page.
  app.all(`${API_PREFIX}*`, (c) => apiError(c, 404, 'not_found', `no such API route: ${c.req.method} ${c.req.path}`));
  wellKnownRoutes(app, portal, publicUrl, branding);

  app.use(
    csrf({
      secure: https,
      publicOrigin: publicUrl ? new URL(publicUrl).origin : undefined,
      trustProxy: portal.config.server.trustProxy,
      streamingPaths: [UPLOAD_PATH],
      // The signed unsubscribe link is its own authorization (RFC 8058 one-click has no cookie).
      // The API (answered above, so this is a second lock): bearer tokens, no cookie, see there.
      exempt: (path) => path.startsWith(UNSUBSCRIBE_PATH) || path.startsWith(API_PREFIX),
    }),
  );

  // Before the session is looked up: a health check or a stylesheet needs no database row.
  healthRoutes(app, portal);
  // The calendar feed: its token is its authorization; no session is read and no cookie set.
  calendarFeedRoutes(app, { portal, publicUrl, rateLimit: options.calendarFeedRateLimit, talkSources: [talkFeedSource] });
  // A thumbnail, decided in one statement (routes/photos.ts thumbHotPath); what it does not
  // serve goes on to the ordinary route behind the session loader and the login gate.
  app.get(THUMB_PATH, thumbHotPath(portal, { secure: https }));
  assetRoutes(app, [assets.css, assets.htmx, assets.upload, assets.photoViewer, assets.register, assets.loader, assets.push, branding.logo, branding.theme]);
  shellAssetRoutes(app, shell);

  app.use(sessionLoader(portal, { secure: https, trustProxy: portal.config.server.trustProxy }));
  const deps = { portal, pages, throttle, secure: https };

  app.use(siteNameMiddleware(portal, branding));
  shellPageRoutes(app, shell, assets, branding);

  // Public: everything registered before the login gate.
  loginRoutes(app, deps);
  passwordResetRoutes(app, deps);
  publicPageRoutes(app, pages, plugins.helpHref);
  publicProfileRoutes(app, deps);
  languageRoutes(app, deps);
  plugins.mountPublic(app);

  // The gate: every route after it (plugins included) needs a session that owes no step. What
  // it returns is the same app, typed for them: session and actor present (http/env.ts AuthedEnv).
  const authed = behindLogin(app, { secure: https });
  authed.use(navCounts());
  passwordChangeRoutes(authed, deps);
  secondFactorRoutes(authed, deps);
  homeRoutes(authed, portal, pages);
  staffPhotoRoutes(authed, portal, pages, https);
  profileRoutes(authed, { ...deps, log: portal.log, pushScript: assets.push.url, locationSections: [swapSection, ...plugins.locationSections, ...(options.locationSections ?? [])] });
  photoRoutes(authed, portal, pages);
  diaryRoutes(authed, deps);
  messageRoutes(authed, deps);
  confirmationRoutes(authed, deps);
  swapRoutes(authed, deps);
  todayRoutes(authed, deps);
  childDayRoutes(authed, deps);
  calendarFeedSettingsRoutes(authed, { pages, secure: https, publicUrl });
  mentorRoutes(authed, deps);
  talkRoutes(authed, deps);
  yearBookRoutes(authed, deps);
  plugins.mountPrivate(authed);

  app.notFound(notFoundHandler(pages));
  // (Errors under /api/ are answered as JSON by errorHandler, e.g. a body over the limit.)
  app.onError(errorHandler(portal.log, pages));
  return app;
}
