import type { MiddlewareHandler } from 'hono';
import { secureHeaders } from 'hono/secure-headers';
import type { AppEnv } from '../env.ts';

/**
 * The CSP allows only our own files: no inline script or style and no eval, so an injected
 * `<script>` or `style=""` does nothing even if escaping ever fails. That is also why htmx's
 * eval features (hx-on, js: values) are off the table, and why templates carry no style
 * attributes. `data:` images are for small generated placeholders. The one exception is the
 * layout's own inlined stylesheet (http/inline-style.ts), allowed by its sha256 hash only: a hash
 * never allows a style attribute or any other <style>.
 */
export const contentSecurityPolicy = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:'],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  baseUri: ["'none'"],
  objectSrc: ["'none'"],
};

/** One year; only sent when the portal is known to be served over https (server.publicUrl). */
const HSTS = 'max-age=31536000';

export function securityHeaders(options: { https: boolean; styleHashes?: readonly string[] }): MiddlewareHandler<AppEnv> {
  return secureHeaders({
    contentSecurityPolicy: { ...contentSecurityPolicy, styleSrc: [...contentSecurityPolicy.styleSrc, ...(options.styleHashes ?? [])] },
    xContentTypeOptions: 'nosniff',
    referrerPolicy: 'same-origin',
    xFrameOptions: 'DENY',
    crossOriginOpenerPolicy: 'same-origin',
    crossOriginResourcePolicy: 'same-origin',
    permissionsPolicy: { camera: [], microphone: [], geolocation: [] },
    // Sending HSTS over plain http is ignored by browsers at best and locks out a test install
    // at worst, so it follows publicUrl rather than the connection.
    strictTransportSecurity: options.https ? HSTS : false,
  });
}

/**
 * Pages show a child's data: no browser or proxy may keep them (also not in the back/forward
 * cache across a logout). Handlers that want caching (the assets) set their own header.
 */
export function noStoreHtml(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await next();
    const type = c.res.headers.get('Content-Type') ?? '';
    if (type.startsWith('text/html') && !c.res.headers.has('Cache-Control')) {
      c.res.headers.set('Cache-Control', 'no-store');
    }
    if (type.startsWith('text/html')) c.res.headers.append('Vary', 'Accept-Language, Cookie');
  };
}
