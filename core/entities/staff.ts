import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import type { Language } from './organisation.ts';
import { stamp } from '../clock.ts';

export const STAFF_ROLES = ['staff', 'manager', 'admin'] as const;
export type StaffRole = (typeof STAFF_ROLES)[number];

/** A pedagogisch medewerker, locatiemanager or administrator. `email` is stored normalised. */
export const Staff = defineEntity({
  name: 'Staff',
  tableName: 'staff',
  properties: {
    id: p.integer().primary(),
    email: p.string().length(320).unique(),
    firstName: p.string().length(100),
    infix: p.string().length(50).nullable(),
    lastName: p.string().length(100),
    phone: p.string().length(30).nullable(),
    role: p.enum(['staff', 'manager', 'admin'] as StaffRole[]),
    language: p.enum(['nl', 'en'] as Language[]).default('nl'),
    /** False from `portal staff deactivate` until `reactivate`: login refused, every staff rule void. */
    active: p.boolean().default(true),
    /** When and why the staff member was deactivated; assignments stay for a reactivation. */
    deactivatedAt: p.datetime().nullable(),
    deactivatedReason: p.string().length(500).nullable(),
    createdAt: p.datetime().onCreate(stamp),
    updatedAt: p
      .datetime()
      .onCreate(stamp)
      .onUpdate(stamp),
  },
});
export type IStaff = InferEntity<typeof Staff>;
