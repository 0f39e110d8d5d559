import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { projectPath } from '../core/project-root.ts';

export interface Asset {
  /** Path the asset is served at. */
  path: string;
  /** Path plus `?v=<hash>`, for links in pages: a new release gets a new URL. */
  url: string;
  version: string;
  etag: string;
  contentType: string;
  body: Uint8Array<ArrayBuffer>;
}

export interface Assets {
  css: Asset;
  htmx: Asset;
  /** Our small progressive enhancement of the photo upload form (per-file progress). */
  upload: Asset;
}

/** An asset served from memory under `path`, versioned by its content. */
export function assetFrom(path: string, bytes: Uint8Array, contentType: string): Asset {
  // Copied into a plain ArrayBuffer so the Response body type is exact (Buffer may be pooled).
  const body = new Uint8Array(bytes);
  const version = createHash('sha256').update(body).digest('hex').slice(0, 12);
  return { path, url: `${path}?v=${version}`, version, etag: `"${version}"`, contentType, body };
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
  };
}
