import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env.ts';

const brotliAsync = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

/** Below this a compressed body saves less than the headers and the CPU cost. */
export const MIN_COMPRESS_BYTES = 1024;

export type Encoding = 'br' | 'gzip';

/**
 * Text is worth compressing; images, ZIPs and photos are compressed already (doing it again
 * only costs CPU). Event streams are left alone: buffering them would hold back every event.
 */
export function isCompressible(contentType: string): boolean {
  const type = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  return (
    type.startsWith('text/') && type !== 'text/event-stream'
    || type === 'application/json'
    || type.endsWith('+json')
    || type === 'application/javascript'
    || type === 'image/svg+xml'
  );
}

/**
 * The encoding to answer with, from Accept-Encoding: Brotli when allowed (smaller), else gzip,
 * else none. `q=0` refuses a coding; `*` stands for any coding not named.
 */
export function chooseEncoding(header: string | undefined): Encoding | undefined {
  if (!header) return undefined;
  const weights = new Map<string, number>();
  for (const part of header.split(',')) {
    const [name = '', ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const weight = q ? Number(q.slice(2)) : 1;
    if (name) weights.set(name, Number.isFinite(weight) ? weight : 0);
  }
  const weightOf = (coding: string) => weights.get(coding) ?? weights.get('*') ?? 0;
  const br = weightOf('br');
  const gz = Math.max(weightOf('gzip'), weights.get('x-gzip') ?? 0);
  if (br > 0 && br >= gz) return 'br';
  if (gz > 0) return 'gzip';
  return undefined;
}

/** Adds Accept-Encoding to Vary once, keeping what is there. */
export function varyOnEncoding(headers: Headers): void {
  const vary = headers.get('Vary');
  if (!vary) headers.set('Vary', 'Accept-Encoding');
  else if (!/(^|,)\s*accept-encoding\s*(,|$)/i.test(vary)) headers.set('Vary', `${vary}, Accept-Encoding`);
}

/**
 * Compresses pages and JSON (the API too) per request. Brotli at quality 5 rather than 11:
 * per request the time matters as much as the bytes, and 5 is still smaller than gzip. The
 * static assets are compressed once at start (http/assets.ts) and set Content-Encoding
 * themselves, so they pass through here untouched.
 */
export function compression(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await next();
    const res = c.res;
    const type = res.headers.get('Content-Type') ?? '';
    if (!isCompressible(type)) return;
    // Whether or not this one is compressed, a cache must keep the variants apart.
    varyOnEncoding(res.headers);
    if (c.req.method === 'HEAD' || res.status === 204 || res.status === 304) return;
    if (res.headers.has('Content-Encoding')) return;
    const encoding = chooseEncoding(c.req.header('Accept-Encoding'));
    if (!encoding) return;
    const length = Number(res.headers.get('Content-Length') ?? Number.NaN);
    if (length < MIN_COMPRESS_BYTES) return;
    // The headers before anything touches the body: once it is read, @hono/node-server's
    // lightweight Response answers with the headers it was made with and forgets those set on it
    // since (the security headers, Vary), e.g. on a page from c.html() with no header set before.
    // So each path from here on sends a new Response with this copy, also without compressing.
    const headers = new Headers(res.headers);
    const plain = res.body ? new Uint8Array(await res.arrayBuffer()) : null;
    if (!plain || plain.byteLength < MIN_COMPRESS_BYTES) {
      c.res = undefined;
      c.res = new Response(plain, { status: res.status, statusText: res.statusText, headers });
      return;
    }
    const packed =
      encoding === 'br'
        ? await brotliAsync(plain, { params: { [constants.BROTLI_PARAM_QUALITY]: 5, [constants.BROTLI_PARAM_SIZE_HINT]: plain.byteLength } })
        : await gzipAsync(plain, { level: 6 });
    headers.set('Content-Encoding', encoding);
    headers.set('Content-Length', String(packed.byteLength));
    // A strong ETag names these exact bytes; the compressed ones are others.
    const etag = headers.get('ETag');
    if (etag && !etag.startsWith('W/')) headers.set('ETag', `W/${etag}`);
    c.res = undefined;
    c.res = new Response(new Uint8Array(packed), { status: res.status, statusText: res.statusText, headers });
  };
}
