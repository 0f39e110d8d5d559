import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { Location } from './location.ts';
import { stamp } from '../clock.ts';

/** A groep of a location. Removed groups are archived, never deleted: placements point at them. */
export const Group = defineEntity({
  name: 'Group',
  tableName: 'care_group',
  indexes: [
    {
      // Names are unique per location among the groups in use; archived ones may repeat.
      name: 'care_group_location_name_unique',
      expression:
        'create unique index "care_group_location_name_unique" on "care_group" ("location_id", lower("name")) where "archived_at" is null',
    },
  ],
  properties: {
    id: p.integer().primary(),
    location: p.manyToOne(Location),
    name: p.string().length(200),
    capacity: p.integer().nullable(),
    archivedAt: p.datetime().nullable(),
    createdAt: p.datetime().onCreate(stamp),
    updatedAt: p
      .datetime()
      .onCreate(stamp)
      .onUpdate(stamp),
  },
});
export type IGroup = InferEntity<typeof Group>;
