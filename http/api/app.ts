import { OpenAPIHono } from '@hono/zod-openapi';
import type { Env } from 'hono';
import { createApiRateLimit } from '../../core/auth/api-rate-limit.ts';
import type { Throttle, Window } from '../../core/auth/throttle.ts';
import { getOrganisation } from '../../core/directory/organisation.ts';
import type { Portal } from '../../core/portal.ts';
import { clientIp } from '../client-ip.ts';
import { bearerAuth } from './auth.ts';
import { type ApiModule, BEARER_SCHEME, type PublicApiModule } from './deps.ts';
import { renderDocs } from './docs.ts';
import type { ApiEnv, AuthedApiEnv } from './env.ts';
import { apiError, apiErrorHandler, validationDetails } from './errors.ts';
import { accessRoutes } from './routes/access.ts';
import { childrenRoutes } from './routes/children.ts';
import { meRoutes } from './routes/me.ts';
import { messageRoutes } from './routes/messages.ts';
import { photoRoutes } from './routes/photos.ts';
import { loginRoutes, sessionRoutes } from './routes/session.ts';
import { UNAVAILABLE_RESPONSE } from './schemas.ts';
import { swapRoutes } from './routes/swaps.ts';
import { childDayRoutes } from './routes/child-day.ts';
import { pushRoutes } from './routes/push.ts';

/**
 * The JSON API for the mobile app, mounted at /api/v1 (http/app.ts). The same core use cases as
 * the pages, so the same access rules; only the transport differs: a bearer token instead of a
 * cookie, JSON instead of HTML, `{ error: { code, message, details } }` for every failure.
 */

export const API_BASE = '/api/v1';
export const API_VERSION = '1.0.0';

/**
 * Core's areas, in the order of the reference; plugins add theirs after them (the `api` hook
 * of the plugin contract: the FAQ, the helpdesk).
 */
export const API_MODULES: readonly ApiModule[] = [sessionRoutes, meRoutes, childrenRoutes, photoRoutes, messageRoutes, swapRoutes, childDayRoutes, pushRoutes, accessRoutes];
/** The only operations without a token (each says `security: PUBLIC` in the document): logging in. */
export const PUBLIC_API_MODULES: readonly PublicApiModule[] = [loginRoutes];
/** Areas of the website not (yet) in the API; the reference lists them while there are any. */
export const NOT_YET: readonly string[] = [];

export interface ApiOptions {
  throttle: Throttle;
  /** Requests per token and window (default DEFAULT_API_WINDOW); tests lower it. */
  rateLimit?: Window;
  trustProxy: boolean;
  /** The stylesheet for the reference page (the portal's own, same origin). */
  cssHref?: string;
  /** The active plugins' areas (plugins/mount.ts). */
  pluginModules?: readonly ApiModule[];
}

/** An app (or group) of the API: a request that does not match its schema is a 422 with a detail per field, never zod's own shape. */
const apiApp = <E extends Env>() =>
  new OpenAPIHono<E>({
    defaultHook: (result, c) => {
      if (!result.success) {
        return apiError(c, 422, 'validation', 'the request does not match the schema', validationDetails(result.error.issues));
      }
    },
  });

export function createApi(portal: Portal, options: ApiOptions): OpenAPIHono<ApiEnv> {
  const api = apiApp<ApiEnv>();

  api.use(async (c, next) => {
    // Its own unit of work; the cookie session is never loaded for the API (see http/app.ts).
    c.set('em', portal.em());
    c.set('clientIp', clientIp(c, options.trustProxy));
    await next();
    // One person's data: no shared cache may keep it, and a private cache only per token.
    if (!c.res.headers.has('Cache-Control')) c.res.headers.set('Cache-Control', 'no-store');
    if (!/\bAuthorization\b/i.test(c.res.headers.get('Vary') ?? '')) c.res.headers.append('Vary', 'Authorization');
  });

  api.openAPIRegistry.registerComponent('securitySchemes', BEARER_SCHEME, {
    type: 'http',
    scheme: 'bearer',
    description: 'A token from POST /session',
  });
  api.openAPIRegistry.registerComponent('responses', UNAVAILABLE_RESPONSE.name, UNAVAILABLE_RESPONSE.response);

  const deps = { portal, throttle: options.throttle };
  // Public: registered before the gate, so their handlers answer before it would run.
  for (const register of PUBLIC_API_MODULES) register(api, deps);

  const document = async () => {
    const organisation = await getOrganisation(portal.em());
    return api.getOpenAPI31Document({
      openapi: '3.1.0',
      info: {
        title: `${organisation.name} app API`,
        version: API_VERSION,
        description: 'The Ouderportaal API for the mobile app. See the README section "App API".',
        // The portal's own licence (package.json), which covers this interface too.
        license: { name: 'AGPL-3.0-or-later', url: 'https://www.gnu.org/licenses/agpl-3.0.html' },
      },
      servers: [{ url: API_BASE, description: 'This portal' }],
      // Every operation needs a token but those that say otherwise (`security: []`: logging in).
      security: [{ [BEARER_SCHEME]: [] }],
    });
  };

  // The document and its reference page: public too, so also registered before the gate.
  api.get('/openapi.json', async (c) => {
    c.header('Cache-Control', 'public, max-age=300');
    return c.json(await document());
  });

  api.get('/docs', async (c) => {
    const doc = await document();
    c.header('Cache-Control', 'public, max-age=300');
    return c.html(
      renderDocs({
        title: doc.info.title,
        version: doc.info.version,
        base: API_BASE,
        cssHref: options.cssHref,
        paths: (doc.paths ?? {}) as never,
        security: doc.security,
        notYet: NOT_YET,
      }),
    );
  });

  // Everything else, core's areas and the plugins', is one group behind one gate: the token
  // middleware runs before every operation of the group (and, as a group-wide middleware, before
  // any other path under /api/v1 too), and its handlers see the token's actor by type. An
  // operation cannot be added without the gate; http/api/openapi.test.ts checks each one for a 401.
  const authed = apiApp<AuthedApiEnv>();
  authed.use(bearerAuth(createApiRateLimit(portal.em(), options.rateLimit)));
  for (const register of API_MODULES) register(authed, deps);
  for (const register of options.pluginModules ?? []) {
    try {
      register(authed, deps);
    } catch (err) {
      portal.log.error(`app API area of a plugin not loaded: ${(err as Error).message}`);
    }
  }
  api.route('/', authed);

  // Anything else under /api/v1: a JSON 404, never the HTML error page or a login redirect.
  api.all('*', (c) => apiError(c, 404, 'not_found', `no such API route: ${c.req.method} ${c.req.path}`));
  api.onError(apiErrorHandler(portal.log));
  return api;
}
