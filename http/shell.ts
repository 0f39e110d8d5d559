import { createHash } from 'node:crypto';
import type { Context, Hono } from 'hono';
import { translate } from '../views/i18n/index.ts';
import type { Assets } from './assets.ts';
import type { Branding } from './branding.ts';
import type { AppEnv } from './env.ts';
import { createIcons, type Icon, type Icons } from './icons.ts';
import { offlinePageHtml } from './offline-page.ts';
import { serviceWorkerSource } from './service-worker.ts';

/** portal.css's own accent and page background, for an organisation that configured no colour. */
export const DEFAULT_ACCENT = '#1d5c63';
const PAGE_BACKGROUND = '#f6f5f2';

export const MANIFEST_PATH = '/manifest.webmanifest';
export const SERVICE_WORKER_PATH = '/sw.js';
export const OFFLINE_PATH = '/offline';

const IMMUTABLE = 'public, max-age=31536000, immutable';
/** Names a browser asks for by convention (not hashed): kept a day, then asked again. */
const CONVENTIONAL = 'public, max-age=86400';

/** What every page links in its <head> (views/layouts/base.eta). */
export interface ShellLinks {
  manifest: string;
  themeColour: string;
  favicon: string;
  iconSvg: string;
  appleTouchIcon: string;
  register: string;
}

export interface Shell {
  links: ShellLinks;
  icons: Icons;
  themeColour: string;
  /** The URLs the service worker pre-caches. */
  precache: string[];
  serviceWorker: string;
}

export function createShell(assets: Assets, branding: Branding): Shell {
  const themeColour = branding.accentColour ?? DEFAULT_ACCENT;
  const icons = createIcons(themeColour);
  const precache = [
    assets.css.url,
    ...(branding.theme ? [branding.theme.url] : []),
    assets.htmx.url,
    assets.upload.url,
    assets.register.url,
    assets.loader.url,
    icons.svg.url,
    icons.png192.url,
    icons.png512.url,
    icons.maskable512.url,
    icons.ico.url,
    OFFLINE_PATH,
  ];
  const version = createHash('sha256').update(precache.join('\n')).digest('hex').slice(0, 12);
  return {
    links: {
      manifest: MANIFEST_PATH,
      themeColour,
      favicon: icons.ico.url,
      iconSvg: icons.svg.url,
      appleTouchIcon: icons.appleTouch180.url,
      register: assets.register.url,
    },
    icons,
    themeColour,
    precache,
    serviceWorker: serviceWorkerSource(version, precache, OFFLINE_PATH),
  };
}

/** A short name for under the home-screen icon (about 12 characters fit): the first word if needed. */
export function shortNameOf(name: string): string {
  if (name.length <= 12) return name;
  const first = name.split(/\s+/)[0] ?? name;
  return first.length <= 12 ? first : first.slice(0, 12);
}

export function manifestOf(shell: Shell, siteName: string): Record<string, unknown> {
  const icon = (i: Icon) => ({ src: i.url, sizes: `${i.size}x${i.size}`, type: i.contentType, purpose: i.purpose ?? 'any' });
  return {
    id: '/',
    name: siteName,
    short_name: shortNameOf(siteName),
    description: translate('nl', 'manifest.description'),
    lang: 'nl',
    start_url: '/',
    scope: '/',
    display: 'standalone',
    theme_color: shell.themeColour,
    background_color: PAGE_BACKGROUND,
    icons: [
      { src: shell.icons.svg.url, sizes: 'any', type: 'image/svg+xml', purpose: 'any' },
      icon(shell.icons.png192),
      icon(shell.icons.png512),
      icon(shell.icons.maskable512),
    ],
  };
}

async function serveIcon(c: Context<AppEnv>, icon: Icon, cache: string): Promise<Response> {
  return c.body(await icon.bytes(), 200, { 'Content-Type': icon.contentType, 'Cache-Control': cache });
}

/** Icons and the service worker: no session needed, so mounted before the session loader. */
export function shellAssetRoutes(app: Hono<AppEnv>, shell: Shell): void {
  for (const icon of Object.values(shell.icons)) app.get(icon.url, (c) => serveIcon(c, icon, IMMUTABLE));
  app.get('/favicon.ico', (c) => serveIcon(c, shell.icons.ico, CONVENTIONAL));
  app.get('/favicon.svg', (c) => serveIcon(c, shell.icons.svg, CONVENTIONAL));
  app.get('/apple-touch-icon.png', (c) => serveIcon(c, shell.icons.appleTouch180, CONVENTIONAL));
  app.get('/apple-touch-icon-precomposed.png', (c) => serveIcon(c, shell.icons.appleTouch180, CONVENTIONAL));
  app.get(SERVICE_WORKER_PATH, (c) =>
    c.body(shell.serviceWorker, 200, {
      'Content-Type': 'text/javascript; charset=utf-8',
      // Browsers check for a new worker at least daily anyway; no-cache makes a release show at once.
      'Cache-Control': 'no-cache',
      'Service-Worker-Allowed': '/',
    }),
  );
}

/** The manifest and the offline page carry the organisation's name: after siteNameMiddleware. */
export function shellPageRoutes(app: Hono<AppEnv>, shell: Shell, assets: Assets, branding: Branding): void {
  const siteName = (c: Context<AppEnv>) => c.var.siteName ?? branding.name ?? translate('nl', 'app.name');
  app.get(MANIFEST_PATH, (c) =>
    c.body(JSON.stringify(manifestOf(shell, siteName(c))), 200, {
      'Content-Type': 'application/manifest+json; charset=utf-8',
      'Cache-Control': 'no-cache',
    }),
  );
  app.get(OFFLINE_PATH, (c) => {
    const html = offlinePageHtml({ siteName: siteName(c), cssHref: assets.css.url, themeHref: branding.theme?.url, themeColour: shell.themeColour });
    // Not no-store like other pages: it holds nothing personal, and the worker keeps a copy.
    return c.html(html, 200, { 'Cache-Control': 'no-cache' });
  });
}
