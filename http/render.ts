import { Eta } from 'eta';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { DEFAULT_LANGUAGE, translate, translator } from '../views/i18n/index.ts';
import type { Assets } from './assets.ts';
import type { Branding } from './branding.ts';
import type { WebContext } from './env.ts';
import type { ShellLinks } from './shell.ts';
import type { InlineStyle } from './inline-style.ts';
import { takeFlash } from './flash.ts';
import { LANGUAGE_PATH, otherLanguage } from './middleware/language.ts';
import { landingPath } from './middleware/session.ts';
import { currentHref, type NavItem, navFor } from './nav.ts';
import type { Actor } from '../core/actor.ts';
import { projectPath } from '../core/project-root.ts';

export interface Pages {
  /**
   * Renders views/<template>.eta with the data every page needs (language, `t`, CSRF token,
   * asset URLs, the language switch, who is logged in, the navigation, a pending flash message)
   * plus `data`, and returns it as an HTML response. `data.flashParams` fills in the flash text.
   */
  render(
    c: WebContext,
    template: string,
    data?: Record<string, unknown>,
    status?: ContentfulStatusCode,
  ): Promise<Response>;
}

/**
 * Eta with auto-escaping on: `<%= %>` escapes & < > " ', and raw output (`<%~ %>`) is kept
 * for the layout's body and includes, never for data. Templates are compiled once and cached.
 */
const eta = new Eta({
  views: projectPath('views'),
  autoEscape: true,
  cache: true,
});

/** This page's path, never one that leaves the site (`//evil.example`). */
function samePagePath(path: string): string {
  return `/${path.replace(/^[/\\]+/, '')}`;
}

/** A plugin's template, rendered as `@<id>/<name>` (plugins/mount.ts loads them). */
export function registerTemplate(name: string, source: string): void {
  eta.loadTemplate(name, source);
}

/** Full pages: core's `pages/…` and a plugin's `@<id>/pages/…`. */
const isPage = (template: string) => template.startsWith('pages/') || /^@[a-z0-9-]+\/pages\//.test(template);

export interface PageExtras {
  /** Navigation entries of plugins for this actor, after core's. */
  nav?(actor: Actor): NavItem[];
  /** Where the Help link in the header leads (default /help). */
  helpHref?: string;
  /** The organisation's name, logo and colours (http/branding.ts). */
  branding?: Branding;
  /** Manifest, icons, theme colour and service worker registration (http/shell.ts). */
  shell?: ShellLinks;
  /**
   * The stylesheet to inline in <head> (http/inline-style.ts); its hash must be in the CSP.
   * Without it pages link the stylesheet (a second, render-blocking round trip).
   */
  style?: InlineStyle;
}

/**
 * A `<link>` a page wants early in <head>, before the stylesheet: e.g. the photo page preloads
 * the image size it will show (`{ rel: 'preload', as: 'image', href, imagesrcset, imagesizes,
 * fetchpriority: 'high' }`). Pass them as `head: HeadLink[]` in the render data or the template's
 * layout() call. Values are escaped; only these attributes exist.
 */
export interface HeadLink {
  rel: 'preload' | 'prefetch' | 'preconnect' | 'modulepreload';
  href: string;
  as?: 'image' | 'style' | 'script' | 'font' | 'fetch';
  type?: string;
  imagesrcset?: string;
  imagesizes?: string;
  fetchpriority?: 'high' | 'low' | 'auto';
  crossorigin?: 'anonymous' | 'use-credentials';
}

/**
 * The same preloads as a `Link` response header: the browser acts on it as soon as the headers
 * arrive, before the HTML itself (on a slow line that comes in one piece, ~20 ms per KB later).
 * Attribute values are quoted, so a srcset's commas stay inside it.
 */
export function linkHeader(links: readonly HeadLink[]): string {
  const quoted = (value: string) => `"${value.replace(/["\\\r\n]/g, '')}"`;
  return links
    .filter((link) => link.rel === 'preload')
    .map((link) => {
      // Our own paths; anything that could end the <…> or the header is percent-encoded.
      const params = [`<${link.href.replace(/[^\x21-\x7e]|[<>]/g, encodeURIComponent)}>`, 'rel=preload'];
      if (link.as) params.push(`as=${link.as}`);
      if (link.type) params.push(`type=${quoted(link.type)}`);
      if (link.imagesrcset) params.push(`imagesrcset=${quoted(link.imagesrcset)}`);
      if (link.imagesizes) params.push(`imagesizes=${quoted(link.imagesizes)}`);
      if (link.fetchpriority) params.push(`fetchpriority=${link.fetchpriority}`);
      if (link.crossorigin) params.push(`crossorigin=${link.crossorigin}`);
      return params.join('; ');
    })
    .join(', ');
}

export function createPages(assets: Assets, extras: PageExtras = {}): Pages {
  return {
    async render(c, template, data = {}, status = 200) {
      // The error handler may render before every middleware ran; fall back rather than fail.
      const lang = c.var.lang ?? DEFAULT_LANGUAGE;
      const t = c.var.t ?? translator(lang);
      const other = otherLanguage(lang);
      const session = c.var.session;
      // The navigation only for a session that owes no step (second factor, forced change).
      const nav =
        session && landingPath(session) === '/' ? [...navFor(session.actor), ...(extras.nav?.(session.actor) ?? [])] : undefined;
      const counts = nav && !c.var.navCounts && c.var.navCount ? { '/berichten': await c.var.navCount() } : c.var.navCounts;
      // Full pages show (and use up) the flash message; fragments leave it for the next page.
      const flash = isPage(template) ? takeFlash(c) : undefined;
      const html = eta.render(template, {
        lang,
        t,
        logo: extras.branding?.logo && { url: extras.branding.logo.url, width: extras.branding.logo.width, height: extras.branding.logo.height },
        csrfToken: c.var.csrfToken?.() ?? '',
        requestId: c.var.requestId ?? '',
        shell: extras.shell,
        assets: { css: assets.css.url, theme: extras.branding?.theme?.url, htmx: assets.htmx.url, upload: assets.upload.url, photoViewer: assets.photoViewer.url, loader: assets.loader.url },
        inlineCss: extras.style?.css,
        // Layout options a page may override in its data or in its layout() call (base.eta):
        // `wide` for grids, staff screens and tables; `head` for early <link>s (HeadLink).
        wide: false,
        head: [] as HeadLink[],
        langSwitch: {
          action: LANGUAGE_PATH,
          back: samePagePath(c.req.path),
          lang: other,
          label: translate(other, 'lang.self'),
        },
        helpHref: `${extras.helpHref ?? '/help'}?from=${encodeURIComponent(c.req.path)}`,
        user: session ? { name: session.name, firstName: session.firstName } : undefined,
        nav: nav?.map((item) => ({
          ...item,
          current: item.href === currentHref(nav, c.req.path),
          count: counts?.[item.href] ?? 0,
        })),
        flash: flash ? t(`flash.${flash}`, data['flashParams'] as Record<string, string> | undefined) : undefined,
        ...data,
        // The header's name (siteNameMiddleware); an error page rendered before it ran still gets one.
        siteName: c.var.siteName ?? extras.branding?.name ?? t('app.name'),
      });
      // Preloads a route passes in its data (not those of a template's layout() call) also go
      // out as a header; a fragment has no <head> and gets none.
      const early = isPage(template) ? linkHeader((data['head'] as HeadLink[] | undefined) ?? []) : '';
      if (early) c.header('Link', early);
      return c.html(html, status);
    },
  };
}
