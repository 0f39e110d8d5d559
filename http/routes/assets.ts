import type { Context, Hono } from 'hono';
import type { Asset } from '../assets.ts';
import type { AppEnv } from '../env.ts';
import { chooseEncoding, varyOnEncoding } from '../middleware/compression.ts';

const IMMUTABLE = 'public, max-age=31536000, immutable';

/**
 * Serves an asset from memory, compressed ahead of time when the browser accepts it. Only the
 * content-hashed URL (or the old `?v=` with the current version) may be cached for a year: the
 * plain path, or another version (an old page during a deploy, or a newer one served by a
 * process that is not updated yet), must not pin these bytes under that name.
 */
function serve(c: Context<AppEnv>, asset: Asset, immutable: boolean): Response {
  const encoding = asset.br && asset.gzip ? chooseEncoding(c.req.header('Accept-Encoding')) : undefined;
  const headers = new Headers({
    'Content-Type': asset.contentType,
    'Cache-Control': immutable || c.req.query('v') === asset.version ? IMMUTABLE : 'no-cache',
    // Each encoding is other bytes, so it gets its own tag.
    ETag: encoding ? `"${asset.version}-${encoding}"` : asset.etag,
  });
  if (asset.br) varyOnEncoding(headers);
  if (encoding) headers.set('Content-Encoding', encoding);
  const etag = headers.get('ETag');
  const match = c.req.header('If-None-Match');
  if (match && (match === etag || match === asset.etag)) return c.body(null, 304, Object.fromEntries(headers));
  const body = encoding === 'br' ? asset.br : encoding === 'gzip' ? asset.gzip : asset.body;
  return c.body(body ?? asset.body, 200, Object.fromEntries(headers));
}

/** Our stylesheet and scripts, and the organisation's logo and colours when configured. */
export function assetRoutes(app: Hono<AppEnv>, assets: readonly (Asset | undefined)[]): void {
  for (const asset of assets) {
    if (!asset) continue;
    app.get(asset.url, (c) => serve(c, asset, true));
    app.get(asset.path, (c) => serve(c, asset, false));
  }
}
