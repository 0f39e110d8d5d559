import type { Hono } from 'hono';
import { setOwnLanguage } from '../../core/auth/profile.ts';
import { isLanguage } from '../../views/i18n/index.ts';
import type { AppEnv } from '../env.ts';
import { readForm, seeOther } from '../forms.ts';
import { LANGUAGE_PATH, rememberLanguage } from '../middleware/language.ts';

/** Only a path on this site: `/x`, never `//evil.example` or `/\evil.example`. */
function backTo(path: string | undefined): string {
  return path && /^\/(?![/\\])/.test(path) && !/[\r\n]/.test(path) ? path : '/';
}

/**
 * The language switch in every page's footer: a small form (with CSRF token, works without
 * JavaScript) that remembers the choice in the `lang` cookie and, for a logged-in person, in the
 * profile; then back to the page it came from. Public and before the login gate, so the login
 * page and a session that still owes a step can switch too. A GET never saves a language.
 */
export function languageRoutes(app: Hono<AppEnv>, deps: { secure: boolean }): void {
  app.post(LANGUAGE_PATH, async (c) => {
    const form = await readForm(c);
    const lang = form['lang'];
    const back = backTo(form['terug']);
    if (!isLanguage(lang)) return seeOther(c, back);
    rememberLanguage(c, lang, deps.secure);
    const session = c.var.session;
    if (session) await setOwnLanguage(c.var.em, session, lang);
    return seeOther(c, back);
  });
}
