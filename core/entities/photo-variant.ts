import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { Parent } from './parent.ts';
import { Photo } from './photo.ts';

/**
 * One kept image variant of a photo's display image ("1024.avif"): made on first request from
 * `displayKey` and stored under `key` in the photo store. With a parent it is that parent's
 * traced copy (core/photos/traced-views.ts); without one the shared, untraced copy for staff.
 * A cache of derived files only: it goes with its photo or parent.
 */
export const PhotoVariant = defineEntity({
  name: 'PhotoVariant',
  tableName: 'photo_variant',
  uniques: [{ properties: ['photo', 'parent', 'variant'] }],
  properties: {
    id: p.bigint('number').primary(),
    photo: p.manyToOne(Photo).deleteRule('cascade'),
    parent: p.manyToOne(Parent).nullable().deleteRule('cascade'),
    variant: p.string().length(16),
    displayKey: p.string().length(64),
    key: p.string().length(64),
  },
});
export type IPhotoVariant = InferEntity<typeof PhotoVariant>;
