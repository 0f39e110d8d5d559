import type { Hono } from 'hono';
import { getOrganisation } from '../../core/directory/organisation.ts';
import type { Portal } from '../../core/portal.ts';
import type { Branding } from '../branding.ts';
import { LANGUAGES } from '../../views/i18n/index.ts';
import type { AppEnv } from '../env.ts';
import { API_BASE, API_VERSION } from './app.ts';

export const WELL_KNOWN_PATH = '/.well-known/ouderportaal.json';

/**
 * What an app needs to connect when a parent types just the portal's address: the
 * organisation's name and logo, the languages, and where the API lives. Public (the app reads
 * it before anyone logs in) and the same for everyone, so caches may keep it a few minutes.
 */
export function wellKnownRoutes(app: Hono<AppEnv>, portal: Pick<Portal, 'em'>, publicUrl: string | undefined, branding: Branding = {}): void {
  app.get(WELL_KNOWN_PATH, async (c) => {
    const organisation = await getOrganisation(portal.em());
    // The configured address first: behind a proxy the request's own URL may be an internal one.
    const base = (publicUrl ?? organisation.publicUrl ?? new URL(c.req.url).origin).replace(/\/+$/, '');
    c.header('Cache-Control', 'public, max-age=300');
    return c.json({
      name: branding.name ?? organisation.name,
      // Versioned by content, so an app may keep it until the URL changes.
      logoUrl: branding.logo ? `${base}${branding.logo.url}` : null,
      accentColour: branding.accentColour ?? null,
      languages: [...LANGUAGES],
      defaultLanguage: organisation.defaultLanguage,
      api: `${base}${API_BASE}`,
      apiVersion: API_VERSION,
      reference: `${base}${API_BASE}/docs`,
    });
  });
}
