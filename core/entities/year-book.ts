import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { Child } from './child.ts';
import { Parent } from './parent.ts';

/**
 * A parent's year book of one child (core/yearbook): when the offer was mailed (once) and when the
 * book was last made (at most once an hour). The book itself is never stored: it is made on request.
 */
export const YearBook = defineEntity({
  name: 'YearBook',
  tableName: 'year_book',
  uniques: [{ properties: ['child', 'parent'] }],
  indexes: [{ properties: ['parent'] }],
  properties: {
    id: p.integer().primary(),
    child: p.manyToOne(Child).deleteRule('cascade'),
    parent: p.manyToOne(Parent).deleteRule('cascade'),
    offeredAt: p.datetime().nullable(),
    lastBuiltAt: p.datetime().nullable(),
    builds: p.integer().default(0),
  },
});
export type IYearBook = InferEntity<typeof YearBook>;
