import type { Hono } from 'hono';
import type { AuthedEnv } from '../../http/env.ts';
import type { PluginContext } from '../types.ts';
import { faqForActor } from './entries.ts';

/**
 * /p/faq (behind the login gate): the FAQ of the actor's own locations, searched on the server
 * (`?q=`), so the search box works without JavaScript. Found entries are shown open.
 */
export function faqRoutes(app: Hono<AuthedEnv>, ctx: PluginContext): void {
  app.get('/', async (c) => {
    const actor = c.var.actor;
    const q = (c.req.query('q') ?? '').trim().slice(0, 100);
    const sections = await faqForActor(c.var.em, actor, c.var.lang, q);
    const count = sections.reduce((n, s) => n + s.items.length, 0);
    return ctx.pages.render(c, '@faq/pages/faq', {
      action: ctx.base,
      q,
      count,
      // While searching, a location without hits says nothing; without a search every one shows.
      sections: q ? sections.filter((s) => s.items.length) : sections,
      named: sections.length > 1 || sections[0]?.location !== null,
    });
  });
}
