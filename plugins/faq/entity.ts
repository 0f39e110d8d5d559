import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { Location } from '../../core/entities/location.ts';
import { stamp } from '../../core/clock.ts';

export const FAQ_LANGUAGES = ['nl', 'en'] as const;
export type FaqLanguage = (typeof FAQ_LANGUAGES)[number];

/**
 * One question and answer of the FAQ, imported from a Markdown file (`portal faq import`).
 * `location` null is the organisation-wide set; a location's entry with the same slug replaces
 * the organisation's for that location. `answer` (and `question`) keep the Markdown source with
 * its {{placeholders}}: the numbers are filled in from the rules when the page is shown, so a
 * change of the rules never needs a new import.
 */
export const FaqEntry = defineEntity({
  name: 'FaqEntry',
  tableName: 'faq_entry',
  indexes: [
    {
      name: 'faq_entry_location_language_slug_unique',
      expression:
        'create unique index "faq_entry_location_language_slug_unique" on "faq_entry" ("location_id", "language", "slug") where "location_id" is not null',
    },
    {
      // NULL is distinct in a plain unique index, so the organisation's rows need their own.
      name: 'faq_entry_organisation_language_slug_unique',
      expression:
        'create unique index "faq_entry_organisation_language_slug_unique" on "faq_entry" ("language", "slug") where "location_id" is null',
    },
  ],
  properties: {
    id: p.integer().primary(),
    location: p.manyToOne(Location).nullable().deleteRule('cascade'),
    language: p.string().length(2),
    slug: p.string().length(80),
    category: p.string().length(40),
    question: p.string().length(300),
    answer: p.text(),
    position: p.integer(),
    updatedAt: p
      .datetime()
      .onCreate(stamp)
      .onUpdate(stamp),
  },
});
export type IFaqEntry = InferEntity<typeof FaqEntry>;
