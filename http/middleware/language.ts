import type { Context, MiddlewareHandler } from 'hono';
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

/** Where the language switch posts its choice (http/routes/language.ts). */
export const LANGUAGE_PATH = '/taal';

/** The `lang` cookie that remembers a visitor's choice (set only by POST /taal). */
export function rememberLanguage(c: Context<AppEnv>, lang: Language, secure: boolean): void {
  setCookie(c, LANGUAGE_COOKIE, lang, { path: '/', maxAge: ONE_YEAR_S, httpOnly: true, sameSite: 'Lax', secure });
}

/**
 * Dutch unless the visitor asked otherwise: `?lang=en` (this response only: a GET never writes,
 * not even a cookie), then the cookie that the language switch (a POST to /taal) set, then the
 * browser's Accept-Language. For a logged-in person the profile language comes before the cookie
 * and the browser (http/middleware/session.ts).
 */
export function language(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const asked = c.req.query(LANGUAGE_QUERY);
    const remembered = getCookie(c, LANGUAGE_COOKIE);
    let lang: Language;
    if (isLanguage(asked)) {
      lang = asked;
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
