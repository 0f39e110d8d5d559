import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { projectPath } from '../core/project-root.ts';
import { isCompressible, MIN_COMPRESS_BYTES } from './middleware/compression.ts';

export interface Asset {
  /** The plain path (e.g. /assets/portal.css): still served, but only with a short cache. */
  path: string;
  /**
   * The content-hashed path (e.g. /assets/portal.3f2a9c01b2d4.css), for links in pages: a new
   * release gets a new URL, so this one may be cached for a year as immutable.
   */
  url: string;
  version: string;
  etag: string;
  contentType: string;
  body: Uint8Array<ArrayBuffer>;
  /** Brotli and gzip versions, made once at start; absent for images and tiny files. */
  br?: Uint8Array<ArrayBuffer>;
  gzip?: Uint8Array<ArrayBuffer>;
}

export interface Assets {
  css: Asset;
  htmx: Asset;
  /** Our small progressive enhancement of the photo upload form (per-file progress). */
  upload: Asset;
  /** Swipe and arrow keys between photos on the photo page (its links work without it). */
  photoViewer: Asset;
  /** Registers the service worker (http/shell.ts). */
  register: Asset;
  /**
   * The one script a page asks for while it loads: it adds the others (htmx, `register`, the
   * page's own) after the page's load event, so they do not share a slow line with its photos.
   */
  loader: Asset;
  /** The Web Push button on Mijn gegevens (http/routes/push.ts). */
  push: Asset;
}

/** `/assets/portal.css` + hash → `/assets/portal.<hash>.css` (the hash before the extension). */
export function hashedPath(path: string, version: string): string {
  const slash = path.lastIndexOf('/');
  const dot = path.indexOf('.', slash + 1);
  return dot === -1 ? `${path}.${version}` : `${path.slice(0, dot)}.${version}${path.slice(dot)}`;
}

/** An asset served from memory under `path`, versioned by its content. */
export function assetFrom(path: string, bytes: Uint8Array, contentType: string): Asset {
  // Copied into a plain ArrayBuffer so the Response body type is exact (Buffer may be pooled).
  const body = new Uint8Array(bytes);
  const version = createHash('sha256').update(body).digest('hex').slice(0, 12);
  const asset: Asset = { path, url: hashedPath(path, version), version, etag: `"${version}"`, contentType, body };
  // Compressed once, at the highest settings: it costs a few milliseconds at start and every
  // request after that gets the smallest bytes for free.
  if (isCompressible(contentType) && body.byteLength >= MIN_COMPRESS_BYTES) {
    asset.br = new Uint8Array(brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY } }));
    asset.gzip = new Uint8Array(gzipSync(body, { level: 9 }));
  }
  return asset;
}

function load(path: string, file: string, contentType: string): Asset {
  return assetFrom(path, readFileSync(file), contentType);
}

/**
 * Reads our stylesheet and htmx once, at start. htmx is read straight from node_modules (the
 * exact version in package-lock.json), so there is no copy in the repository to forget to
 * update and no CDN that learns who our parents are.
 */
export function loadAssets(): Assets {
  const require = createRequire(projectPath('package.json'));
  return {
    css: load('/assets/portal.css', projectPath('views', 'static', 'portal.css'), 'text/css; charset=utf-8'),
    htmx: load('/assets/htmx.min.js', require.resolve('htmx.org/dist/htmx.min.js'), 'text/javascript; charset=utf-8'),
    upload: load('/assets/upload.js', projectPath('views', 'static', 'upload.js'), 'text/javascript; charset=utf-8'),
    photoViewer: load('/assets/photo-viewer.js', projectPath('views', 'static', 'photo-viewer.js'), 'text/javascript; charset=utf-8'),
    register: load('/assets/sw-register.js', projectPath('views', 'static', 'sw-register.js'), 'text/javascript; charset=utf-8'),
    loader: load('/assets/load-scripts.js', projectPath('views', 'static', 'load-scripts.js'), 'text/javascript; charset=utf-8'),
    push: load('/assets/push.js', projectPath('views', 'static', 'push.js'), 'text/javascript; charset=utf-8'),
  };
}
