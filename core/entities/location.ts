import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { Staff } from './staff.ts';
import { stamp } from '../clock.ts';

/** A vestiging, with the numbers parents need (phone for urgent matters) and its locatiemanager. */
export const Location = defineEntity({
  name: 'Location',
  tableName: 'location',
  indexes: [
    {
      name: 'location_name_lower_unique',
      expression: 'create unique index "location_name_lower_unique" on "location" (lower("name"))',
    },
  ],
  properties: {
    id: p.integer().primary(),
    name: p.string().length(200),
    address: p.string().length(500).nullable(),
    phone: p.string().length(30).nullable(),
    email: p.string().length(320).nullable(),
    openingHours: p.string().length(500).nullable(),
    /** When staff read messages, as HH:MM ("12:00"): the compose page tells parents. */
    messagesReadAt: p.string().length(5).default('12:00'),
    /** Registration number in the Landelijk Register Kinderopvang (9 digits), shown on mijn vestiging. */
    lrk: p.string().length(9).nullable(),
    manager: p.manyToOne(Staff).nullable().deleteRule('set null'),
    createdAt: p.datetime().onCreate(stamp),
    updatedAt: p
      .datetime()
      .onCreate(stamp)
      .onUpdate(stamp),
  },
});
export type ILocation = InferEntity<typeof Location>;

/** How parents reach a location, as shown and exported: absent values as null. */
export function locationContact(l: ILocation): {
  address: string | null;
  phone: string | null;
  email: string | null;
  openingHours: string | null;
  lrk: string | null;
} {
  return { address: l.address ?? null, phone: l.phone ?? null, email: l.email ?? null, openingHours: l.openingHours ?? null, lrk: l.lrk ?? null };
}
