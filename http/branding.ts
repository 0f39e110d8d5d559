import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { MiddlewareHandler } from 'hono';
import sharp from 'sharp';
import { DARK_ACCENT_TEXT, darkModeAccent } from '../config/colours.ts';
import { ConfigError } from '../config/load.ts';
import type { PortalConfig } from '../config/schema.ts';
import { getOrganisation } from '../core/directory/organisation.ts';
import type { Portal } from '../core/portal.ts';
import { type Asset, assetFrom } from './assets.ts';
import type { AppEnv } from './env.ts';

/** The organisation's own look: name, logo and accent colour (config `branding.*`, UI.md). */
export interface Branding {
  /** Shown in the header instead of the product's name. */
  name?: string;
  /** As configured (light mode); the app may use it too. */
  accentColour?: string;
  /** The logo as a PNG, re-encoded here: no metadata, no script (an SVG is rendered, not served). */
  logo?: Asset & { width: number; height: number };
  /** `:root { --accent … }` for light and dark mode, linked after portal.css. */
  theme?: Asset;
}

/** Large enough for a sharp header at 3× and for the app's connect screen; small on a phone. */
const LOGO_BOX = { width: 960, height: 240 };
const LOGO_MAX_FILE_BYTES = 5 * 1024 * 1024;

function logoError(path: string, origin: string | undefined, expected: string): ConfigError {
  return new ConfigError([{ key: 'branding.logo', value: path, source: 'file', origin: origin ?? 'configuration', expected }]);
}

/** The stylesheet that puts the organisation's colour in place of ours, in both colour schemes. */
export function themeCss(accentColour: string): string {
  return [
    // Light: white button text, which accentProblem() has checked the colour against.
    `:root { --accent: ${accentColour}; --accent-text: #ffffff; }`,
    // Dark: the lighter shade under dark button text, both restated because this sheet comes
    // after portal.css and its plain :root rule would otherwise win in dark mode too.
    `@media (prefers-color-scheme: dark) { :root { --accent: ${darkModeAccent(accentColour)}; --accent-text: ${DARK_ACCENT_TEXT}; } }`,
    '',
  ].join('\n');
}

/**
 * Reads and checks the branding once, when the server starts: a logo that is missing or is no
 * image stops `portal serve` with a configuration error naming the file, rather than leaving
 * a broken image on every page. `origins` says where each setting came from (loadConfig's sources).
 */
export async function loadBranding(branding: PortalConfig['branding'], origins: Record<string, string> = {}): Promise<Branding> {
  const result: Branding = { name: branding.name, accentColour: branding.accentColour };
  if (branding.accentColour) {
    result.theme = assetFrom('/assets/theme.css', Buffer.from(themeCss(branding.accentColour)), 'text/css; charset=utf-8');
  }
  if (branding.logo) {
    const path = resolve(branding.logo);
    const origin = origins['branding.logo'];
    let input: Buffer;
    try {
      input = await readFile(path);
    } catch (err) {
      throw logoError(path, origin, `cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    if (input.length > LOGO_MAX_FILE_BYTES) throw logoError(path, origin, 'is larger than 5 MB; a logo needs far less');
    try {
      const { data, info } = await sharp(input, { limitInputPixels: 40_000_000 })
        .resize({ ...LOGO_BOX, fit: 'inside', withoutEnlargement: true })
        .png({ compressionLevel: 9 })
        .toBuffer({ resolveWithObject: true });
      result.logo = { ...assetFrom('/assets/logo.png', data, 'image/png'), width: info.width, height: info.height };
    } catch (err) {
      throw logoError(path, origin, `is not a PNG, JPEG, WebP or SVG image (${(err as Error).message})`);
    }
  }
  return result;
}

/** How long a process shows an organisation name before it reads it again (`portal init` may change it). */
const NAME_TTL_MS = 30_000;

/**
 * Puts the name for the page header in `c.var.siteName`: the configured `branding.name`, else
 * the organisation's name from `portal init`, read at most every 30 seconds rather than per page.
 */
export function siteNameMiddleware(portal: Pick<Portal, 'em'>, branding: Branding): MiddlewareHandler<AppEnv> {
  let cached: { name: string; until: number } | undefined;
  return async (c, next) => {
    if (branding.name) {
      c.set('siteName', branding.name);
    } else {
      // A cache's age, not the date: the monotonic clock.
      const now = performance.now();
      if (!cached || cached.until <= now) cached = { name: (await getOrganisation(portal.em())).name, until: now + NAME_TTL_MS };
      c.set('siteName', cached.name);
    }
    await next();
  };
}
