import { html, raw } from 'hono/html';
import type { LocationSection } from '../../http/location-sections.ts';
import { translator } from '../../views/i18n/index.ts';
import type { PluginContext } from '../types.ts';
import { faqForMyLocation } from './entries.ts';

/**
 * The FAQ on Mijn vestiging: a search box (a plain GET to the FAQ page, so it works without
 * JavaScript) and the location's questions as <details>, numbers from that location's rules.
 * Questions are escaped by html``; answers are markdown-it's output (HTML off, links checked),
 * the only thing that goes in through raw().
 */
export function faqSection(ctx: PluginContext): LocationSection {
  return {
    id: 'faq',
    async render(c, location) {
      const items = await faqForMyLocation(c.var.em, location, c.var.lang);
      if (items.length === 0) return undefined;
      const t = translator(c.var.lang);
      const id = `faq-q-${location.id}`;
      return {
        heading: t('faq.sectionHeading'),
        body: html`<form method="get" action="${ctx.base}" class="inline-form" role="search">
      <label for="${id}">${t('faq.searchLabel')}</label>
      <input type="text" id="${id}" name="q" maxlength="100" enterkeyhint="search">
      <button type="submit" class="button button-quiet">${t('faq.searchButton')}</button>
    </form>
    <div class="faq">
${items.map((i) => html`      <details data-slug="${i.slug}"><summary>${i.question}</summary>${raw(i.answerHtml)}</details>\n`)}    </div>`,
      };
    },
  };
}
