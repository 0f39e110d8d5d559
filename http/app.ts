import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import '../core/auth/password-reset.ts'; // registers the password_reset mail composer
import { createThrottle, type ThrottleLimits } from '../core/auth/throttle.ts';
import type { Portal } from '../core/portal.ts';
import { loadAssets } from './assets.ts';
import type { AppEnv } from './env.ts';
import { errorHandler, notFoundHandler } from './errors.ts';
import { csrf } from './middleware/csrf.ts';
import { language } from './middleware/language.ts';
import { requestContext } from './middleware/request-context.ts';
import { noStoreHtml, securityHeaders } from './middleware/security-headers.ts';
import { navCounts } from './nav.ts';
import { requireLogin, sessionLoader } from './middleware/session.ts';
import { createPages } from './render.ts';
import { assetRoutes } from './routes/assets.ts';
import { healthRoutes } from './routes/health.ts';
import { homeRoutes, publicPageRoutes } from './routes/home.ts';
import { MESSAGES_PATH, messageRoutes } from './routes/messages.ts';
import { loginRoutes } from './routes/login.ts';
import { passwordChangeRoutes, passwordResetRoutes } from './routes/password.ts';
import { photoRoutes } from './routes/photos.ts';
import { secondFactorRoutes } from './routes/second-factor.ts';

export type { AppEnv } from './env.ts';

/**
 * Largest request body. Forms are a few kilobytes; the limit sits in front of the CSRF check
 * because that check reads the form. Photo uploads will need their own, larger limit.
 */
export const MAX_BODY_BYTES = 1024 * 1024;

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
}

/** The web app: middleware, then one route module per area. Opens no port; see server.ts. */
export function createApp(portal: Portal, options: AppOptions = {}): Hono<AppEnv> {
  const publicUrl = options.publicUrl ?? portal.config.server.publicUrl;
  const https = publicUrl?.startsWith('https:') ?? false;
  const assets = loadAssets();
  const pages = createPages(assets);

  const app = new Hono<AppEnv>();
  app.use(requestContext(portal.log, portal.config.server.trustProxy));
  app.use(securityHeaders({ https }));
  app.use(noStoreHtml());
  app.use(language({ secure: https }));
  const formLimit = bodyLimit({ maxSize: MAX_BODY_BYTES });
  const messageLimit = bodyLimit({ maxSize: Math.max(MAX_BODY_BYTES, messageBodyLimit(portal.config.messages.maxAttachmentBytes)) });
  app.use((c, next) => (c.req.path.startsWith(`${MESSAGES_PATH}/`) ? messageLimit : formLimit)(c, next));
  app.use(
    csrf({
      secure: https,
      publicOrigin: publicUrl ? new URL(publicUrl).origin : undefined,
      trustProxy: portal.config.server.trustProxy,
    }),
  );

  // Before the session is looked up: a health check or a stylesheet needs no database row.
  healthRoutes(app, portal);
  assetRoutes(app, assets);

  app.use(sessionLoader(portal, { secure: https, trustProxy: portal.config.server.trustProxy }));
  const throttle = createThrottle(portal.em(), options.throttle);
  const deps = { portal, pages, throttle, secure: https };

  // Public: everything registered before the login gate.
  loginRoutes(app, deps);
  passwordResetRoutes(app, deps);
  publicPageRoutes(app, pages);

  // The gate: every route after it (plugins included) needs a session that owes no step.
  app.use(requireLogin({ secure: https }));
  app.use(navCounts());
  passwordChangeRoutes(app, deps);
  secondFactorRoutes(app, deps);
  homeRoutes(app, portal, pages);
  photoRoutes(app, portal, pages);
  messageRoutes(app, deps);

  app.notFound(notFoundHandler(pages));
  app.onError(errorHandler(portal.log, pages));
  return app;
}
