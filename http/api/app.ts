import { OpenAPIHono } from '@hono/zod-openapi';
import { createApiRateLimit } from '../../core/auth/api-rate-limit.ts';
import type { Throttle, Window } from '../../core/auth/throttle.ts';
import { getOrganisation } from '../../core/directory/organisation.ts';
import type { Portal } from '../../core/portal.ts';
import { clientIp } from '../client-ip.ts';
import { bearerAuth } from './auth.ts';
import type { ApiModule } from './deps.ts';
import { renderDocs } from './docs.ts';
import type { ApiEnv } from './env.ts';
import { apiError, apiErrorHandler, validationDetails } from './errors.ts';
import { childrenRoutes } from './routes/children.ts';
import { meRoutes } from './routes/me.ts';
import { messageRoutes } from './routes/messages.ts';
import { photoRoutes } from './routes/photos.ts';
import { sessionRoutes } from './routes/session.ts';
import { swapRoutes } from './routes/swaps.ts';

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
export const API_MODULES: readonly ApiModule[] = [sessionRoutes, meRoutes, childrenRoutes, photoRoutes, messageRoutes, swapRoutes];
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

export function createApi(portal: Portal, options: ApiOptions): OpenAPIHono<ApiEnv> {
  const api = new OpenAPIHono<ApiEnv>({
    // A request that does not match its schema: 422 with a detail per field, never zod's own shape.
    defaultHook: (result, c) => {
      if (!result.success) {
        return apiError(c, 422, 'validation', 'the request does not match the schema', validationDetails(result.error.issues));
      }
    },
  });

  api.use(async (c, next) => {
    // Its own unit of work; the cookie session is never loaded for the API (see http/app.ts).
    c.set('em', portal.em());
    c.set('clientIp', clientIp(c, options.trustProxy));
    await next();
    // One person's data: no shared cache may keep it, and a private cache only per token.
    if (!c.res.headers.has('Cache-Control')) c.res.headers.set('Cache-Control', 'no-store');
    if (!/\bAuthorization\b/i.test(c.res.headers.get('Vary') ?? '')) c.res.headers.append('Vary', 'Authorization');
  });

  api.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'A token from POST /session',
  });

  const auth = bearerAuth(createApiRateLimit(portal.em(), options.rateLimit));
  const deps = { portal, throttle: options.throttle, auth };
  for (const register of API_MODULES) register(api, deps);
  for (const register of options.pluginModules ?? []) {
    try {
      register(api, deps);
    } catch (err) {
      portal.log.error(`app API area of a plugin not loaded: ${(err as Error).message}`);
    }
  }

  const document = async () => {
    const organisation = await getOrganisation(portal.em());
    return api.getOpenAPI31Document({
      openapi: '3.1.0',
      info: {
        title: `${organisation.name} app API`,
        version: API_VERSION,
        description: 'The Ouderportaal API for the mobile app. See the README section "App API".',
      },
      servers: [{ url: API_BASE }],
    });
  };

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
        notYet: NOT_YET,
      }),
    );
  });

  // Anything else under /api/v1: a JSON 404, never the HTML error page or a login redirect.
  api.all('*', (c) => apiError(c, 404, 'not_found', `no such API route: ${c.req.method} ${c.req.path}`));
  api.onError(apiErrorHandler(portal.log));
  return api;
}
