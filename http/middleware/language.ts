import type { MiddlewareHandler } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { DEFAULT_LANGUAGE, isLanguage, type Language, LANGUAGES, translator } from '../../views/i18n/index.ts';
import type { AppEnv } from '../env.ts';

export const LANGUAGE_COOKIE = 'lang';
export const LANGUAGE_QUERY = 'lang';
const ONE_YEAR_S = 365 * 24 * 60 * 60;

/**
 * Picks the first supported language of an Accept-Language header by quality ("nl-BE" counts
 * as nl). Returns undefined when none fits, so the caller falls back to Dutch.
 */
export function fromAcceptLanguage(header: string | undefined): Language | undefined {
  if (!header) return undefined;
  const ranked = header
    .split(',')
    .map((part, index) => {
      const [range = '', ...params] = part.trim().split(';');
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      const quality = q ? Number(q.slice(2)) : 1;
      return { base: range.trim().toLowerCase().split('-')[0] ?? '', quality: Number.isNaN(quality) ? 0 : quality, index };
    })
    .filter((r) => r.quality > 0)
    .sort((a, b) => b.quality - a.quality || a.index - b.index);
  return ranked.find((r) => isLanguage(r.base))?.base as Language | undefined;
}

/**
 * Dutch unless the visitor asked otherwise: `?lang=en` (the switch link in the footer, which
 * also remembers the choice in a cookie), then that cookie, then the browser's Accept-Language.
 * Once people log in, their profile language will come before all of these.
 */
export function language(options: { secure: boolean }): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const asked = c.req.query(LANGUAGE_QUERY);
    const remembered = getCookie(c, LANGUAGE_COOKIE);
    let lang: Language;
    if (isLanguage(asked)) {
      lang = asked;
      if (asked !== remembered) {
        setCookie(c, LANGUAGE_COOKIE, asked, {
          path: '/',
          maxAge: ONE_YEAR_S,
          httpOnly: true,
          sameSite: 'Lax',
          secure: options.secure,
        });
      }
    } else if (isLanguage(remembered)) {
      lang = remembered;
    } else {
      lang = fromAcceptLanguage(c.req.header('Accept-Language')) ?? DEFAULT_LANGUAGE;
    }
    c.set('lang', lang);
    c.set('t', translator(lang));
    await next();
  };
}

/** The language the switch link offers: the other one of the two. */
export function otherLanguage(lang: Language): Language {
  return LANGUAGES.find((l) => l !== lang) ?? DEFAULT_LANGUAGE;
}
