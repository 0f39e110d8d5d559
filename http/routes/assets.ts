import type { Context, Hono } from 'hono';
import type { Asset } from '../assets.ts';
import type { AppEnv } from '../env.ts';

const IMMUTABLE = 'public, max-age=31536000, immutable';

/**
 * Serves an asset from memory. Only the URL with the current `?v=` may be cached for a year:
 * a request with another version (an old page during a deploy, or a newer one served by a
 * process that is not updated yet) must not pin these bytes under that name.
 */
function serve(c: Context<AppEnv>, asset: Asset): Response {
  const headers = {
    'Content-Type': asset.contentType,
    'Cache-Control': c.req.query('v') === asset.version ? IMMUTABLE : 'no-cache',
    ETag: asset.etag,
  };
  if (c.req.header('If-None-Match') === asset.etag) return c.body(null, 304, headers);
  return c.body(asset.body, 200, headers);
}

/** Our stylesheet and scripts, and the organisation's logo and colours when configured. */
export function assetRoutes(app: Hono<AppEnv>, assets: readonly (Asset | undefined)[]): void {
  for (const asset of assets) if (asset) app.get(asset.path, (c) => serve(c, asset));
}
