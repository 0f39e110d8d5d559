import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { DEFAULT_LANGUAGE, translate, translator } from '../views/i18n/index.ts';
import type { Assets } from './assets.ts';
import type { AppEnv } from './env.ts';
import { LANGUAGE_QUERY, otherLanguage } from './middleware/language.ts';

export interface Pages {
  /**
   * Renders views/<template>.eta with the data every page needs (language, `t`, CSRF token,
   * asset URLs, the language switch) plus `data`, and returns it as an HTML response.
   */
  render(
    c: Context<AppEnv>,
    template: string,
    data?: Record<string, unknown>,
    status?: ContentfulStatusCode,
  ): Response;
}

/**
 * Eta with auto-escaping on: `<%= %>` escapes & < > " ', and raw output (`<%~ %>`) is kept
 * for the layout's body and includes, never for data. Templates are compiled once and cached.
 */
const eta = new Eta({
  views: fileURLToPath(new URL('../views/', import.meta.url)),
  autoEscape: true,
  cache: true,
});

/** The current path without its query, made safe to use as a link ("//evil.example" → "/evil.example"). */
function samePageHref(path: string, query: string): string {
  return `/${path.replace(/^[/\\]+/, '')}?${query}`;
}

export function createPages(assets: Assets): Pages {
  return {
    render(c, template, data = {}, status = 200) {
      // The error handler may render before every middleware ran; fall back rather than fail.
      const lang = c.get('lang') ?? DEFAULT_LANGUAGE;
      const t = c.get('t') ?? translator(lang);
      const other = otherLanguage(lang);
      const html = eta.render(template, {
        lang,
        t,
        siteName: t('app.name'),
        csrfToken: c.get('csrfToken')?.() ?? '',
        requestId: c.get('requestId') ?? '',
        assets: { css: assets.css.url, htmx: assets.htmx.url },
        langSwitch: {
          href: samePageHref(c.req.path, `${LANGUAGE_QUERY}=${other}`),
          lang: other,
          label: translate(other, 'lang.self'),
        },
        ...data,
      });
      return c.html(html, status);
    },
  };
}
