import { createRoute, z } from '@hono/zod-openapi';
import type { ApiModule } from '../../http/api/deps.ts';
import { errors, json } from '../../http/api/schemas.ts';
import { faqForActor } from './entries.ts';

/**
 * GET /api/v1/faq: the same questions the FAQ page shows this account (its locations, their
 * rules filled in), answers as the same safe HTML the page renders; `q` searches as the page does.
 */

const FaqItemSchema = z
  .object({
    slug: z.string(),
    category: z.string(),
    question: z.string(),
    answerHtml: z.string().openapi({ description: 'Rendered from Markdown without raw HTML; links only http(s), mailto, tel or the portal' }),
  })
  .openapi('FaqItem');

const FaqSectionSchema = z
  .object({
    location: z.object({ id: z.number(), name: z.string() }).nullable().openapi({ description: 'null: the organisation-wide questions' }),
    items: z.array(FaqItemSchema),
  })
  .openapi('FaqSection');

const getFaq = createRoute({
  method: 'get',
  path: '/faq',
  operationId: 'getFaq',
  tags: ['FAQ'],
  summary: 'Questions and answers on cancelling and swapping days, per location of this account',
  request: {
    query: z.object({
      q: z.string().max(200).optional().openapi({ description: 'Search words; every word must match (case and accents do not matter)' }),
      lang: z.enum(['nl', 'en']).optional().openapi({ description: "Default: the account's language" }),
    }),
  },
  responses: { 200: json(z.object({ sections: z.array(FaqSectionSchema) }).openapi('Faq'), 'The FAQ'), ...errors() },
});

export const faqApi: ApiModule = (api) => {
  api.openapi(getFaq, async (c) => {
    const { q, lang } = c.req.valid('query');
    const account = c.var.api.account;
    const language = lang ?? account.parent?.language ?? account.staff?.language ?? 'nl';
    const sections = await faqForActor(c.var.em, c.var.api.actor, language, q);
    return c.json(
      { sections: sections.map((s) => ({ location: s.location, items: s.items.map(({ source: _s, ...item }) => item) })) },
      200,
    );
  });
};
