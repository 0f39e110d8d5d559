import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { stamp } from '../clock.ts';

export const LANGUAGES = ['nl', 'en'] as const;
export type Language = (typeof LANGUAGES)[number];

/** The one organisation this portal serves (a single row, id 1), set up by `portal init`. */
export const Organisation = defineEntity({
  name: 'Organisation',
  tableName: 'organisation',
  checks: [{ name: 'organisation_single_row', expression: 'id = 1' }],
  properties: {
    id: p.integer().primary().autoincrement(false),
    name: p.string().length(200),
    publicUrl: p.string().length(500).nullable(),
    helpdeskEmail: p.string().length(320).nullable(),
    defaultLanguage: p.enum(['nl', 'en'] as Language[]).default('nl'),
    createdAt: p.datetime().onCreate(stamp),
    updatedAt: p
      .datetime()
      .onCreate(stamp)
      .onUpdate(stamp),
  },
});
export type IOrganisation = InferEntity<typeof Organisation>;
